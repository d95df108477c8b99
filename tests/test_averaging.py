import csv

import pytest
import safetensors.torch
import torch

from honyaku import HonyakuError, Translator
from honyaku.averaging import average_run
from honyaku.training import train

from .conftest import toy_config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("averaging")
    training = {"max_epochs": 2, "eval_every_steps": 15, "keep_last_checkpoints": 3, "keep_best_checkpoints": 3}
    train(toy_config(tmp_path, training=training), tmp_path / "run", progress_bar=False)
    return tmp_path / "run"


def mean_of(paths):
    loaded = [safetensors.torch.load_file(str(p)) for p in paths]
    return {name: sum(w[name] for w in loaded) / len(loaded) for name in loaded[0]}


def test_average_of_the_last_checkpoints(run, tmp_path):
    steps = sorted((run / "checkpoints").glob("step-*"))
    assert len(steps) == 3
    sources = average_run(run, tmp_path / "avg", last=2)
    assert sources == [s / "model.safetensors" for s in steps[-2:]]
    averaged = safetensors.torch.load_file(str(tmp_path / "avg" / "model.safetensors"))
    for name, tensor in mean_of(sources).items():
        torch.testing.assert_close(averaged[name], tensor)
    assert len(Translator.load(tmp_path / "avg").translate(["w1 w2 w3"])) == 1


def test_average_of_the_best_checkpoints_follows_dev_scores(run, tmp_path):
    with (run / "metrics.csv").open() as stream:
        rows = sorted(csv.DictReader(stream), key=lambda r: -float(r["dev_bleu"]))
    sources = average_run(run, tmp_path / "avg", best=3)
    assert [int(p.stem.split("-")[1]) for p in sources] == [int(r["step"]) for r in rows[:3]]
    assert (
        safetensors.torch.load_file(str(sources[0])).keys()
        == safetensors.torch.load_file(str(run / "model.safetensors")).keys()
    )
    for name, tensor in safetensors.torch.load_file(str(sources[0])).items():  # the best is model.safetensors
        assert torch.equal(tensor, safetensors.torch.load_file(str(run / "model.safetensors"))[name])


def test_average_refuses_what_is_not_kept(run, tmp_path):
    with pytest.raises(HonyakuError, match="3 best checkpoints kept, 4 asked for"):
        average_run(run, tmp_path / "avg", best=4)
    with pytest.raises(HonyakuError, match="--last N or --best N"):
        average_run(run, tmp_path / "avg")
