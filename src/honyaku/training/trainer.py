"""The trainer: a run's loop over epochs and steps, its evaluations, early stopping and budget stops, and the
checkpoints from which a resumed run continues exactly as if it had never stopped; ``train`` and ``prepare``, the
Python side of honyaku train and honyaku prepare. The files of a run directory: ``honyaku.modeldir``."""

from __future__ import annotations

import copy
import functools
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from honyaku.core.config import Config, changed_settings, setting_text
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.core.runtime import configure_threads, resolve_device, resolve_precision
from honyaku.data.batching import Batch, Pairs, batches_on_device, make_batches
from honyaku.data.catalogue import DataPlaces
from honyaku.data.store import store_info
from honyaku.data.vocabulary import Vocabulary
from honyaku.modeldir import (
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    CURVES_FILE,
    LOG_FILE,
    METRICS_FILE,
    TRAINING_STORE,
    WEIGHTS_FILE,
    InitialModel,
    load_weights,
    remove_store,
    save_weights,
)
from honyaku.models.factory import build_model, count_parameters
from honyaku.training.checkpoint import BestCheckpoints, CheckpointStore, OutputsBeforeStop
from honyaku.training.distributed import World, join_world, leave_world
from honyaku.training.evaluation import DevEvaluation
from honyaku.training.optimization import (
    MixedPrecision,
    Updater,
    regularization_summary,
)
from honyaku.training.preparation import PreparedData, run_data
from honyaku.training.records import EpochDisplay, MetricsLog, Progress, random_states, restore_random_states, run_log

logger = logging.getLogger(__name__)


def _logged(method: Callable[..., Any]) -> Callable[..., Any]:
    """A ``Trainer`` method whose messages go to its run's log (``run_log``)."""

    @functools.wraps(method)
    def logged(self: Trainer, *args: Any, **kwargs: Any) -> Any:
        with run_log(self.run_dir, self.world.is_main):
            return method(self, *args, **kwargs)

    return logged


