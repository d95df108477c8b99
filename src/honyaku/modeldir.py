"""A model directory — a training run, an averaged or bundled model, an ensemble — file by file: the names of
its files and how they are read and written. Training writes one, inference reads one, and average, ensemble,
bundle and export copy or convert one, all through this module.

| file | what |
|---|---|
| ``config.yaml`` | the resolved config (honyaku.core.config) |
| ``src_vocab.txt``, ``tgt_vocab.txt`` | the vocabularies (honyaku.data.vocabulary) |
| ``src.spm.model``, ``tgt.spm.model`` | SentencePiece models, with ``data.subwords`` (honyaku.data.subwords) |
| ``casing.tsv`` | English proper-noun casing, ja→en (honyaku.data.casing) |
| ``model.safetensors`` | the weights, with the hash of their content |
| ``ensemble.yaml`` | an ensemble's members, whose weights ``model.safetensors`` holds side by side |
| ``metrics.csv``, ``curves.png``, ``train.log`` | how it was trained: each evaluation, their plot, the log |
| ``averaged_from.txt`` | the checkpoints that averaged weights are the mean of |
| ``length_penalty.tsv``, ``MODEL_CARD.md`` | how its length penalty was tuned, and its card when bundled |
| ``ctranslate2/`` | its CTranslate2 conversion, made on first use, with ``honyaku_sha256``: the weights it is of |
| ``checkpoints/`` | a run's training checkpoints (honyaku.training.checkpoint): ``step-N/`` (weights and |
| | ``training_state.pt``), ``latest`` (the newest's name), ``best/`` (the best-k weights), ``before-stop/`` |
| ``eval/`` | ``honyaku evaluate``'s hypotheses, one file per split scored |
| ``train.store/`` | a run's encoded training pairs (honyaku.data.store): a link to its prepared data's store |
| ``prepared.json`` | in prepared data (honyaku.training.preparation), beside its files: what it is made from |

Every reader and writer takes these names from here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from honyaku.core.config import Config
from honyaku.core.config_files import load_config, model_config_from_dict, parse_yaml
from honyaku.core.errors import HonyakuError, first_line
from honyaku.core.files import atomic_path
from honyaku.data.casing import load_casing
from honyaku.data.subwords import Subwords, load_subwords
from honyaku.data.vocabulary import Vocabulary

if TYPE_CHECKING:
    from torch import nn

CONFIG_FILE = "config.yaml"
SRC_VOCAB_FILE = "src_vocab.txt"
TGT_VOCAB_FILE = "tgt_vocab.txt"
SUBWORD_FILES = ("src.spm.model", "tgt.spm.model")
CASING_FILE = "casing.tsv"
WEIGHTS_FILE = "model.safetensors"
ENSEMBLE_FILE = "ensemble.yaml"
METRICS_FILE = "metrics.csv"
CURVES_FILE = "curves.png"
LOG_FILE = "train.log"
AVERAGED_FROM_FILE = "averaged_from.txt"  # beside averaged weights: the checkpoints they are the mean of
TUNING_FILE = "length_penalty.tsv"  # beside a tuned config: each candidate length penalty's dev BLEU
CARD_FILE = "MODEL_CARD.md"
CTRANSLATE2_DIR = "ctranslate2"
CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "training_state.pt"  # in a checkpoint, beside its weights: optimizer, schedule, RNG, data position
LATEST_POINTER = "latest"  # in checkpoints/: the name of the newest checkpoint
BEST_DIR = "best"  # in checkpoints/ (and in before-stop/): the best-k weights
BEFORE_STOP_DIR = "before-stop"  # in checkpoints/: what a budget stop's evaluation replaced, until a resume
EVAL_DIR = "eval"
TRAINING_STORE = "train.store"  # a run's encoded training pairs (honyaku.data.store); not part of a model
PREPARED_INFO = "prepared.json"  # what a directory of prepared data was made from; written last
VOCABULARY_FILES = (SRC_VOCAB_FILE, TGT_VOCAB_FILE)
# What a model needs besides its weights, those it has of them.
MODEL_FILES = (CONFIG_FILE, SRC_VOCAB_FILE, TGT_VOCAB_FILE, CASING_FILE, *SUBWORD_FILES, ENSEMBLE_FILE)
HUB_PREFIX = "hf:"  # a model name that names a transformers model on the HuggingFace hub (honyaku.inference.hub)


def is_transformers_model(name: str | Path) -> bool:
    """``hf:NAME``, or a directory with a transformers ``config.json`` and no honyaku ``config.yaml``."""
    path = Path(name)
    return str(name).startswith(HUB_PREFIX) or (
        path.is_dir() and (path / "config.json").is_file() and not (path / CONFIG_FILE).is_file()
    )


@dataclass
class ModelDirectory:
    """What a model directory holds besides its weights, read once; ``model()`` builds and loads the network."""

    path: Path
    config: Config
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    subwords: tuple[Subwords, Subwords]
    casing: dict[str, str] | None

    @classmethod
    def read(cls, path: str | Path) -> ModelDirectory:
        path = Path(path)
        config = read_config(path)
        src_vocab, tgt_vocab = read_vocabularies(path)
        if not (path / WEIGHTS_FILE).is_file():
            raise HonyakuError(f"{path}: no {WEIGHTS_FILE} yet (training has not reached its first evaluation)")
        return cls(path, config, src_vocab, tgt_vocab, read_subwords(path, config), read_casing(path))

    @property
    def direction(self) -> tuple[str, str]:
        return self.config.data.src_lang, self.config.data.tgt_lang

    def model(self) -> nn.Module:
        """The network with the directory's weights: ``config.model``, or an ``Ensemble`` of its members."""
        model = build_directory_model(
            self.path, self.config, len(self.src_vocab), len(self.tgt_vocab), Vocabulary.pad_id
        )
        load_weights(model, self.path / WEIGHTS_FILE)
        return model


