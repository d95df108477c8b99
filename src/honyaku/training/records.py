"""What a run keeps of its own progress: the counters that a checkpoint saves and a resume restores (``Progress``),
the random states of every process, ``metrics.csv`` and its curves, the run's log (``train.log``, through the
training package's logger) and the epoch's progress bar or log lines."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from honyaku.core.config import TrainingConfig
from honyaku.modeldir import (
    LOG_FILE,
)
from honyaku.training.distributed import World

logger = logging.getLogger(__name__)

METRICS_COLUMNS = (
    "step",
    "epoch",
    "train_loss",
    "dev_loss",
    "dev_bleu",
    "learning_rate",
    "target_tokens_per_s",
    "train_seconds",
)


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint."""

    epoch: int = 0  # epochs completed
    batch_in_epoch: int = 0  # batches of the current epoch completed
    step: int = 0
    best_score: float | None = None
    evals_without_improvement: int = 0
    metrics_rows: int = 0
    nonfinite_in_a_row: int = 0  # steps skipped in a row because the loss or a gradient was NaN or infinite
    skipped_steps: int = 0
    scaler_skipped_steps: int = 0  # float16: updates whose gradients overflowed, skipped by the loss scaler
    window_loss: float = 0.0  # summed training loss since the last evaluation
    window_tokens: int = 0
    window_seconds: float = 0.0
    train_seconds: float = 0.0
    finished: str | None = None  # why training ended, once it has
    budget_reached: str | None = None  # the budget that ended it ("max_epochs=40"): a larger one continues it

    @classmethod
    def restored(cls, saved: dict[str, Any]) -> Progress:
        progress = cls(**saved)
        if "budget_reached" not in saved and (progress.finished or "").startswith("reached "):
            progress.budget_reached = progress.finished.removeprefix("reached ")  # written before 2026-12
        return progress

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def add_step(self, loss: float, tokens: int, seconds: float) -> None:
        self.step += 1
        self.batch_in_epoch += 1
        self.window_loss += loss
        self.window_tokens += tokens
        self.window_seconds += seconds
        self.train_seconds += seconds

    def close_window(self, dev_loss: float, dev_bleu: float, learning_rate: float, batches_in_epoch: int) -> dict:
        """An evaluation's row of metrics.csv; the next window of training figures starts."""
        row = {
            "step": self.step,
            "epoch": self.epoch + self.batch_in_epoch / max(1, batches_in_epoch),
            "train_loss": self.window_loss / max(self.window_tokens, 1),
            "dev_loss": dev_loss,
            "dev_bleu": dev_bleu,
            "learning_rate": learning_rate,
            "target_tokens_per_s": self.window_tokens / max(self.window_seconds, 1e-9),
            "train_seconds": self.train_seconds,
        }
        self.metrics_rows += 1
        self.window_loss, self.window_tokens, self.window_seconds = 0.0, 0, 0.0
        return row

    def skip_update(self, what: str) -> None:
        """Count an update skipped because its loss or gradient norm (``what``) was not finite."""
        self.nonfinite_in_a_row += 1
        self.skipped_steps += 1
        logger.info(f"step {self.step + 1}: {what} not finite, update skipped ({self.nonfinite_in_a_row} in a row)")

    def add_score(self, score: float, higher_is_better: bool) -> bool:
        """Count an evaluation's score; whether it is the best so far."""
        improved = self.best_score is None or (score > self.best_score if higher_is_better else score < self.best_score)
        if improved:
            self.best_score = score
            self.evals_without_improvement = 0
        else:
            self.evals_without_improvement += 1
        return improved

    def exhausted_budget(self, cfg: TrainingConfig) -> str | None:
        """The budget of epochs, steps or minutes that is used up ("max_steps=5000"), if one is."""
        if self.epoch >= cfg.max_epochs:
            return f"max_epochs={cfg.max_epochs}"
        if cfg.max_steps is not None and self.step >= cfg.max_steps:
            return f"max_steps={cfg.max_steps}"
        if cfg.max_minutes is not None and self.train_seconds >= cfg.max_minutes * 60:
            return f"max_minutes={cfg.max_minutes:g}"
        return None


# The training package's logger: the messages of its modules (preparation's too) reach a run's log through it.
run_logger = logging.getLogger("honyaku.training")