class Trainer:
    def __init__(
        self,
        config: Config,
        run_dir: Path,
        places: DataPlaces | None = None,
        progress_bar: bool = True,
        world: World | None = None,
        device: str | None = None,
    ):
        self.config, self.run_dir, self.places = config, run_dir, places or DataPlaces()
        self.world = world or World()
        self.progress_bar = progress_bar and self.world.is_main
        configure_threads()
        self.device = resolve_device(device or config.training.device)
        self.precision = MixedPrecision(resolve_precision(config.training.precision, self.device), self.device)
        self.checkpoints = CheckpointStore(run_dir, keep=config.training.keep_last_checkpoints)
        self.best = BestCheckpoints(run_dir, config.training.keep_best_checkpoints, config.training.higher_is_better)
        self.outputs_before_stop = OutputsBeforeStop(run_dir, self.best)
        self.progress = Progress()
        self.batches_in_epoch = 0
        self.before_stop_evaluation: dict[str, Any] | None = None  # the state a larger budget goes on from

    # --- set-up ------------------------------------------------------------------------------------------

    @_logged
    def set_up(self, resume: bool, data_ready: bool = False, changed: dict[str, tuple[Any, Any]] | None = None) -> None:
        """Prepare the data (honyaku.training.preparation; ``data_ready``: the run's, prepared before, read back), build
        model and optimizer; restore everything if resuming, taking up the training settings the resume
        ``changed`` ({"training.key": (before, now)}) that the restored states would otherwise override."""
        cfg = self.config
        torch.manual_seed(cfg.training.seed)
        prepared = run_data(cfg, self.run_dir, self.places, resume or data_ready, self.world)
        self.src_vocab, self.tgt_vocab = prepared.src_vocab, prepared.tgt_vocab
        self.src_subwords, self.tgt_subwords = prepared.src_subwords, prepared.tgt_subwords
        self.training_pairs = prepared.training_pairs
        self.dev = DevEvaluation(prepared, cfg, self.device, self.precision)

        self.model = initial_model(cfg, (len(self.src_vocab), len(self.tgt_vocab)), resume).to(self.device)
        self.step_model = self.world.wrap(self.model, self.device, cfg.training.seed)  # the model or its DDP wrapper
        if cfg.training.compile:
            self.step_model = torch.compile(self.step_model)  # checkpoints keep saving self.model, uncompiled
        self.update = Updater(self.model, self.step_model, cfg.training, self.precision, self.world)
        if resume:
            state, checkpoint, skipped = self.checkpoints.load_latest(self.model)
            for reason in skipped:
                logger.info(f"skipping a damaged checkpoint: {reason}")
            self.update.load_state_dict(state)
            self.progress = Progress.restored(state["progress"])
            restore_random_states(state, self.world, self.device, cfg.training.seed + self.progress.step)
            logger.info(f"resuming from {checkpoint.name}")
            if self.progress.budget_reached and not self.progress.exhausted_budget(cfg.training):
                self._continue_past_budget(state.get("before_stop_evaluation"))
            self.update.take_up_plateau_settings((changed or {}).get("training.learning_rate"))
            if self.world.is_main:
                self.best.forget_after(self.progress.step)
        elif self.world.is_main:
            cfg.save(self.run_dir / CONFIG_FILE)
        if self.world.is_main:
            self.metrics = MetricsLog(self.run_dir / METRICS_FILE, keep_rows=self.progress.metrics_rows)

    def _continue_past_budget(self, before_stop_evaluation: dict[str, Any] | None) -> None:
        """Go on with a run whose budget a resume raised. An evaluation its stop made between two scheduled ones
        is set aside, with what it changed (patience, best score and weights, plateau schedule, metrics.csv), so
        that the run goes on as one that never stopped."""
        logger.info(f"continuing a run that had {self.progress.finished}: the budget is larger now")
        self.progress.finished, self.progress.budget_reached = None, None
        if before_stop_evaluation is None:
            return
        self.progress = Progress.restored(before_stop_evaluation["progress"])
        self.update.scheduler.load_state_dict(before_stop_evaluation["scheduler"])
        self.update.learning_rates = before_stop_evaluation["learning_rates"]
        if self.world.is_main:
            self.outputs_before_stop.put_back()
        logger.info(f"the evaluation made at that stop (step {self.progress.step:,}) is set aside")

    @property
    def train_data(self) -> Pairs:
        """The current epoch's training pairs as ids."""
        return self.training_pairs.epoch(self.progress.epoch)

    def _save_checkpoint(self) -> None:
        randomness = random_states(self.world, self.device)  # a collective: every rank takes part
        if self.world.is_main:
            state = {
                **self.update.state_dict(),
                "progress": self.progress.to_dict(),
                **({"before_stop_evaluation": self.before_stop_evaluation} if self.before_stop_evaluation else {}),
                **randomness,
            }
            self.checkpoints.save(self.model, state, self.progress.step)

    @_logged
    def train(self) -> Progress:
        progress = self.progress
        logger.info(
            f"model {self.config.model.arch}: {count_parameters(self.model):,} parameters; vocab "
            f"{len(self.src_vocab)}/{len(self.tgt_vocab)}; {len(self.training_pairs):,} training pairs; "
            f"device {self.device}" + (f" × {self.world.size} processes" if self.world.distributed else "")
        )
        if regularization := regularization_summary(self.config):
            logger.info(f"regularization: {regularization}")
        if progress.finished:
            logger.info(f"this run already finished ({progress.finished}); nothing to do")
            return progress
        while progress.finished is None:
            if budget := progress.exhausted_budget(self.config.training):
                self._finish(budget)
                break
            self._train_epoch()
        skipped = f"; {progress.skipped_steps} updates skipped (non-finite)" if progress.skipped_steps else ""
        if progress.scaler_skipped_steps:
            skipped += f"; {progress.scaler_skipped_steps} updates skipped by the float16 loss scaler"
        logger.info(f"training finished: {progress.finished}{skipped}")
        return progress

    def _train_epoch(self) -> None:
        cfg, progress = self.config.training, self.progress
        data = self.train_data
        batches = make_batches(data, cfg.batch_size, cfg.batch_tokens, cfg.seed, progress.epoch)
        self.batches_in_epoch = len(batches)
        display = EpochDisplay(progress, len(batches), cfg, bar=self.progress_bar)
        self.model.train()
        on_device = batches_on_device(data, batches[progress.batch_in_epoch :], self.world.share, self.device)
        for batch, counts in on_device:
            started = time.perf_counter()
            loss, tokens = self._train_step(batch, counts)
            seconds = time.perf_counter() - started
            if self.world.distributed:  # the same clock on every rank, so that max_minutes stops them together
                seconds = self.world.sum(seconds)[0] / self.world.size
            progress.add_step(loss, tokens, seconds)
            display.step(tokens, seconds)
            if progress.batch_in_epoch == len(batches):
                progress.epoch += 1
                progress.batch_in_epoch = 0
                if cfg.eval_every_steps is None:
                    self._evaluate_and_checkpoint()
            if cfg.eval_every_steps is not None and progress.step % cfg.eval_every_steps == 0:
                self._evaluate_and_checkpoint()
            elif cfg.checkpoint_every_steps is not None and progress.step % cfg.checkpoint_every_steps == 0:
                self._save_checkpoint()
            if progress.finished is None and (budget := progress.exhausted_budget(cfg)):
                self._finish(budget)
            if progress.finished is not None:
                break
        display.close()

    def _train_step(self, batch: Batch, counts: bool = True) -> tuple[float, int]:
        """One update (``Updater.step``) at the rate of this point of the run."""
        self.update.schedule(self.progress, self.batches_in_epoch)
        return self.update.step(batch, counts, self.progress, self.checkpoints)

    def _finish(self, budget: str) -> None:
        """End a run whose budget is used up, evaluating the model unless this step just was. The checkpoint keeps
        the state before that evaluation too, for a resume with a larger budget (``_continue_past_budget``)."""
        progress = self.progress
        if progress.window_tokens:
            self.before_stop_evaluation = {
                "progress": progress.to_dict(),
                "scheduler": copy.deepcopy(self.update.scheduler.state_dict()),
                "learning_rates": self.update.learning_rates,
            }
            if self.world.is_main:
                self.outputs_before_stop.keep()
            self._evaluate()
        progress.finished, progress.budget_reached = f"reached {budget}", budget  # rather than early stopping
        self._save_checkpoint()

    def _evaluate_and_checkpoint(self) -> None:
        self._evaluate()
        self._save_checkpoint()

    def _evaluate(self) -> None:
        cfg, progress = self.config.training, self.progress
        # rank 0 evaluates; every rank takes its decisions from the same figures
        dev_loss, dev_bleu = self.world.from_main(
            (self.dev.loss(self.model), self.dev.bleu(self.model)) if self.world.is_main else None
        )
        score = dev_bleu if cfg.higher_is_better else dev_loss
        improved = progress.add_score(score, cfg.higher_is_better)
        if self.world.is_main:
            if improved:
                save_weights(self.model, self.run_dir / WEIGHTS_FILE)
            self.best.offer(self.model, progress.step, score)
        self.update.schedule(progress, self.batches_in_epoch)  # the rate training goes on with, for the log
        row = progress.close_window(dev_loss, dev_bleu, self.update.learning_rates[0], self.batches_in_epoch)
        if self.world.is_main:
            self.metrics.append(row)
        logger.info(
            f"step {row['step']} epoch {row['epoch']:.2f}: train loss {row['train_loss']:.3f}, dev loss "
            f"{dev_loss:.3f}, dev BLEU {dev_bleu:.2f}{' (best)' if improved else ''}, lr {row['learning_rate']:.2e}, "
            f"{row['target_tokens_per_s']:,.0f} target tokens/s"
        )
        self.update.after_evaluation(score)
        if cfg.patience is not None and progress.evals_without_improvement >= cfg.patience:
            progress.finished = (
                f"early stopping: dev {cfg.validation_metric} did not improve in {cfg.patience} evaluations"
            )
        if self.world.is_main:
            self.metrics.plot(self.run_dir / CURVES_FILE)