def read_config(model_dir: Path) -> Config:
    if not model_dir.is_dir():
        raise HonyakuError(f"{model_dir}: model directory not found")
    if not (model_dir / CONFIG_FILE).is_file():
        raise HonyakuError(f"{model_dir}: not a honyaku model directory (no {CONFIG_FILE})")
    return load_config(model_dir / CONFIG_FILE)


@dataclass(frozen=True)
class InitialModel:
    """What ``training.init_from`` names: the weights a fine-tuning run starts from, and the model directory
    whose vocabularies and subword models it reads and writes with."""

    directory: Path
    weights: Path
    config: Config

    @classmethod
    def find(cls, name: str) -> InitialModel:
        """``name``: a model directory (its ``model.safetensors``), a run's checkpoint directory or a weights
        file in a run (the run's directory holds the vocabularies)."""
        path = Path(name)
        if path.is_file() and path.suffix == ".safetensors":
            weights = path
        elif path.is_dir() and (path / WEIGHTS_FILE).is_file():
            weights = path / WEIGHTS_FILE
        else:
            raise HonyakuError(
                f"training.init_from: {name}: not a model directory, a checkpoint or a weights file "
                f"(no {WEIGHTS_FILE} there)"
            )
        directory = next((d for d in weights.parents if (d / CONFIG_FILE).is_file()), None)
        if directory is None:
            raise HonyakuError(f"training.init_from: {name}: in no model directory (no {CONFIG_FILE} above it)")
        return cls(directory, weights, read_config(directory))

    def files_for(self, config: Config) -> dict[str, Path]:
        """The vocabularies and subword models of this model by the names they take in a run of ``config``:
        its sides swapped where ``config`` translates the other way."""
        ours, theirs = (config.data.src_lang, config.data.tgt_lang), self.direction
        if ours not in (theirs, theirs[::-1]):
            raise HonyakuError(
                f"training.init_from: {self.directory} translates {'-'.join(theirs)}, which has not the "
                f"languages of this config's {'-'.join(ours)}"
            )
        if (config.data.subwords is None) != (self.config.data.subwords is None):
            reads = "pieces (data.subwords)" if self.config.data.subwords is not None else "words (no data.subwords)"
            raise HonyakuError(f"training.init_from: {self.directory} reads {reads}, and so must this config")
        swapped = ours != theirs
        files = {}
        for names in (VOCABULARY_FILES, SUBWORD_FILES):
            for name, their_name in zip(names, names[::-1] if swapped else names):
                if (self.directory / their_name).is_file():
                    files[name] = self.directory / their_name
        return files

    def vocabulary_sizes(self, config: Config) -> tuple[int, int]:
        """The sizes of its source and target vocabularies as a run of ``config`` reads them (sides swapped for
        the other direction): those its weights were made for."""
        files = self.files_for(config)
        return len(Vocabulary.load(files[SRC_VOCAB_FILE])), len(Vocabulary.load(files[TGT_VOCAB_FILE]))

    @property
    def direction(self) -> tuple[str, str]:
        return self.config.data.src_lang, self.config.data.tgt_lang


