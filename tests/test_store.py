"""The store of encoded training pairs: an exact round trip, never a half-written store, and resumed runs that
train from it without the corpus."""

import numpy as np
import pytest
import safetensors.torch

from honyaku.core.errors import HonyakuError
from honyaku.data import store
from honyaku.data.batching import ParallelData, make_batches
from honyaku.data.store import StoredPairs, store_info, write_store
from honyaku.modeldir import TRAINING_STORE
from honyaku.training.trainer import prepare, train

from .conftest import toy_config


def test_a_store_gives_back_the_pairs_it_was_written_with(tmp_path):
    rng = np.random.default_rng(0)
    sentences = [rng.integers(0, 70_000, size=rng.integers(1, 30)).tolist() for _ in range(500)]
    data = ParallelData(src=[[s % 60_000 for s in sentence] for sentence in sentences], tgt=sentences[::-1])
    write_store(tmp_path / "store", data, (60_000, 70_000), {"config": "toy"})
    stored = StoredPairs(tmp_path / "store")
    assert len(stored) == 500 and list(stored.src) == data.src and list(stored.tgt) == data.tgt
    assert [lengths.tolist() for lengths in stored.lengths()] == [lengths.tolist() for lengths in data.lengths()]
    assert stored.info["id_types"] == {"src": "uint16", "tgt": "uint32"} and stored.info["config"] == "toy"
    batches = [make_batches(pairs, 32, 300, seed=1, epoch=4) for pairs in (stored, data)]
    assert [b.tolist() for b in batches[0]] == [b.tolist() for b in batches[1]]


def test_a_truncated_store_is_reported_as_damaged_not_read_short(tmp_path):
    data = ParallelData(src=[[4, 5, 3]] * 10, tgt=[[2, 6, 7, 3]] * 10)
    write_store(tmp_path / "store", data, (10, 10), {})
    ids = tmp_path / "store" / "tgt.ids.npy"
    ids.write_bytes(ids.read_bytes()[:-2])
    with pytest.raises(HonyakuError, match=r"damaged store \(tgt.ids.npy does not hold the 40 elements"):
        StoredPairs(tmp_path / "store")


def test_an_interrupted_write_leaves_no_store(tmp_path, monkeypatch):
    data = ParallelData(src=[[4, 5, 3]] * 10, tgt=[[2, 6, 3]] * 10)
    writes = []
    write = store._ArrayFile.write

    def failing_write(self, values):
        writes.append(values)
        if len(writes) == 5:
            raise OSError(28, "No space left on device")
        write(self, values)

    monkeypatch.setattr(store._ArrayFile, "write", failing_write)
    with pytest.raises(OSError):
        write_store(tmp_path / "store", data, (10, 10), {})
    assert store_info(tmp_path / "store") is None and list(tmp_path.iterdir()) == []
    with pytest.raises(HonyakuError, match="no store"):
        StoredPairs(tmp_path / "store")


def test_a_resumed_run_trains_from_its_store_without_the_corpus_and_equals_an_uninterrupted_one(tmp_path):
    training = {"eval_every_steps": 20, "patience": None}
    straight = train(toy_config(tmp_path, training={**training, "max_epochs": 2}), tmp_path / "straight")
    config = toy_config(tmp_path, training={**training, "max_epochs": 1})
    train(config, tmp_path / "resumed", progress_bar=False)
    assert store_info(tmp_path / "resumed" / TRAINING_STORE)["pairs"] == 3000
    (tmp_path / "train" / "data.src").unlink()  # the store is all that a resumed run reads of its training pairs
    resumed = train(config, tmp_path / "resumed", resume=True, overrides=["training.max_epochs=2"])
    assert resumed.step == straight.step
    weights = [safetensors.torch.load_file(tmp_path / run / "model.safetensors") for run in ("straight", "resumed")]
    assert all(weights[0][name].equal(weights[1][name]) for name in weights[0])


def test_a_prepared_run_trains_as_one_that_prepared_its_own_data(tmp_path):
    training = {"max_epochs": 1, "patience": None}
    straight = train(toy_config(tmp_path, training=training), tmp_path / "straight")
    config = toy_config(tmp_path, training=training)
    prepared = prepare(config, tmp_path / "prepared")
    assert len(prepared.training_pairs) == 3000 and not (tmp_path / "prepared" / "checkpoints").exists()
    with pytest.raises(HonyakuError, match="already holds a run; use --overwrite"):
        prepare(config, tmp_path / "prepared")
    with pytest.raises(HonyakuError, match="data.train_limit is 100 here, null in the run; a prepared run trains on"):
        train(config, tmp_path / "prepared", overrides=["data.train_limit=100"])
    (tmp_path / "train" / "data.src").unlink()  # training reads the prepared pairs, not the corpus
    assert train(config, tmp_path / "prepared").step == straight.step
    weights = [safetensors.torch.load_file(tmp_path / run / "model.safetensors") for run in ("straight", "prepared")]
    assert all(weights[0][name].equal(weights[1][name]) for name in weights[0])