def initial_model(cfg: Config, vocab_sizes: tuple[int, int], resume: bool) -> nn.Module:
    """The network the config describes; when fine-tuning (``training.init_from``), with the weights it starts from
    (a resumed run has its own, from its checkpoint)."""
    model = build_model(cfg.model, *vocab_sizes, Vocabulary.pad_id)
    if cfg.training.init_from is not None and not resume:
        initial = InitialModel.find(cfg.training.init_from)
        try:
            start_from(model, initial, cfg, vocab_sizes)
        except HonyakuError as error:
            raise HonyakuError(f"training.init_from: {error}") from None
        logger.info(f"fine-tuning: the weights of {initial.weights} to start from")
    return model


def start_from(model: nn.Module, initial: InitialModel, cfg: Config, vocab_sizes: tuple[int, int]) -> None:
    """``initial``'s weights into ``model``. Where its vocabularies grew (training.grow_vocabulary), the rows of
    the appended tokens (embeddings, output layer) start at the mean of the inherited rows: a new token starts
    as an average one rather than at random."""
    inherited_sizes = initial.vocabulary_sizes(cfg)
    if inherited_sizes == vocab_sizes:
        load_weights(model, initial.weights)
        return
    parent = build_model(cfg.model, *inherited_sizes, Vocabulary.pad_id)
    load_weights(parent, initial.weights)
    inherited = parent.state_dict()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            rows = inherited[name]
            if rows.shape != tensor.shape:  # a vocabulary's rows: only the first dimension grew
                tensor[len(rows) :] = rows.mean(dim=0)
            tensor[: len(rows)] = rows


