"""Training: masked cross-entropy, Adam, clipping, LR decay on plateau, dev evaluation, early stopping and
checkpoints from which a resumed run continues exactly as if it had never stopped.

A run directory holds ``config.yaml``, ``src_vocab.txt``, ``tgt_vocab.txt``, ``model.safetensors`` (the best
weights on dev), ``checkpoints/`` (the newest training checkpoints), ``metrics.csv``, ``curves.png`` and
``train.log``.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from honyaku.checkpoint import BestCheckpoints, CheckpointStore
from honyaku.core.config import Config, TrainingConfig, changed_settings, load_config
from honyaku.core.errors import HonyakuError
from honyaku.core.metrics import bleu
from honyaku.core.runtime import resolve_device
from honyaku.data.batching import Batch, ParallelData, collate, make_batches
from honyaku.data.text import detokenize
from honyaku.data.vocabulary import Vocabulary
from honyaku.distributed import World, join_world, leave_world
from honyaku.modeldir import CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, save_weights
from honyaku.models.factory import build_model, count_parameters
from honyaku.preparation import prepare_data
from honyaku.search import translate_ids

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
BUDGET_REACHED = "reached"  # how a run that ran out of epochs, steps or minutes says so: resumable with a larger one


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
    window_loss: float = 0.0  # summed training loss since the last evaluation
    window_tokens: int = 0
    window_seconds: float = 0.0
    train_seconds: float = 0.0
    finished: str | None = None  # why training ended, once it has

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Trainer:
    def __init__(
        self,
        config: Config,
        run_dir: Path,
        data_dir: str | None = None,
        progress_bar: bool = True,
        world: World | None = None,
        device: str | None = None,
    ):
        self.config = config
        self.run_dir = run_dir
        self.data_dir = data_dir
        self.world = world or World()
        self.progress_bar = progress_bar and self.world.is_main
        self.device = resolve_device(device or config.training.device)
        self.checkpoints = CheckpointStore(run_dir, keep=config.training.keep_last_checkpoints)
        self.best = BestCheckpoints(run_dir, config.training.keep_best_checkpoints, config.training.higher_is_better)
        self.progress = Progress()
        self.batches_in_epoch = 0

    # --- set-up ------------------------------------------------------------------------------------------

    def prepare(self, resume: bool) -> None:
        """Prepare the data (honyaku.preparation), build model and optimizer; restore everything if resuming."""
        cfg = self.config
        torch.manual_seed(cfg.training.seed)
        prepared = prepare_data(cfg, self.run_dir, self.data_dir, resume, self.world)
        self.src_vocab, self.tgt_vocab = prepared.src_vocab, prepared.tgt_vocab
        self.src_subwords, self.tgt_subwords = prepared.src_subwords, prepared.tgt_subwords
        self.training_pairs, self.dev_data = prepared.training_pairs, prepared.dev_data
        self.dev_references = prepared.dev_references

        pad_id = Vocabulary.pad_id
        self.model = build_model(cfg.model, len(self.src_vocab), len(self.tgt_vocab), pad_id).to(self.device)
        self.step_model: nn.Module = self.model  # what training steps call: the model, or its DDP wrapper
        if self.world.distributed:
            torch.manual_seed(cfg.training.seed + self.world.rank)  # ranks draw different dropout masks
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.step_model = nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)
        optimizer_class = torch.optim.AdamW if cfg.training.optimizer == "adamw" else torch.optim.Adam
        self.optimizer = optimizer_class(
            parameter_groups(self.model, cfg.training.weight_decay),
            lr=cfg.training.learning_rate,
            betas=cfg.training.adam_betas,
            weight_decay=cfg.training.weight_decay,
        )
        self.scheduler = make_scheduler(self.optimizer, cfg.training)
        self.loss_function = nn.CrossEntropyLoss(
            ignore_index=pad_id, reduction="sum", label_smoothing=cfg.training.label_smoothing
        )
        if resume:
            state, checkpoint, skipped = self.checkpoints.load_latest(self.model)
            for reason in skipped:
                self.log(f"skipping a damaged checkpoint: {reason}")
            self._restore(state)
            self.log(f"resuming from {checkpoint.name}")
            if self.world.is_main:
                self.best.forget_after(self.progress.step)
        elif self.world.is_main:
            cfg.save(self.run_dir / CONFIG_FILE)
        if self.world.is_main:
            self.metrics = MetricsLog(self.run_dir / METRICS_FILE, keep_rows=self.progress.metrics_rows)

    @property
    def train_data(self) -> ParallelData:
        """The current epoch's training pairs as ids."""
        return self.training_pairs.epoch(self.progress.epoch)

    def _regularization(self) -> str:
        """The small-data options this run trains with, in words, for its log."""
        data, model, training = self.config.data, self.config.model, self.config.training
        sampling = data.subwords.sampling if data.subwords is not None else None
        options = [
            f"subword sampling from the {sampling.nbest_size} best, alpha {sampling.alpha:g}" if sampling else "",
            f"both directions for {training.bidirectional_epochs} epochs" if training.bidirectional_epochs else "",
            f"R-Drop alpha {training.rdrop_alpha:g}" if training.rdrop_alpha else "",
            f"word dropout {model.word_dropout:g}" if model.word_dropout else "",
        ]
        return "; ".join(option for option in options if option)

    def _restore(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.progress = Progress(**state["progress"])
        by_rank = state.get("rng_by_rank") or [(state["rng_cpu"], state.get("rng_cuda"))]
        if len(by_rank) == self.world.size:
            rng_cpu, rng_cuda = by_rank[self.world.rank]
            torch.set_rng_state(rng_cpu)
            if self.device.type == "cuda" and rng_cuda:
                torch.cuda.set_rng_state_all(rng_cuda)
        else:  # saved by a different number of processes: fresh, distinct random streams
            self.log(
                f"the checkpoint holds random states for {len(by_rank)} processes, not {self.world.size}; reseeding"
            )
            torch.manual_seed(self.config.training.seed + self.world.rank + self.progress.step)

    def _save_checkpoint(self) -> None:
        rng_cuda = torch.cuda.get_rng_state_all() if self.device.type == "cuda" else []
        by_rank = self.world.gather((torch.get_rng_state(), rng_cuda))  # a collective: every rank takes part
        if not self.world.is_main:
            return
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "progress": self.progress.to_dict(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": rng_cuda,
            "rng_by_rank": by_rank if self.world.distributed else [],
        }
        self.checkpoints.save(self.model, state, self.progress.step)

    # --- the loop ----------------------------------------------------------------------------------------

    def train(self) -> Progress:
        progress = self.progress
        self.log(
            f"model {self.config.model.arch}: {count_parameters(self.model):,} parameters; vocab "
            f"{len(self.src_vocab)}/{len(self.tgt_vocab)}; {len(self.training_pairs):,} training pairs; "
            f"device {self.device}" + (f" × {self.world.size} processes" if self.world.distributed else "")
        )
        if regularization := self._regularization():
            self.log(f"regularization: {regularization}")
        if progress.finished and progress.finished.startswith(BUDGET_REACHED) and not self._exhausted_budget():
            self.log(f"continuing a run that had {progress.finished}: the budget is larger now")
            progress.finished = None
        if progress.finished:
            self.log(f"this run already finished ({progress.finished}); nothing to do")
            return progress
        while progress.finished is None:
            if reason := self._exhausted_budget():
                self._finish(reason)
                break
            self._train_epoch()
        skipped = f"; {progress.skipped_steps} updates skipped (non-finite)" if progress.skipped_steps else ""
        self.log(f"training finished: {progress.finished}{skipped}")
        return progress

    def _train_epoch(self) -> None:
        cfg, progress = self.config.training, self.progress
        data = self.train_data
        batches = make_batches(data, cfg.batch_size, cfg.batch_tokens, cfg.seed, progress.epoch)
        self.batches_in_epoch = len(batches)
        bar = tqdm(
            total=len(batches),
            initial=progress.batch_in_epoch,
            desc=f"epoch {progress.epoch + 1}/{cfg.max_epochs}",
            unit="batch",
            disable=not self.progress_bar or None,  # None: off when stderr is not a terminal
            file=sys.stderr,
            dynamic_ncols=True,
        )
        self.model.train()
        epoch_tokens, epoch_seconds = 0, 0.0
        for indices in batches[progress.batch_in_epoch :]:
            share, counts = self.world.share(indices)
            batch = collate(data, share, Vocabulary.pad_id).to(self.device)
            started = time.perf_counter()
            loss, tokens = self._train_step(batch, counts)
            seconds = time.perf_counter() - started
            if self.world.distributed:  # the same clock on every rank, so that max_minutes stops them together
                seconds = self.world.sum(seconds)[0] / self.world.size
            progress.step += 1
            progress.batch_in_epoch += 1
            progress.window_loss += loss
            progress.window_tokens += tokens
            progress.window_seconds += seconds
            progress.train_seconds += seconds
            epoch_tokens += tokens
            epoch_seconds += seconds
            bar.update()
            bar.set_postfix(
                loss=f"{progress.window_loss / max(progress.window_tokens, 1):.3f}",
                tok_s=f"{epoch_tokens / max(epoch_seconds, 1e-9):,.0f}",
                refresh=False,
            )
            if bar.disable and progress.step % cfg.log_every_steps == 0:
                self.log(
                    f"step {progress.step} epoch {progress.epoch + progress.batch_in_epoch / len(batches):.2f}: "
                    f"train loss {progress.window_loss / max(progress.window_tokens, 1):.3f}, "
                    f"{epoch_tokens / max(epoch_seconds, 1e-9):,.0f} target tokens/s"
                )
            if progress.batch_in_epoch == len(batches):
                progress.epoch += 1
                progress.batch_in_epoch = 0
                if cfg.eval_every_steps is None:
                    self._evaluate_and_checkpoint()
            if cfg.eval_every_steps is not None and progress.step % cfg.eval_every_steps == 0:
                self._evaluate_and_checkpoint()
            elif cfg.checkpoint_every_steps is not None and progress.step % cfg.checkpoint_every_steps == 0:
                self._save_checkpoint()
            if progress.finished is None and (reason := self._exhausted_budget()):
                self._finish(reason)
            if progress.finished is not None:
                break
        bar.close()

    def _train_step(self, batch: Batch, counts: bool = True) -> tuple[float, int]:
        """One update; returns the summed loss and the number of target tokens over all ranks, or (0, 0) when
        a non-finite loss or gradient made it skip the update."""
        loss, cross_entropy = self._loss(batch)
        if not counts:
            loss, cross_entropy = loss * 0.0, cross_entropy * 0.0
        loss_sum, cross_entropy_sum, tokens = self.world.sum(
            loss.item(), cross_entropy.item(), batch.num_target_tokens if counts else 0
        )
        self.optimizer.zero_grad(set_to_none=True)
        if math.isfinite(loss_sum):
            # DDP averages gradients over ranks: scaled so, they are those of the global batch's mean token loss
            (loss * self.world.size / tokens).backward()
            clip = self.config.training.clip_grad_norm
            grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), math.inf if clip is None else clip)
            if torch.isfinite(grad_norm):
                self.optimizer.step()
                if self.config.training.lr_schedule == "inverse_sqrt":
                    self.scheduler.step()
                self.progress.nonfinite_in_a_row = 0
                return cross_entropy_sum, int(tokens)
        return self._skip_step("loss" if not math.isfinite(loss_sum) else "gradient norm")

    def _loss(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's summed training loss, and its cross-entropy part (what the logs report)."""
        alpha = self.config.training.rdrop_alpha
        if not alpha:
            logits = self.step_model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
            loss = self.loss_function(logits.flatten(0, 1), batch.tgt_out.flatten())
            return loss, loss
        # R-Drop: the batch twice in one call, so that each copy draws its own dropout masks
        logits = self.step_model(batch.src.repeat(2, 1), batch.src_lengths.repeat(2), batch.tgt_in.repeat(2, 1))
        first, second = logits.float().chunk(2)  # (B, T, V) each
        targets = batch.tgt_out.flatten()
        cross_entropy = (
            self.loss_function(first.flatten(0, 1), targets) + self.loss_function(second.flatten(0, 1), targets)
        ) / 2
        log_p, log_q = first.log_softmax(dim=-1), second.log_softmax(dim=-1)
        symmetric_kl = ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum(dim=-1)  # (B, T): KL(p‖q) + KL(q‖p)
        symmetric_kl = symmetric_kl.masked_fill(batch.tgt_out == Vocabulary.pad_id, 0.0).sum()
        # half of Wu et al.'s CE₁ + CE₂ + α/2 (KL(p‖q) + KL(q‖p)): alpha means what it means there, on one pass's scale
        return cross_entropy + alpha * symmetric_kl / 4, cross_entropy

    def _skip_step(self, what: str) -> tuple[float, int]:
        progress, limit = self.progress, self.config.training.max_nonfinite_steps
        progress.nonfinite_in_a_row += 1
        progress.skipped_steps += 1
        self.log(
            f"step {progress.step + 1}: {what} not finite, update skipped ({progress.nonfinite_in_a_row} in a row)"
        )
        if progress.nonfinite_in_a_row >= limit:
            try:
                resume_from = f"--resume continues from {self.checkpoints.latest().relative_to(self.run_dir)}"
            except HonyakuError:
                resume_from = "no checkpoint had been written yet"
            raise HonyakuError(
                f"training stopped at step {progress.step + 1}: {limit} updates in a row had a non-finite {what} "
                f"(training.max_nonfinite_steps). The model diverged: lower training.learning_rate or set "
                f"training.clip_grad_norm. Nothing written was lost: {resume_from}."
            )
        return 0.0, 0

    def _exhausted_budget(self) -> str | None:
        cfg, progress = self.config.training, self.progress
        if progress.epoch >= cfg.max_epochs:
            return f"{BUDGET_REACHED} max_epochs={cfg.max_epochs}"
        if cfg.max_steps is not None and progress.step >= cfg.max_steps:
            return f"{BUDGET_REACHED} max_steps={cfg.max_steps}"
        if cfg.max_minutes is not None and progress.train_seconds >= cfg.max_minutes * 60:
            return f"{BUDGET_REACHED} max_minutes={cfg.max_minutes:g}"
        return None

    def _finish(self, reason: str) -> None:
        """End the run; evaluate first unless the current step was just evaluated."""
        if self.progress.window_tokens:
            self._evaluate_and_checkpoint()
        if self.progress.finished is None:
            self.progress.finished = reason
            self._save_checkpoint()

    # --- evaluation --------------------------------------------------------------------------------------

    def _evaluate_and_checkpoint(self) -> None:
        cfg, progress = self.config.training, self.progress
        # rank 0 evaluates; every rank takes its decisions from the same figures
        dev_loss, dev_bleu = self.world.from_main((self.dev_loss(), self.dev_bleu()) if self.world.is_main else None)
        score = dev_bleu if cfg.higher_is_better else dev_loss
        improved = progress.best_score is None or (
            score > progress.best_score if cfg.higher_is_better else score < progress.best_score
        )
        if improved:
            progress.best_score = score
            progress.evals_without_improvement = 0
        else:
            progress.evals_without_improvement += 1
        if self.world.is_main:
            if improved:
                save_weights(self.model, self.run_dir / WEIGHTS_FILE)
            self.best.offer(self.model, progress.step, score)
        learning_rate = self.optimizer.param_groups[0]["lr"]
        row = {
            "step": progress.step,
            "epoch": progress.epoch + progress.batch_in_epoch / max(1, self.batches_in_epoch),
            "train_loss": progress.window_loss / max(progress.window_tokens, 1),
            "dev_loss": dev_loss,
            "dev_bleu": dev_bleu,
            "learning_rate": learning_rate,
            "target_tokens_per_s": progress.window_tokens / max(progress.window_seconds, 1e-9),
            "train_seconds": progress.train_seconds,
        }
        if self.world.is_main:
            self.metrics.append(row)
        progress.metrics_rows += 1
        progress.window_loss, progress.window_tokens, progress.window_seconds = 0.0, 0, 0.0
        self.log(
            f"step {row['step']} epoch {row['epoch']:.2f}: train loss {row['train_loss']:.3f}, dev loss "
            f"{dev_loss:.3f}, dev BLEU {dev_bleu:.2f}{' (best)' if improved else ''}, lr {learning_rate:.2e}, "
            f"{row['target_tokens_per_s']:,.0f} target tokens/s"
        )
        if cfg.lr_schedule == "plateau":
            self.scheduler.step(score)
        if cfg.patience is not None and progress.evals_without_improvement >= cfg.patience:
            progress.finished = (
                f"early stopping: dev {cfg.validation_metric} did not improve in {cfg.patience} evaluations"
            )
        self._save_checkpoint()
        if self.world.is_main:
            self.metrics.plot(self.run_dir / "curves.png")

    @torch.inference_mode()
    def dev_loss(self) -> float:
        """Per-token negative log-likelihood on dev (no label smoothing)."""
        self.model.eval()
        total, tokens = 0.0, 0
        for indices in make_batches(self.dev_data, self.config.training.eval_batch_size, None, 0, 0):
            batch = collate(self.dev_data, indices, Vocabulary.pad_id).to(self.device)
            logits = self.model(batch.src, batch.src_lengths, batch.tgt_in)
            total += nn.functional.cross_entropy(
                logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=Vocabulary.pad_id, reduction="sum"
            ).item()
            tokens += batch.num_target_tokens
        self.model.train()
        return total / tokens

    def dev_bleu(self) -> float:
        """Greedy BLEU on dev: the same search at every evaluation, whatever the config decodes with."""
        outputs = translate_ids(
            self.model,
            self.dev_data.src,
            self.config.decoding,
            Vocabulary.pad_id,
            Vocabulary.bos_id,
            Vocabulary.eos_id,
            self.device,
            beam_size=1,
        )
        hypotheses = [detokenize(self.tgt_subwords.join(self.tgt_vocab.decode(best.tokens))) for (best,) in outputs]
        return bleu(hypotheses, self.dev_references).score

    def log(self, message: str) -> None:
        if not self.world.is_main:
            return
        tqdm.write(message, file=sys.stderr)
        with (self.run_dir / "train.log").open("a", encoding="utf-8") as log_file:
            log_file.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay for the weight matrices of linear and recurrent layers only: not for biases, layer norms or
    embeddings (which decay would pull towards zero for rare tokens), as nanoGPT does. Without weight decay, one
    group of every parameter, as runs started before this split have in their checkpoints."""
    if not weight_decay:
        return [{"params": list(model.parameters())}]
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decayed, kept = [], []
    for parameter in model.parameters():  # a tied parameter comes once
        if parameter.dim() >= 2 and id(parameter) not in embeddings:
            decayed.append(parameter)
        else:
            kept.append(parameter)
    return [{"params": decayed, "weight_decay": weight_decay}, {"params": kept, "weight_decay": 0.0}]


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainingConfig) -> torch.optim.lr_scheduler.LRScheduler:
    if cfg.lr_schedule == "inverse_sqrt":
        warmup = cfg.warmup_steps
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))
        )
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="max" if cfg.higher_is_better else "min",
        factor=cfg.lr_decay_factor,
        patience=cfg.lr_decay_patience,
        min_lr=cfg.min_learning_rate,
    )


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
        import matplotlib

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


def train(
    config_path: str | Path,
    out_dir: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    overrides: list[str] | None = None,
    data_dir: str | None = None,
    progress_bar: bool = True,
) -> Progress:
    """Train the model described by a config file into ``out_dir`` (the Python side of ``honyaku train``)."""
    run_dir = Path(out_dir)
    config = load_config(config_path, overrides)
    world, device = join_world(config.training.device)
    try:
        changed = _check_run_dir(config, config_path, run_dir, resume, overwrite) if world.is_main else {}
        world.barrier()
        trainer = Trainer(config, run_dir, data_dir=data_dir, progress_bar=progress_bar, world=world, device=device)
        trainer.prepare(resume=resume)
        for key, (before, now) in changed.items():
            trainer.log(f"resumed with {key}={now} (it was {before})")
        progress = trainer.train()
        world.barrier()  # rank 0 may still be writing: leave together (gloo aborts a rank that leaves early)
        return progress
    finally:
        leave_world()


def _check_run_dir(
    config: Config, config_path: str | Path, run_dir: Path, resume: bool, overwrite: bool
) -> dict[str, tuple[Any, Any]]:
    """Refuse to mix runs: a resumed run keeps its data and model; a new one needs an empty place or --overwrite.
    Gives the training settings that a resume changes (a larger budget, a lower learning rate, a forgotten --set)."""
    saved_config = run_dir / CONFIG_FILE
    if resume:
        if not saved_config.is_file():
            raise HonyakuError(f"{run_dir}: no run to resume (no {CONFIG_FILE}); drop --resume to start it")
        saved = load_config(saved_config)
        if fixed := changed_settings(config, saved, ("data", "model")):
            differences = "; ".join(
                f"{key} is {now!r} here, {before!r} in the run" for key, (before, now) in fixed.items()
            )
            raise HonyakuError(
                f"{config_path}: differs from {saved_config}: {differences}; "
                "a run resumes with the data and model it started with"
            )
        config.save(saved_config)
        return changed_settings(config, saved, ("training",))
    if saved_config.exists() and not overwrite:
        raise HonyakuError(f"{run_dir}: already holds a run; use --resume to continue it or --overwrite to restart")
    if overwrite and run_dir.exists():
        for name in (CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, "curves.png", "train.log"):
            (run_dir / name).unlink(missing_ok=True)
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return {}
