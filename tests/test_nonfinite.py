"""A NaN or infinite loss or gradient skips its update; several in a row stop the run, its files intact."""

import logging
import math

import pytest
import torch

from honyaku import Translator
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.training.trainer import Trainer, train

from .conftest import toy_config

TRAINING = {"max_epochs": 1, "eval_every_steps": 5, "max_nonfinite_steps": 3}
DATA = {"train_limit": 800}  # 13 steps


def trainer_for(config, run):
    trainer = Trainer(load_config(config), run, progress_bar=False)
    trainer.set_up(resume=False)
    return trainer


def poison_loss(trainer, bad_steps):
    """Make the loss NaN at the given (1-based) steps."""
    cross_entropy = trainer.update.criterion.cross_entropy

    def poisoned(logits, targets):
        loss = cross_entropy(logits, targets)
        return loss * math.nan if trainer.progress.step + 1 in bad_steps else loss

    trainer.update.criterion.cross_entropy = poisoned


def test_non_finite_losses_and_gradients_skip_their_updates(tmp_path, capsys):
    trainer = trainer_for(toy_config(tmp_path, data=DATA, training=TRAINING), tmp_path / "run")
    poison_loss(trainer, {3, 4})
    parameter = next(trainer.model.parameters())
    parameter.register_hook(lambda grad: grad * math.inf if trainer.progress.step + 1 == 9 else grad)
    progress = trainer.train()

    assert progress.finished == "reached max_epochs=1" and progress.skipped_steps == 3
    adam_steps = {int(state["step"]) for state in trainer.update.optimizer.state.values()}
    assert adam_steps == {progress.step - 3}
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    log = (tmp_path / "run" / "train.log").read_text()
    assert "step 3: loss not finite, update skipped (1 in a row)" in log
    assert "step 4: loss not finite, update skipped (2 in a row)" in log
    assert "step 9: gradient norm not finite, update skipped (1 in a row)" in log
    shown = capsys.readouterr().err  # each message once on stderr and once in the log, while training only
    assert shown.count("step 3: loss not finite") == log.count("step 3: loss not finite") == 1
    assert not logging.getLogger("honyaku.training").handlers
    assert "3 updates skipped (non-finite)" in log


def test_too_many_in_a_row_stop_the_run_with_its_checkpoint_usable(tmp_path):
    config = toy_config(tmp_path, data=DATA, training=TRAINING)
    run = tmp_path / "run"
    trainer = trainer_for(config, run)
    poison_loss(trainer, set(range(8, 100)))
    with pytest.raises(HonyakuError) as stopped:
        trainer.train()
    message = str(stopped.value)
    assert "training stopped at step 10: 3 updates in a row had a non-finite loss" in message
    assert "--resume continues from checkpoints/step-00000005" in message

    assert Translator.load(run, device="cpu").translate(["w1 w2"], pretokenized=True)  # best weights load
    progress = train(config, run, resume=True, progress_bar=False)  # and the run goes on where it was saved
    assert progress.finished == "reached max_epochs=1" and progress.skipped_steps == 0
