"""Learning-rate schedules: the cool-down of inverse_sqrt falls linearly to zero by max_epochs, and a resume
takes up a new learning rate or cool-down (the restored optimizer and scheduler states would keep the old ones)
while an unchanged resume stays exact."""

import csv
import math

import pytest
import safetensors.torch

from honyaku.core.errors import HonyakuError
from honyaku.training.checkpoint import CheckpointStore
from honyaku.training.trainer import prepare, train

from .conftest import toy_config

# 12 updates an epoch on a small model: the schedule is what is tested, not what the model learns
INVERSE_SQRT = {"lr_schedule": "inverse_sqrt", "warmup_steps": 5, "max_epochs": 4, "batch_size": 250}
SMALL = {"embed_dim": 16, "hidden_size": 32}


def metric_rows(run) -> list[dict[str, str]]:
    with (run / "metrics.csv").open(encoding="utf-8") as rows:
        return list(csv.DictReader(rows))


def rates(run) -> list[float]:
    """The learning rate of each evaluation in metrics.csv: the rate training goes on with."""
    return [float(row["learning_rate"]) for row in metric_rows(run)]


def newest_weights(run) -> dict:
    return safetensors.torch.load_file(CheckpointStore(run).latest() / "model.safetensors")


def test_the_cooldown_takes_the_rate_linearly_to_zero_over_the_last_epochs(tmp_path):
    cooled = toy_config(tmp_path, model=SMALL, training={**INVERSE_SQRT, "cooldown_epochs": 2})
    train(cooled, tmp_path / "cooled", progress_bar=False)
    steps = [int(row["step"]) for row in metric_rows(tmp_path / "cooled")]
    assert steps[0] > INVERSE_SQRT["warmup_steps"]
    inverse_sqrt = [0.005 * math.sqrt(INVERSE_SQRT["warmup_steps"] / (step + 1)) for step in steps]
    expected = [rate * factor for rate, factor in zip(inverse_sqrt, (1, 1, 0.5, 0))]
    assert rates(tmp_path / "cooled") == pytest.approx(expected, rel=1e-5)  # as metrics.csv rounds them

    # A run that plateaued and is cooled down by its resume ends where the planned one ends, bit for bit.
    two_epochs = toy_config(tmp_path, model=SMALL, training={**INVERSE_SQRT, "max_epochs": 2})
    train(two_epochs, tmp_path / "resumed", progress_bar=False)
    train(
        two_epochs, tmp_path / "resumed", resume=True, overrides=["training.max_epochs=4", "training.cooldown_epochs=2"]
    )
    assert "resumed with training.cooldown_epochs=2 (it was null)" in (tmp_path / "resumed" / "train.log").read_text()
    assert rates(tmp_path / "resumed") == rates(tmp_path / "cooled")
    planned, resumed = newest_weights(tmp_path / "cooled"), newest_weights(tmp_path / "resumed")
    assert all(tensor.equal(resumed[name]) for name, tensor in planned.items())


@pytest.mark.parametrize("schedule", ["inverse_sqrt", "plateau"])
def test_a_resume_with_half_the_learning_rate_trains_on_at_half_the_rate(tmp_path, schedule):
    training = {**INVERSE_SQRT, "lr_schedule": schedule, "max_epochs": 2}
    train(toy_config(tmp_path, model=SMALL, training=training), tmp_path / "straight", progress_bar=False)
    config = toy_config(tmp_path, model=SMALL, training={**training, "max_epochs": 1})
    train(config, tmp_path / "resumed", progress_bar=False)
    halved = f"training.learning_rate={0.005 / 2}"
    train(config, tmp_path / "resumed", resume=True, overrides=[halved, "training.max_epochs=2"])
    straight, resumed = rates(tmp_path / "straight"), rates(tmp_path / "resumed")
    assert resumed[0] == straight[0]
    assert resumed[1] == pytest.approx(straight[1] / 2, rel=1e-5)


def test_a_resume_keeps_the_schedule_it_started_with(tmp_path):
    config = toy_config(tmp_path, model=SMALL, training=INVERSE_SQRT)
    prepare(config, tmp_path / "run")  # a run to resume: its config and data
    with pytest.raises(HonyakuError, match="training.lr_schedule is plateau here, inverse_sqrt in the run"):
        train(config, tmp_path / "run", resume=True, overrides=["training.lr_schedule=plateau"])