@contextlib.contextmanager
def run_log(run_dir: Path, main_process: bool = True) -> Iterator[None]:
    """While open, the training modules' messages are appended to ``RUN/train.log`` with their time, and shown on stderr
    above the progress bar (tqdm's logging redirect). Only the main process of a distributed run writes them; a
    second open for the same run (a ``Trainer`` method inside ``train``) adds nothing."""
    path = str((run_dir / LOG_FILE).absolute())
    if not main_process or any(getattr(handler, "baseFilename", None) == path for handler in run_logger.handlers):
        yield
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    handlers = [to_file, logging.StreamHandler(sys.stderr)]
    level, propagate = run_logger.level, run_logger.propagate
    for handler in handlers:
        run_logger.addHandler(handler)
    run_logger.setLevel(logging.INFO)
    run_logger.propagate = False  # shown on stderr here already
    try:
        with logging_redirect_tqdm(loggers=[run_logger]):
            yield
    finally:
        for handler in handlers:
            run_logger.removeHandler(handler)
            handler.close()
        run_logger.setLevel(level)
        run_logger.propagate = propagate


class EpochDisplay:
    """An epoch's progress: a tqdm bar on a terminal, else a log line every ``log_every_steps`` steps."""

    def __init__(self, progress: Progress, batches: int, cfg: TrainingConfig, bar: bool):
        self.progress, self.batches, self.log_every_steps = progress, batches, cfg.log_every_steps
        self.tokens, self.seconds = 0, 0.0
        self.bar = tqdm(
            total=batches,
            initial=progress.batch_in_epoch,
            desc=f"epoch {progress.epoch + 1}/{cfg.max_epochs}",
            unit="batch",
            disable=not bar or None,  # None: off when stderr is not a terminal
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def step(self, tokens: int, seconds: float) -> None:
        progress = self.progress
        self.tokens += tokens
        self.seconds += seconds
        train_loss = progress.window_loss / max(progress.window_tokens, 1)
        speed = self.tokens / max(self.seconds, 1e-9)
        self.bar.update()
        self.bar.set_postfix(loss=f"{train_loss:.3f}", tok_s=f"{speed:,.0f}", refresh=False)
        if self.bar.disable and progress.step % self.log_every_steps == 0:
            epoch = progress.epoch + progress.batch_in_epoch / self.batches
            logger.info(
                f"step {progress.step} epoch {epoch:.2f}: train loss {train_loss:.3f}, {speed:,.0f} target tokens/s"
            )

    def close(self) -> None:
        self.bar.close()


class MetricsLog:
    """``metrics.csv``, one row per evaluation; rows past the last checkpoint are dropped on resume."""

    def __init__(self, path: Path, keep_rows: int):
        self.path = path
        rows = self.rows()[:keep_rows]
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, METRICS_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    def rows(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as stream:
            return list(csv.DictReader(stream))

    def append(self, row: dict[str, float]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as out:
            csv.DictWriter(out, METRICS_COLUMNS).writerow({k: f"{v:.6g}" for k, v in row.items()})

    def plot(self, path: Path) -> None:
        import matplotlib  # slow to import (0.3 s), and only needed here

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.rows()
        steps = [float(r["step"]) for r in rows]
        figure, (losses, scores) = plt.subplots(1, 2, figsize=(10, 4))
        losses.plot(steps, [float(r["train_loss"]) for r in rows], label="train (per token)")
        losses.plot(steps, [float(r["dev_loss"]) for r in rows], label="dev (per token)")
        losses.set_xlabel("step")
        losses.set_ylabel("cross-entropy")
        losses.legend()
        scores.plot(steps, [float(r["dev_bleu"]) for r in rows], marker="o", color="tab:green")
        scores.set_xlabel("step")
        scores.set_ylabel("dev BLEU (greedy)")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)


def random_states(world: World, device: torch.device) -> dict[str, Any]:
    """Every process's random states, as a checkpoint holds them (a collective: every rank calls it)."""
    rng_cuda = torch.cuda.get_rng_state_all() if device.type == "cuda" else []
    return {"rng_by_rank": world.gather((torch.get_rng_state(), rng_cuda))}


def restore_random_states(state: dict[str, Any], world: World, device: torch.device, reseed: int) -> None:
    """Each process's random states from a checkpoint; fresh, distinct ones (from ``reseed``) where it was saved
    by another number of processes."""
    # a checkpoint of a single process written before 2026-12 holds its states as rng_cpu and rng_cuda
    by_rank = state.get("rng_by_rank") or [(state["rng_cpu"], state.get("rng_cuda"))]
    if len(by_rank) == world.size:
        rng_cpu, rng_cuda = by_rank[world.rank]
        torch.set_rng_state(rng_cpu)
        if device.type == "cuda" and rng_cuda:
            torch.cuda.set_rng_state_all(rng_cuda)
    else:
        logger.info(f"the checkpoint holds random states for {len(by_rank)} processes, not {world.size}; reseeding")
        torch.manual_seed(reseed + world.rank)