def train(
    config_path: str | Path,
    out_dir: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    overrides: list[str] | None = None,
    places: DataPlaces | None = None,
    progress_bar: bool = True,
) -> Progress:
    """Train the model described by a config file into ``out_dir`` (the Python side of ``honyaku train``), its
    data from ``places``."""
    run_dir = Path(out_dir)
    config = load_config(config_path, overrides)
    world, device = join_world(config.training.device)
    try:
        checked = _check_run_dir(config, config_path, run_dir, resume, overwrite) if world.is_main else ({}, False)
        changed, data_ready = world.from_main(checked)
        trainer = Trainer(config, run_dir, places=places, progress_bar=progress_bar, world=world, device=device)
        with run_log(run_dir, world.is_main):
            trainer.set_up(resume=resume, data_ready=data_ready, changed=changed)
            for key, (before, now) in changed.items():
                logger.info(f"resumed with {key}={setting_text(now)} (it was {setting_text(before)})")
            progress = trainer.train()
        del trainer  # out of reach, so that leaving the world frees its model first
        world.barrier()  # rank 0 may still be writing: leave together (gloo aborts a rank that leaves early)
        return progress
    finally:
        leave_world()


def prepare(
    config_path: str | Path,
    out_dir: str | Path,
    overwrite: bool = False,
    overrides: list[str] | None = None,
    places: DataPlaces | None = None,
) -> PreparedData:
    """Prepare a run's data without training it (the Python side of ``honyaku prepare``): the subword models,
    vocabularies and the store of encoded training pairs. ``train`` with the same data and model then starts
    from them."""
    run_dir = Path(out_dir)
    config = load_config(config_path, overrides)
    if (run_dir / CONFIG_FILE).exists() and not overwrite:
        raise HonyakuError(f"{run_dir}: already holds a run; use --overwrite to prepare it afresh")
    _check_run_dir(config, config_path, run_dir, resume=False, overwrite=True)
    with run_log(run_dir):
        prepared = run_data(config, run_dir, places or DataPlaces(), resume=False, world=World())
        config.save(run_dir / CONFIG_FILE)
        logger.info(
            f"prepared {len(prepared.training_pairs):,} training pairs; vocab "
            f"{len(prepared.src_vocab)}/{len(prepared.tgt_vocab)}; {run_dir / TRAINING_STORE}"
        )
    return prepared


def _check_run_dir(
    config: Config, config_path: str | Path, run_dir: Path, resume: bool, overwrite: bool
) -> tuple[dict[str, tuple[Any, Any]], bool]:
    """Refuse to mix runs: a resumed run keeps its data and model; a new one needs an empty place, a run that
    ``honyaku prepare`` prepared with the same data and model, or --overwrite. Gives the training settings that a
    resume changes (a larger budget, a lower learning rate, a forgotten --set), and whether the data is ready."""
    saved_config = run_dir / CONFIG_FILE
    prepared_only = (  # by honyaku prepare, or a run stopped before its first checkpoint: its data is kept
        saved_config.is_file()
        and not (run_dir / CHECKPOINTS_DIR).exists()
        and store_info(run_dir / TRAINING_STORE) is not None
        and not overwrite
    )
    if resume or prepared_only:
        if not saved_config.is_file():
            raise HonyakuError(f"{run_dir}: no run to resume (no {CONFIG_FILE}); drop --resume to start it")
        saved = load_config(saved_config)
        if fixed := changed_settings(config, saved, ("data", "model")):
            differences = "; ".join(
                f"{key} is {setting_text(now)} here, {setting_text(before)} in the run"
                for key, (before, now) in fixed.items()
            )
            what = "a run resumes with" if resume else "a prepared run trains on"
            raise HonyakuError(
                f"{config_path}: differs from {saved_config}: {differences}; {what} the data and model it started with"
            )
        schedules = saved.training.lr_schedule, config.training.lr_schedule
        if resume and schedules[0] != schedules[1]:
            raise HonyakuError(
                f"{config_path}: training.lr_schedule is {schedules[1]} here, {schedules[0]} in the run; a run resumes "
                "with the schedule it started with (its checkpoints hold that schedule's state)"
            )
        config.save(saved_config)
        return (changed_settings(config, saved, ("training",)) if resume else {}), True
    if saved_config.exists() and not overwrite:
        raise HonyakuError(f"{run_dir}: already holds a run; use --resume to continue it or --overwrite to restart")
    if overwrite and run_dir.exists():
        for name in (CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, CURVES_FILE, LOG_FILE):
            (run_dir / name).unlink(missing_ok=True)
        remove_store(run_dir)
        shutil.rmtree(run_dir / CHECKPOINTS_DIR, ignore_errors=True)
    return {}, False
