"""How the model is updated: the loss (label-smoothed cross-entropy over real target positions, R-Drop), mixed
precision and its loss scaler, the optimizer with its parameter groups, the learning-rate schedules, and the error
a run that diverges stops with."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import torch
from torch import nn

from honyaku.core.config import Config, TrainingConfig
from honyaku.core.errors import HonyakuError
from honyaku.core.wording import counted
from honyaku.data.batching import Batch
from honyaku.data.vocabulary import Vocabulary
from honyaku.training.checkpoint import CheckpointStore
from honyaku.training.distributed import World
from honyaku.training.records import Progress


class MixedPrecision:
    """Training in a lower precision than the float32 weights: the forward pass under ``torch.autocast`` (matrix
    products in ``dtype``, reductions and the loss in float32); float16, whose range is narrow, with a loss
    scaler. float32 leaves both off."""

    def __init__(self, dtype: torch.dtype, device: torch.device):
        self.dtype, self.device_type = dtype, device.type
        self.scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)

    def autocast(self) -> contextlib.AbstractContextManager:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype != torch.float32)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The scaler's state from a checkpoint (empty where it was off, or from a run that had none)."""
        if state and self.scaler.is_enabled():
            self.scaler.load_state_dict(state)


class Criterion:
    """The training loss of a batch: label-smoothed cross-entropy summed over target tokens; with R-Drop
    (``training.rdrop_alpha``) the batch runs twice in one call, so that each copy draws its own dropout
    masks, and the symmetric KL divergence of the two passes is added."""

    def __init__(self, cfg: TrainingConfig):
        self.cross_entropy = nn.CrossEntropyLoss(
            ignore_index=Vocabulary.pad_id, reduction="sum", label_smoothing=cfg.label_smoothing
        )
        self.rdrop_alpha = cfg.rdrop_alpha

    def __call__(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The summed loss, and its cross-entropy part (what the logs report), over the real target tokens only."""
        real = batch.tgt_out != Vocabulary.pad_id  # (B, T)
        targets = batch.tgt_out[real]  # (N,)
        if not self.rdrop_alpha:
            logits = model(batch.src, batch.src_lengths, batch.tgt_in, real).float()  # (N, V), float32 under autocast
            loss = self.cross_entropy(logits, targets)
            return loss, loss
        logits = model(
            batch.src.repeat(2, 1), batch.src_lengths.repeat(2), batch.tgt_in.repeat(2, 1), real.repeat(2, 1)
        )
        first, second = logits.float().chunk(2)  # (N, V) each: the first copy's rows come first
        cross_entropy = (self.cross_entropy(first, targets) + self.cross_entropy(second, targets)) / 2
        divergence = symmetric_kl(first, second)
        # half of Wu et al.'s CE₁ + CE₂ + α/2 (KL(p‖q) + KL(q‖p)): alpha means what it means there, on one pass's scale
        return cross_entropy + self.rdrop_alpha * divergence / 4, cross_entropy


def symmetric_kl(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """KL(p‖q) + KL(q‖p) of two passes' logits (N, V), summed over the N positions."""
    log_p, log_q = first.log_softmax(dim=-1), second.log_softmax(dim=-1)
    return ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum()


def regularization_summary(config: Config) -> str:
    """The small-data options a run trains with, in words, for its log."""
    data, model, training = config.data, config.model, config.training
    sampling = data.subwords.sampling if data.subwords is not None else None
    both_ways = counted(training.bidirectional_epochs, "epoch")
    options = [
        f"subword sampling from the {sampling.nbest_size} best, alpha {sampling.alpha:g}" if sampling else "",
        f"both directions for {both_ways}" if training.bidirectional_epochs else "",
        f"R-Drop alpha {training.rdrop_alpha:g}" if training.rdrop_alpha else "",
        f"word dropout {model.word_dropout:g}" if model.word_dropout else "",
    ]
    return "; ".join(option for option in options if option)


def diverged(progress: Progress, what: str, limit: int, checkpoints: CheckpointStore) -> HonyakuError:
    """The error that stops a run whose last ``limit`` updates had a non-finite ``what``."""
    try:
        resume_from = f"--resume continues from {checkpoints.latest().relative_to(checkpoints.directory.parent)}"
    except HonyakuError:
        resume_from = "no checkpoint had been written yet"
    return HonyakuError(
        f"training stopped at step {progress.step + 1}: {limit} updates in a row had a non-finite {what} "
        f"(training.max_nonfinite_steps). The model diverged: lower training.learning_rate or set "
        f"training.clip_grad_norm. Nothing written was lost: {resume_from}."
    )


def make_optimizer(model: nn.Module, cfg: TrainingConfig, device: torch.device) -> torch.optim.Optimizer:
    """Adam or AdamW; on CUDA the fused implementation (one kernel for every parameter, where the default runs a
    few per tensor), whose state dict has the same form."""
    optimizer_class = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return optimizer_class(
        parameter_groups(model, cfg.weight_decay),
        lr=cfg.learning_rate,
        betas=cfg.adam_betas,
        weight_decay=cfg.weight_decay,
        fused=True if device.type == "cuda" else None,
    )


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


class Updater:
    """The updates of a run's weights: the loss in the run's precision, gradient clipping, the optimizer, the
    learning-rate schedules, and updates skipped where the loss or the gradient is not finite. ``model`` is the
    network whose parameters are updated; ``step_model`` what the batches run through (it, or its DDP wrapper or
    compiled form)."""

    def __init__(
        self, model: nn.Module, step_model: nn.Module, cfg: TrainingConfig, precision: MixedPrecision, world: World
    ):
        self.model, self.step_model, self.cfg, self.precision, self.world = model, step_model, cfg, precision, world
        self.optimizer = make_optimizer(model, cfg, next(model.parameters()).device)
        self.scheduler = make_scheduler(self.optimizer, cfg)
        self.criterion = Criterion(cfg)

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of them."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.precision.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.precision.load_state_dict(state.get("scaler", {}))

    @property
    def learning_rates(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    @learning_rates.setter
    def learning_rates(self, rates: list[float]) -> None:
        for group, rate in zip(self.optimizer.param_groups, rates, strict=True):
            group["lr"] = rate

    def take_up_plateau_settings(self, rates: tuple[float, float] | None) -> None:
        """The plateau schedule's settings from the config rather than the restored state, and its decayed rate
        scaled by a new training.learning_rate (``rates``: before, now). The inverse_sqrt rate needs nothing: it is
        computed from the config before every update."""
        cfg = self.cfg
        if cfg.lr_schedule != "plateau":
            return
        self.scheduler.factor, self.scheduler.patience = cfg.lr_decay_factor, cfg.lr_decay_patience
        self.scheduler.min_lrs = [cfg.min_learning_rate] * len(self.optimizer.param_groups)
        if rates is not None:
            before, now = rates
            self.learning_rates = [max(rate * now / before, cfg.min_learning_rate) for rate in self.learning_rates]

    def schedule(self, progress: Progress, batches_in_epoch: int) -> None:
        """inverse_sqrt: the rate of the next update from the config, the updates made so far and the data
        position (the cool-down), so that a resume takes up a new rate or cool-down and still repeats an
        unchanged run exactly. The scheduler's state only counts the updates."""
        cfg = self.cfg
        if cfg.lr_schedule != "inverse_sqrt":
            return
        rate = cfg.learning_rate * self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
        if cfg.cooldown_epochs is not None:
            epochs_done = progress.epoch + progress.batch_in_epoch / max(1, batches_in_epoch)
            rate *= min(1.0, (cfg.max_epochs - epochs_done) / cfg.cooldown_epochs)
        self.learning_rates = [rate] * len(self.optimizer.param_groups)

    def after_evaluation(self, score: float) -> None:
        """plateau: the dev score decides whether the rate decays."""
        if self.cfg.lr_schedule == "plateau":
            self.scheduler.step(score)

    def step(self, batch: Batch, counts: bool, progress: Progress, checkpoints: CheckpointStore) -> tuple[float, int]:
        """One update; returns the summed loss and the number of target tokens over all ranks, or (0, 0) when
        a non-finite loss or gradient made it skip the update (``diverged`` after too many in a row)."""
        with self.precision.autocast():
            loss, cross_entropy = self.criterion(self.step_model, batch)
        if not counts:
            loss, cross_entropy = loss * 0.0, cross_entropy * 0.0
        loss_sum, cross_entropy_sum, tokens = self.world.sum(
            loss.item(), cross_entropy.item(), batch.num_target_tokens if counts else 0
        )
        self.optimizer.zero_grad(set_to_none=True)
        if not math.isfinite(loss_sum):
            return self._skip(progress, "loss", checkpoints)
        scaler = self.precision.scaler
        # DDP averages gradients over ranks: scaled so, they are those of the global batch's mean token loss
        scaler.scale(loss * self.world.size / tokens).backward()
        scaler.unscale_(self.optimizer)
        clip = self.cfg.clip_grad_norm
        grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), math.inf if clip is None else clip)
        if scaler.is_enabled():
            # float16: an overflowing gradient is the scaler's to handle (it skips the update and lowers the
            # scale), not a sign of divergence
            scale = scaler.get_scale()
            scaler.step(self.optimizer)
            scaler.update()
            if scaler.get_scale() < scale:
                progress.scaler_skipped_steps += 1
                return cross_entropy_sum, int(tokens)
        elif torch.isfinite(grad_norm):
            self.optimizer.step()
        else:
            return self._skip(progress, "gradient norm", checkpoints)
        if self.cfg.lr_schedule == "inverse_sqrt":
            self.scheduler.step()  # counts the update; ``schedule`` sets the rate
        progress.nonfinite_in_a_row = 0
        return cross_entropy_sum, int(tokens)

    def _skip(self, progress: Progress, what: str, checkpoints: CheckpointStore) -> tuple[float, int]:
        limit = self.cfg.max_nonfinite_steps
        progress.skip_update(what)
        if progress.nonfinite_in_a_row >= limit:
            raise diverged(progress, what, limit, checkpoints)
        return 0.0, 0