def read_vocabularies(model_dir: Path) -> tuple[Vocabulary, Vocabulary]:
    return Vocabulary.load(model_dir / SRC_VOCAB_FILE), Vocabulary.load(model_dir / TGT_VOCAB_FILE)


def write_vocabularies(model_dir: Path, src_vocab: Vocabulary, tgt_vocab: Vocabulary) -> None:
    src_vocab.save(model_dir / SRC_VOCAB_FILE)
    tgt_vocab.save(model_dir / TGT_VOCAB_FILE)


def remove_store(run_dir: Path) -> None:
    """Remove a run's store: the link to its prepared data (the data stays), or a store of its own."""
    store = run_dir / TRAINING_STORE
    if store.is_symlink() or store.is_file():
        store.unlink()
    elif store.exists():
        shutil.rmtree(store)


def subword_paths(model_dir: Path) -> tuple[Path, Path]:
    return model_dir / SUBWORD_FILES[0], model_dir / SUBWORD_FILES[1]


def read_subwords(model_dir: Path, config: Config) -> tuple[Subwords, Subwords]:
    return load_subwords(config.data, subword_paths(model_dir))


def read_casing(model_dir: Path) -> dict[str, str] | None:
    return load_casing(model_dir / CASING_FILE) if (model_dir / CASING_FILE).is_file() else None


def read_members(model_dir: Path) -> list[dict[str, Any]]:
    """The ``ensemble.yaml`` entries of a model directory: ``source``, ``model`` (a mapping), ``training``;
    none for a directory of one model."""
    path = model_dir / ENSEMBLE_FILE
    if not path.is_file():
        return []
    try:
        members = parse_yaml(path.read_text(encoding="utf-8")).get("members")
    except (OSError, UnicodeDecodeError, AttributeError, yaml.YAMLError) as error:
        raise HonyakuError(f"{path}: unreadable ensemble description ({type(error).__name__})") from None
    if not isinstance(members, list) or len(members) < 2:
        raise HonyakuError(f"{path}: 'members' must list at least two models")
    return members


def build_directory_model(
    model_dir: Path, config: Config, src_vocab_size: int, tgt_vocab_size: int, pad_id: int
) -> nn.Module:
    """The model a directory's weights fit: ``config.model``, or an ``Ensemble`` where ``ensemble.yaml`` is."""
    from honyaku.models.ensemble import Ensemble  # PyTorch: for the network, not the directory's other files
    from honyaku.models.factory import build_model

    members = read_members(model_dir)
    if not members:
        return build_model(config.model, src_vocab_size, tgt_vocab_size, pad_id)
    models = []
    for number, member in enumerate(members):
        where = f"{model_dir / ENSEMBLE_FILE}: members[{number}]"
        model_config = model_config_from_dict(member.get("model") if isinstance(member, dict) else None, where)
        models.append(build_model(model_config, src_vocab_size, tgt_vocab_size, pad_id))
    return Ensemble(models)


# The weights' content hash: its key in their file's metadata, and the file a conversion keeps it in.
HASH_KEY = "honyaku_sha256"


