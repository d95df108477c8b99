"""Ensembles: models of one vocabulary that search together, each step's output distributions averaged.

``honyaku ensemble -m DIR -m DIR ... -o OUT`` writes a model directory like any other: the members' config,
vocabularies, subword and casing files (which they must share), one weights file holding every member
(``members.N.*``), and ``ensemble.yaml`` with each member's model config, where it came from, and its training
record. Translating, evaluating, tuning the length penalty, serving and bundling then treat OUT as one model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from honyaku.core.config import Config, model_config_from_dict
from honyaku.core.errors import HonyakuError
from honyaku.models.factory import build_model

ENSEMBLE_FILE = "ensemble.yaml"


class Ensemble(nn.Module):
    """The interface of ``honyaku.models.factory`` over several models. Its scores are the log of the mean of the
    members' probabilities (as fairseq ensembles), already normalised; its state is one state per member."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return log_mean_probability([member(src, src_lengths, tgt_in) for member in self.members])  # (B, T, V)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> list[Any]:
        return [member.encode(src, src_lengths) for member in self.members]

    def decode_step(self, state: list[Any], prev_tokens: torch.Tensor) -> tuple[torch.Tensor, list[Any]]:
        steps = [member.decode_step(own, prev_tokens) for member, own in zip(self.members, state)]
        return log_mean_probability([logits for logits, _ in steps]), [own for _, own in steps]  # (B, V)

    def select_state(self, state: list[Any], index: torch.Tensor) -> list[Any]:
        return [member.select_state(own, index) for member, own in zip(self.members, state)]


def log_mean_probability(logits: list[torch.Tensor]) -> torch.Tensor:
    """log(mean_m softmax(logits_m)) of the members' (..., V) scores."""
    log_probs = torch.stack([scores.float().log_softmax(-1) for scores in logits])  # (M, ..., V)
    return log_probs.logsumexp(0) - math.log(len(logits))


def read_members(model_dir: Path) -> list[dict[str, Any]]:
    """The ``ensemble.yaml`` entries of a model directory: ``source``, ``model`` (a mapping), ``training``;
    none for a directory of one model."""
    path = model_dir / ENSEMBLE_FILE
    if not path.is_file():
        return []
    try:
        members = yaml.safe_load(path.read_text(encoding="utf-8")).get("members")
    except (OSError, UnicodeDecodeError, AttributeError, yaml.YAMLError) as error:
        raise HonyakuError(f"{path}: unreadable ensemble description ({type(error).__name__})") from None
    if not isinstance(members, list) or len(members) < 2:
        raise HonyakuError(f"{path}: 'members' must list at least two models")
    return members


def build_directory_model(model_dir: Path, config: Config, src_vocab_size: int, tgt_vocab_size: int, pad_id: int):
    """The model a directory's weights fit: ``config.model``, or an ``Ensemble`` where ``ensemble.yaml`` is."""
    members = read_members(model_dir)
    if not members:
        return build_model(config.model, src_vocab_size, tgt_vocab_size, pad_id)
    models = []
    for number, member in enumerate(members):
        where = f"{model_dir / ENSEMBLE_FILE}: members[{number}]"
        model_config = model_config_from_dict(member.get("model") if isinstance(member, dict) else None, where)
        models.append(build_model(model_config, src_vocab_size, tgt_vocab_size, pad_id))
    return Ensemble(models)


def ensemble(model_dirs: list[str | Path], out_dir: str | Path) -> Path:
    """Write ``out_dir``, the ensemble of ``model_dirs`` (runs, averaged runs or bundled models of one
    direction, vocabulary and subword model). Its config is the first member's, with its decoding settings;
    tune the length penalty of the ensemble afterwards (``honyaku tune``)."""
    from honyaku.checkpoint import WEIGHTS_FILE, save_weights
    from honyaku.core.files import atomic_directory
    from honyaku.prediction import Translator
    from honyaku.pretrained import MODEL_FILES, copy_model_files, training_record

    model_dirs, out_dir = [Path(d) for d in model_dirs], Path(out_dir)
    if len(model_dirs) < 2:
        raise HonyakuError("an ensemble needs at least two models: give -m once for each")
    if any(out_dir.exists() and out_dir.resolve() == d.resolve() for d in model_dirs):
        raise HonyakuError(f"{out_dir}: choose an output directory other than the members")
    translators = [Translator.load(d, device="cpu") for d in model_dirs]
    first_dir, first = model_dirs[0], translators[0]
    for model_dir, translator in zip(model_dirs, translators):
        if isinstance(translator.model, Ensemble):
            raise HonyakuError(f"{model_dir}: is an ensemble already; give its members instead")
        if translator.direction != first.direction:
            raise HonyakuError(
                f"{model_dir}: translates {'→'.join(translator.direction)}, {first_dir} {'→'.join(first.direction)}"
            )
        for name in MODEL_FILES[1:]:  # all but the config: vocabularies, subword and casing files, ensemble.yaml
            if _content(model_dir / name) != _content(first_dir / name):
                raise HonyakuError(f"{model_dir}: its {name} differs from {first_dir}'s; members must share it")
    members = [
        {"source": str(d), "model": t.config.to_dict()["model"], "training": training_record(d, t.config.name)}
        for d, t in zip(model_dirs, translators)
    ]
    with atomic_directory(out_dir) as staged:
        copy_model_files(first_dir, staged)
        text = yaml.safe_dump({"members": members}, sort_keys=False, allow_unicode=True)
        (staged / ENSEMBLE_FILE).write_text(text, encoding="utf-8")
        save_weights(Ensemble([t.model for t in translators]), staged / WEIGHTS_FILE)
    return out_dir


def _content(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None
