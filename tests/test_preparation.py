"""Preparing a run's data: streamed through workers into a directory that runs with the same data share, written
whole or not at all, bad lines named by file and line; several corpora drawn by their weights."""

import json
from collections import Counter

import numpy as np
import pytest
import yaml

from honyaku.core import workers as core_workers
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.data import encoding
from honyaku.data.catalogue import DataPlaces
from honyaku.data.store import StoredPairs
from honyaku.modeldir import PREPARED_INFO, TRAINING_STORE
from honyaku.training import preparation
from honyaku.training.trainer import Trainer, prepare

from .conftest import random_sequences, toy_config

SUBWORDS = {"subwords": {"model": "unigram", "vocab_size": 40}}


def test_runs_of_the_same_data_share_its_preparation_and_others_do_not(tmp_path):
    config = toy_config(tmp_path, data=SUBWORDS)
    places = DataPlaces(prepared_dir=str(tmp_path / "prepared"))
    prepare(config, tmp_path / "first", places=places)
    prepare(config, tmp_path / "second", places=places)
    assert "(made before, reused)" in (tmp_path / "second" / "train.log").read_text(encoding="utf-8")
    stores = [(tmp_path / run / TRAINING_STORE).resolve() for run in ("first", "second")]
    assert stores[0] == stores[1] and (stores[0].parent / PREPARED_INFO).is_file()
    assert (tmp_path / "first" / "src.spm.model").read_bytes() == (tmp_path / "second" / "src.spm.model").read_bytes()
    other_dev = tmp_path / "other-dev.src"
    other_dev.write_bytes((tmp_path / "dev" / "data.src").read_bytes())
    prepare(config, tmp_path / "other-dev", overrides=[f"data.dev.src={other_dev}"], places=places)
    assert len(list((tmp_path / "prepared").iterdir())) == 1  # dev is read by each run, not prepared
    prepare(config, tmp_path / "shorter", overrides=["data.max_len=9"], places=places)
    assert len(list((tmp_path / "prepared").iterdir())) == 2
    assert len(StoredPairs(tmp_path / "shorter" / TRAINING_STORE)) < len(StoredPairs(stores[0]))


def test_worker_processes_prepare_what_one_process_prepares(tmp_path, monkeypatch):
    monkeypatch.setattr(core_workers, "WORKER_CHUNK", 500)  # 3000 pairs: six chunks, two workers
    monkeypatch.setattr(encoding, "CHUNK", 500)
    config = toy_config(tmp_path, data={**SUBWORDS, "max_len": 9})
    for workers in (1, 2):
        prepare(
            config,
            tmp_path / f"run{workers}",
            places=DataPlaces(prepared_dir=str(tmp_path / f"p{workers}"), workers=workers),
        )
    one, two = (tmp_path / f"run{workers}" / TRAINING_STORE for workers in (1, 2))
    for name in ("src.ids.npy", "src.offsets.npy", "tgt.ids.npy", "tgt.offsets.npy"):
        assert np.array_equal(np.load(one / name), np.load(two / name))
    assert (one.parent / "src_vocab.txt").read_text() == (two.parent / "src_vocab.txt").read_text()
    assert 0 < len(StoredPairs(one)) < 3000  # max_len left some out


def test_an_interrupted_preparation_leaves_nothing_a_later_run_would_take(tmp_path, monkeypatch):
    config = toy_config(tmp_path, data=SUBWORDS)
    places = DataPlaces(prepared_dir=str(tmp_path / "prepared"))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(preparation, "encode_segmented", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare(config, tmp_path / "run", places=places)
    assert list((tmp_path / "prepared").iterdir()) == []
    monkeypatch.undo()
    assert len(prepare(config, tmp_path / "run", overwrite=True, places=places).training_pairs) == 3000


@pytest.mark.parametrize(
    "last_source, message",
    [
        (
            b"w1 w2\nw3\n",
            r"data\.src has 1,?000,?002 lines but .*data\.tgt has 1,?000,?001.*first unmatched line: 1000002",
        ),
        (b"w1 \xff\n", r"data\.src:1000001: invalid UTF-8"),
        (b"   \n", r"data\.src:1000001: empty sentence"),
    ],
)
def test_a_bad_line_deep_in_a_corpus_stops_preparation_with_its_file_and_line(tmp_path, last_source, message):
    config = toy_config(tmp_path)
    train = tmp_path / "train"
    (train / "data.src").write_bytes(b"w1 w2\n" * 1_000_000 + last_source)
    (train / "data.tgt").write_bytes(b"w1 w2\n" * 1_000_001)
    places = DataPlaces(prepared_dir=str(tmp_path / "prepared"))
    with pytest.raises(HonyakuError, match=message):
        prepare(config, tmp_path / "run", places=places)
    assert list((tmp_path / "prepared").iterdir()) == []


# with subword sampling each epoch's pairs are encoded afresh, tags and all
@pytest.mark.parametrize("subwords", [None, {"model": "unigram", "vocab_size": 24, "sampling": {"alpha": 0.1}}])
def test_corpora_are_drawn_by_their_weights_with_their_tags_the_same_for_the_same_seed(tmp_path, subwords):
    config = toy_config(tmp_path, data={"subwords": subwords})
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    other = tmp_path / "other.tsv"
    other.write_text("".join(f"{s}\t{s}\n" for s in random_sequences(500, seed=9)), encoding="utf-8")
    raw["data"]["train"] = [{**raw["data"]["train"], "weight": 0.3}, {"tsv": str(other), "weight": 2, "tag": "<o>"}]
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    trainer = Trainer(load_config(config), tmp_path / "run", progress_bar=False)
    trainer.set_up(resume=False)
    pairs = trainer.training_pairs
    tag = trainer.src_vocab.index["<o>"]
    assert trainer.src_vocab.tokens[4] == "<o>"  # reserved, after the special tokens

    def mix(epoch):
        data = pairs.epoch(epoch)
        return Counter("other" if data.src[i][0] == tag else "first" for i in range(len(data)))

    assert mix(0) == mix(1) == {"first": 900, "other": 1000}  # 0.3 × 3000 and 2 × 500
    drawn = [pairs.epoch(epoch).indices for epoch in (0, 1)]
    assert not np.array_equal(drawn[0], drawn[1])  # another 30% of the first corpus each epoch
    again = Trainer(load_config(config), tmp_path / "again", progress_bar=False)
    again.set_up(resume=False)
    assert np.array_equal(again.training_pairs.epoch(1).indices, drawn[1])
    corpora = json.loads((tmp_path / "run" / TRAINING_STORE / "store.json").read_text())["corpora"]
    assert [(c["pairs"], c["weight"], c["tag"]) for c in corpora] == [(3000, 0.3, None), (500, 2.0, "<o>")]
