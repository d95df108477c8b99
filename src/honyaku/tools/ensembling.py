"""Ensembles: models of one vocabulary that search together, each step's output distributions averaged.

``honyaku ensemble -m DIR -m DIR ... -o OUT`` writes a model directory like any other: the members' config,
vocabularies, subword and casing files (which they must share), one weights file holding every member
(``members.N.*``), and ``ensemble.yaml`` with each member's model config, where it came from, and its training
record. Translating, evaluating, tuning the length penalty, serving and bundling then treat OUT as one model.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.inference.translator import Translator
from honyaku.modeldir import ENSEMBLE_FILE, MODEL_FILES, WEIGHTS_FILE, copy_model_files, save_weights
from honyaku.models.ensemble import Ensemble
from honyaku.tools.bundle import training_record


def ensemble(model_dirs: list[str | Path], out_dir: str | Path) -> Path:
    """Write ``out_dir``, the ensemble of ``model_dirs`` (runs, averaged runs or bundled models of one
    direction, vocabulary and subword model). Its config is the first member's, with its decoding settings;
    tune the length penalty of the ensemble afterwards (``honyaku tune``)."""
    model_dirs, out_dir = [Path(d) for d in model_dirs], Path(out_dir)
    if len(model_dirs) < 2:
        raise HonyakuError("an ensemble needs at least two models: give -m once for each")
    if any(out_dir.exists() and out_dir.resolve() == d.resolve() for d in model_dirs):
        raise HonyakuError(f"{out_dir}: choose an output directory other than the members")
    translators = [Translator.load(d, device="cpu", backend="torch") for d in model_dirs]  # their networks
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
