import csv

import pytest
import safetensors.torch
import torch

from honyaku import HonyakuError, Translator
from honyaku.core.config_files import load_config
from honyaku.core.metrics import bleu
from honyaku.data.corpus import read_split
from honyaku.inference.translator import tune_length_penalty
from honyaku.tools.averaging import average_run
from honyaku.tools.bundle import reproduction, training_facts
from honyaku.training.trainer import train

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


def test_an_averaged_directory_keeps_the_training_record_and_its_card_says_how_it_was_made(run, tmp_path):
    sources = average_run(run, tmp_path / "avg", best=2)
    assert (tmp_path / "avg" / "metrics.csv").read_text() == (run / "metrics.csv").read_text()
    steps = ", ".join(str(int(path.stem.split("-")[1])) for path in sources)
    assert f"- The weights are the mean of 2 checkpoints of the run: steps {steps}." in training_facts(tmp_path / "avg")
    assert reproduction(tmp_path / "avg", "toy", half=True) == (
        "`honyaku train configs/toy.yaml --out runs/toy`, then `honyaku average -m runs/toy --best 2 -o "
        "runs/toy.average`, then `honyaku bundle -m runs/toy.average -o DIR --half`"
    )
    average_run(run, tmp_path / "last", last=2)
    assert "honyaku average -m runs/toy --last 2 -o runs/toy.average" in reproduction(tmp_path / "last", "toy", False)


def test_tuning_writes_the_length_penalty_with_the_best_dev_bleu_into_the_config(run, tmp_path):
    average_run(run, tmp_path / "avg", best=3)
    best, results = tune_length_penalty(tmp_path / "avg", [0.0, 1.0, 4.0], beam_size=3)
    assert list(results) == [0.0, 1.0, 4.0]
    assert results[best].score == max(result.score for result in results.values())
    decoding = load_config(tmp_path / "avg" / "config.yaml").decoding
    assert (decoding.length_penalty, decoding.beam_size) == (best, 3)
    translator = Translator.load(tmp_path / "avg")  # the next load searches with what was chosen
    sources, references = read_split(translator.config.data, "dev")
    assert bleu(translator.translate(sources, pretokenized=True), references).score == results[best].score
    record = (tmp_path / "avg" / "length_penalty.tsv").read_text().splitlines()
    assert record[1:] == [f"{alpha:g}\t{result.score:.2f}" for alpha, result in results.items()]
    assert "`honyaku tune -m runs/toy.average --length-penalty 0 1 4`" in reproduction(tmp_path / "avg", "toy", False)
    assert f"0 → {results[0.0].score:.2f}, 1 → " in training_facts(tmp_path / "avg")[-1]


def test_tuning_refuses_greedy_decoding_and_negative_penalties(run, tmp_path):
    average_run(run, tmp_path / "avg", best=1)
    with pytest.raises(HonyakuError, match="greedy decoding"):
        tune_length_penalty(tmp_path / "avg", [0.6, 1.0])
    with pytest.raises(HonyakuError, match="must be ≥ 0"):
        tune_length_penalty(tmp_path / "avg", [-1.0], beam_size=2)


def test_an_averaged_model_keeps_its_content_hash_and_is_converted_once(shared_run, tmp_path, monkeypatch):
    import honyaku.inference.export
    from honyaku.modeldir import stored_weights

    average_run(shared_run, tmp_path / "avg", best=1)
    assert stored_weights(tmp_path / "avg" / "model.safetensors").content_hash is not None
    conversions = []
    convert = honyaku.inference.export.export_ctranslate2
    monkeypatch.setattr(
        honyaku.inference.export, "export_ctranslate2", lambda *args: conversions.append(convert(*args))
    )
    for _ in range(3):
        translation = Translator.load(tmp_path / "avg", device="cpu", backend="ctranslate2").translate(["i am tom ."])
    assert len(conversions) == 1
    assert translation == Translator.load(tmp_path / "avg", device="cpu", backend="torch").translate(["i am tom ."])