def content_hash(model: nn.Module) -> str:
    """SHA-256 of every tensor of the model's state (names, dtypes, shapes and bytes), in name order."""
    import torch  # weights are PyTorch's; reading the other files of a directory needs none

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredWeights:
    """What a weights file's header says, read without PyTorch: the content hash it was saved with (None for a
    file without one), and whether it holds float16 tensors only (a bundled model's smaller form)."""

    content_hash: str | None
    half: bool

    @classmethod
    def read(cls, path: Path) -> StoredWeights:
        """The header of ``path``, checked as safetensors checks it when it opens a file (every tensor's bytes in
        order up to the file's end), but read without it: its reader needs a framework, the lightest NumPy (0.1 s
        to import, on a path that needs none). A damaged file raises ValueError, which each caller names."""
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(0)
            length = int.from_bytes(file.read(8), "little")
            if not 2 <= length <= size - 8:
                raise ValueError(f"a header of {length} bytes in a file of {size}")
            header = json.loads(file.read(length))
        if not isinstance(header, dict):
            raise ValueError("a header that is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        try:
            spans = sorted((int(begin), int(end)) for begin, end in (t["data_offsets"] for t in header.values()))
            dtypes = {str(tensor["dtype"]) for tensor in header.values()}
        except (KeyError, TypeError, ValueError):
            raise ValueError("a tensor without its dtype or data offsets in the header") from None
        ends = [0] + [end for _, end in spans]
        if any(begin != end for (begin, _), end in zip(spans, ends)) or ends[-1] != size - 8 - length:
            raise ValueError("tensors that do not fill the file in order")
        return cls(metadata.get(HASH_KEY) if isinstance(metadata, dict) else None, dtypes == {"F16"})


def stored_weights(path: Path) -> StoredWeights:
    """``StoredWeights.read``, a damaged file reported in one line."""
    try:
        return StoredWeights.read(path)
    except (OSError, ValueError) as error:  # a header that json or its checks refuse
        raise HonyakuError(f"{path}: corrupted or unreadable weights ({type(error).__name__})") from None


def save_weights(model: nn.Module, path: Path) -> None:
    """safetensors' save_model stores tied parameters (e.g. shared embeddings) once; the metadata holds the
    content hash that loading checks."""
    import safetensors.torch  # PyTorch: for the weights only

    with atomic_path(path) as temp:
        safetensors.torch.save_model(model, str(temp), metadata={HASH_KEY: content_hash(model)})


def load_weights(model: nn.Module, path: Path) -> None:
    """Load ``path`` into ``model`` and check its content hash. Weights stored in float16 (a bundled model's
    smaller form) are checked as stored, then computed with in the model's own dtype."""
    import safetensors.torch  # PyTorch: for the weights only

    if not path.is_file():
        raise HonyakuError(f"{path}: checkpoint not found")
    try:
        stored = StoredWeights.read(path)
    except (OSError, ValueError) as error:  # a header that json or its checks refuse
        raise HonyakuError(f"{path}: corrupted or truncated checkpoint ({first_line(error)})") from None
    # float16 weights load into a float16 copy, where the hash of their content is checked as it was stored
    target = copy.deepcopy(model).half() if stored.half else model
    try:
        safetensors.torch.load_model(target, str(path), strict=True)
    except safetensors.SafetensorError as error:  # a tensor's bytes that do not fit its dtype and shape
        raise HonyakuError(f"{path}: corrupted or truncated checkpoint ({first_line(error)})") from None
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
        raise HonyakuError(f"{path}: weights do not fit the model in config.yaml ({lines[-1]})") from None
    if stored.content_hash is not None and content_hash(target) != stored.content_hash:
        raise HonyakuError(f"{path}: corrupted checkpoint (its content does not match the hash it was saved with)")
    if target is not model:
        model.load_state_dict(target.state_dict())


def copy_model_files(run_dir: Path, out_dir: Path, also: tuple[str, ...] = ()) -> None:
    """Everything a model directory needs besides its weights, and the files named in ``also``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (*MODEL_FILES, *also):  # those the run has
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, out_dir / name)
