"""Weights in safetensors, training state in a ``weights_only`` torch file, every write atomic.

A training checkpoint is a directory ``checkpoints/step-NNNNNNNN/`` holding both files; it is assembled
under a temporary name and renamed into place, then the ``checkpoints/latest`` pointer is replaced. A run
killed at any moment therefore leaves ``latest`` naming a complete checkpoint.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from torch import nn

from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory, atomic_write_bytes
from honyaku.modeldir import (
    BEFORE_STOP_DIR,
    BEST_DIR,
    CHECKPOINTS_DIR,
    LATEST_POINTER,
    STATE_FILE,
    WEIGHTS_FILE,
    load_weights,
    save_weights,
)


def save_state(state: dict[str, Any], path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise HonyakuError(f"{path}: training state not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling a damaged or foreign file fails in many ways, all multi-line
        raise HonyakuError(f"{path}: corrupted or unreadable training state ({type(error).__name__})") from None


class CheckpointStore:
    """The ``checkpoints/`` directory of a run: the newest ``keep`` training checkpoints (``step-N/``)."""

    def __init__(self, run_dir: Path, keep: int = 2):
        self.directory = run_dir / CHECKPOINTS_DIR
        self.keep = keep

    def save(self, model: nn.Module, state: dict[str, Any], step: int) -> Path:
        final = self.directory / f"step-{step:08d}"
        with atomic_directory(final) as staging:  # a second save at the same step (the final one) replaces the first
            save_weights(model, staging / WEIGHTS_FILE)
            save_state(state, staging / STATE_FILE)
        atomic_write_bytes(self.directory / LATEST_POINTER, final.name.encode())
        for old in sorted(self.directory.glob("step-*"))[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def latest(self) -> Path:
        pointer = self.directory / LATEST_POINTER
        if not pointer.is_file():
            raise HonyakuError(f"{self.directory}: no checkpoint to resume from")
        return self.directory / pointer.read_text().strip()

    def load_latest(self, model: nn.Module) -> tuple[dict[str, Any], Path, list[str]]:
        """Load the newest checkpoint that is intact, falling back to older ones.

        Returns the training state, the checkpoint used, and why any newer ones were skipped.
        """
        latest = self.latest()
        candidates = [latest] + [step for step in reversed(self.steps()) if step != latest]
        skipped = []
        for checkpoint in candidates:
            try:
                load_weights(model, checkpoint / WEIGHTS_FILE)
                return load_state(checkpoint / STATE_FILE), checkpoint, skipped
            except HonyakuError as error:
                skipped.append(str(error))
        raise HonyakuError(f"{self.directory}: no intact checkpoint to resume from ({'; '.join(skipped)})")

    def steps(self) -> list[Path]:
        return sorted(self.directory.glob("step-*"))


class BestCheckpoints:
    """``checkpoints/best/``: the weights of the ``keep`` best evaluations, listed with scores in ``scores.tsv``."""

    def __init__(self, run_dir: Path, keep: int, higher_is_better: bool):
        self.directory = run_dir / CHECKPOINTS_DIR / BEST_DIR
        self.keep = keep
        self.higher_is_better = higher_is_better

    def entries(self) -> list[tuple[int, float]]:
        """(step, score) pairs, best first."""
        index = self.directory / "scores.tsv"
        if not index.is_file():
            return []
        rows = [line.split("\t") for line in index.read_text().splitlines() if line]
        return [(int(step), float(score)) for step, score in rows]

    def path(self, step: int) -> Path:
        return self.directory / f"step-{step:08d}.safetensors"

    def offer(self, model: nn.Module, step: int, score: float) -> None:
        """Keep the weights if ``score`` ranks among the best ``keep``."""
        entries = [e for e in self.entries() if e[0] != step] + [(step, score)]
        entries.sort(key=lambda e: -e[1] if self.higher_is_better else e[1])
        if (step, score) not in entries[: self.keep]:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        save_weights(model, self.path(step))
        self._write(entries[: self.keep])

    def forget_after(self, step: int) -> None:
        """Drop entries newer than a checkpoint that a resumed run starts again from."""
        self._write([e for e in self.entries() if e[0] <= step])

    def _write(self, entries: list[tuple[int, float]]) -> None:
        if not self.directory.is_dir():
            return
        atomic_write_bytes(self.directory / "scores.tsv", "".join(f"{s}\t{v!r}\n" for s, v in entries).encode())
        kept = {self.path(s).name for s, _ in entries}
        for stale in self.directory.glob("step-*.safetensors"):
            if stale.name not in kept:
                stale.unlink()


class OutputsBeforeStop:
    """``checkpoints/before-stop/``: the run's best weights and ``checkpoints/best/`` as they stood before the
    evaluation a budget stop makes between two scheduled ones, for a resume with a larger budget to put back: the
    continued run then equals one that never stopped. Hard links suffice, as every write here replaces a file
    rather than changing it."""

    def __init__(self, run_dir: Path, best: BestCheckpoints):
        self.weights = run_dir / WEIGHTS_FILE
        self.best = best.directory
        self.directory = run_dir / CHECKPOINTS_DIR / BEFORE_STOP_DIR

    def keep(self) -> None:
        with atomic_directory(self.directory) as staging:
            if self.weights.is_file():
                _link(self.weights, staging / WEIGHTS_FILE)
            (staging / BEST_DIR).mkdir()
            for kept in self.best.glob("*") if self.best.is_dir() else []:
                _link(kept, staging / BEST_DIR / kept.name)

    def put_back(self) -> None:
        """Safe to repeat after a crash half-way, and a no-op once done."""
        if not self.directory.is_dir():
            return
        if (weights := self.directory / WEIGHTS_FILE).is_file():
            os.replace(weights, self.weights)
        # without weights kept, the run had none: its next evaluation is its first best and writes them
        if (best := self.directory / BEST_DIR).is_dir():
            shutil.rmtree(self.best, ignore_errors=True)
            os.replace(best, self.best)
        shutil.rmtree(self.directory)


def _link(source: Path, link: Path) -> None:
    try:
        os.link(source, link)
    except OSError:  # a file system without hard links
        shutil.copy2(source, link)


def average_weights(paths: list[Path]) -> dict[str, torch.Tensor]:
    """The element-wise mean of several weight files of one model (accumulated in float64)."""
    total: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    for path in paths:
        try:
            tensors = safetensors.torch.load_file(str(path))
        except Exception as error:
            raise HonyakuError(f"{path}: corrupted or truncated checkpoint ({type(error).__name__})") from None
        if dtypes and tensors.keys() != dtypes.keys():
            raise HonyakuError(f"{path}: holds other tensors than {paths[0]}; only one model's checkpoints average")
        for name, tensor in tensors.items():
            dtypes.setdefault(name, tensor.dtype)
            total[name] = total[name] + tensor.double() if name in total else tensor.double()
    return {name: (tensor / len(paths)).to(dtypes[name]) for name, tensor in total.items()}
