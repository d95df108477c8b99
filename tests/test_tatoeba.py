"""tatoeba_enja: split without leakage from one pinned file, scored against every translation of a sentence; and
training sets that leave out every held-out sentence of the corpora a model trains on."""

import json
import random
import shutil

import pytest
import yaml

from honyaku.core.data_config import DataConfig, TrainingCorpus
from honyaku.core.errors import HonyakuError
from honyaku.core.metrics import bleu, chrf
from honyaku.data.catalogue import SPLITS_STAMP, fetch_corpus, resolve_corpus_dir
from honyaku.data.corpus import evaluation_set, held_out_splits
from honyaku.data.held_out import split_tatoeba
from honyaku.data.pairs import sentence_key, sentence_keys
from honyaku.modeldir import TRAINING_STORE
from honyaku.training.trainer import prepare

from .conftest import toy_config


def grouped_pairs(seed: int) -> list[tuple[str, str]]:
    """Pairs in groups of 1 to 6 that share English or Japanese sentences, as Tatoeba's do."""
    rng = random.Random(seed)
    pairs = []
    for group in range(80):
        english = [f"English {group}.{i}." for i in range(rng.randint(1, 2))]
        japanese = [f"日本語{group}の{i}。" for i in range(rng.randint(1, 3))]
        pairs += [(e, j) for e in english for j in japanese]
    return pairs


def split_of(directory, pairs):
    found = {}
    for split in ("train", "dev", "test"):
        english = (directory / f"{split}.en").read_text(encoding="utf-8").splitlines()
        japanese = (directory / f"{split}.ja").read_text(encoding="utf-8").splitlines()
        found |= {pair: split for pair in zip(english, japanese)}
    assert sorted(found) == sorted(pairs)  # every pair once
    return found


def test_splits_are_exact_in_size_deterministic_and_never_share_a_sentence(tmp_path):
    pairs = grouped_pairs(seed=1)
    tsv = tmp_path / "jpn.txt"
    tsv.write_text("".join(f"{e}\t{j}\n" for e, j in pairs), encoding="utf-8")
    assert split_tatoeba(tsv, tmp_path, held_out=20) == {"train": len(pairs) - 40, "dev": 20, "test": 20}
    found = split_of(tmp_path, pairs)
    for side in (0, 1):
        splits_of_sentence = {}
        for pair, split in found.items():
            splits_of_sentence.setdefault(pair[side], set()).add(split)
        assert all(len(splits) == 1 for splits in splits_of_sentence.values())

    shuffled = pairs[:]
    random.Random(2).shuffle(shuffled)  # the same groups in another file order land in the same splits
    again = tmp_path / "again"
    again.mkdir()
    tsv.write_text("".join(f"{e}\t{j}\n" for e, j in shuffled), encoding="utf-8")
    split_tatoeba(tsv, again, held_out=20)
    assert split_of(again, pairs) == found


def test_tatoeba_is_taken_from_beside_the_other_corpus_checked_and_split_once(corpus_dir, tatoeba_dir, monkeypatch):
    monkeypatch.setenv("HONYAKU_DATA_DIR", str(corpus_dir))  # small_parallel_enja's: tatoeba_enja is beside it
    directory = resolve_corpus_dir("tatoeba_enja")
    assert (directory / "jpn.txt").read_bytes() == (tatoeba_dir / "jpn.txt").read_bytes()
    lines = {
        split: len((directory / f"{split}.en").read_text(encoding="utf-8").splitlines()) for split in ("dev", "test")
    }
    assert lines == {"dev": 1000, "test": 1000}
    stamp = (directory / SPLITS_STAMP).stat().st_mtime_ns
    assert resolve_corpus_dir("tatoeba_enja") == directory and (directory / SPLITS_STAMP).stat().st_mtime_ns == stamp

    test = evaluation_set(DataConfig(corpus="tatoeba_enja"), "test")
    assert test.raw and len(set(test.sources)) == len(test.sources) < 1000
    assert sum(len(refs) for refs in test.references) == 1000 and max(len(refs) for refs in test.references) > 2
    backwards = evaluation_set(DataConfig(corpus="tatoeba_enja", src_lang="ja", tgt_lang="en"), "test")
    assert sum(len(refs) for refs in backwards.references) == 1000 and backwards.sources[0].endswith(("。", "？", "！"))


def test_a_damaged_local_copy_is_refused_and_nothing_is_kept(tatoeba_dir, tmp_path):
    damaged = tmp_path / "copy"
    damaged.mkdir()
    (damaged / "jpn.txt").write_bytes((tatoeba_dir / "jpn.txt").read_bytes()[:-10])
    with pytest.raises(HonyakuError, match=r"jpn\.txt \(.*copy\): SHA-256 mismatch, expected 9d4b9abc"):
        fetch_corpus("tatoeba_enja", source_dir=damaged)
    with pytest.raises(HonyakuError, match=r"nothing \(--data-dir\): not a tatoeba_enja directory, missing jpn\.txt$"):
        resolve_corpus_dir("tatoeba_enja", data_dir=tmp_path / "copy" / "nothing")
    from honyaku.data.catalogue import cache_dir

    assert not (cache_dir() / "tatoeba_enja" / "jpn.txt").exists()


def test_every_reference_of_a_sentence_counts_however_many_it_has():
    hypotheses = ["私は太っている。", "進め。"]
    every = [["俺はデブだ。", "私は太っている。"], ["進め。"]]
    assert round(bleu(hypotheses, every, "ja-mecab").score, 6) == 100.0 == round(chrf(hypotheses, every).score, 6)
    assert bleu(hypotheses, ["俺はデブだ。", "進め。"], "ja-mecab").score < 50  # one reference each


def test_sentence_keys_match_raw_text_and_the_corpus_tokens():
    assert sentence_key("I don't know.") == sentence_key("i don 't know .")
    assert sentence_key("私はトムです。") == sentence_key("私 は トム です 。")
    assert sentence_key('He said "no".') == sentence_key("he said '' no '' .")
    assert sentence_key("10時です") == sentence_key("１０ 時 です")
    assert sentence_key("I know.") != sentence_key("I know!")


def test_training_leaves_out_pairs_whose_sentence_is_held_out_of_either_corpus(corpus_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HONYAKU_DATA_DIR", str(corpus_dir))
    both = DataConfig(train=[TrainingCorpus(corpus="small_parallel_enja"), TrainingCorpus(corpus="tatoeba_enja")])
    files = held_out_splits(both)
    keys = sentence_keys(files)
    assert sorted(str(f.src).split("/")[-2:][0] for f in files) == ["small_parallel_enja"] * 2 + ["tatoeba_enja"] * 2
    assert sentence_key((corpus_dir / "test.ja").read_text(encoding="utf-8").splitlines()[0]) in keys

    config = toy_config(tmp_path)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    dev_sources = (tmp_path / "dev" / "data.src").read_text().splitlines()
    train = tmp_path / "train" / "data.src"
    lines = train.read_text().splitlines()
    leaked = {3: dev_sources[0], 10: dev_sources[5], 11: dev_sources[5].upper()}  # case aside, the same sentence
    for number, sentence in leaked.items():
        lines[number] = sentence
    train.write_text("\n".join(lines) + "\n")
    unique_leaks = sum(
        1 for i, line in enumerate(lines) if sentence_key(line) in {sentence_key(s) for s in dev_sources}
    )
    raw["data"]["exclude_held_out"] = True
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    prepare(config, tmp_path / "run")
    corpora = json.loads((tmp_path / "run" / TRAINING_STORE / "store.json").read_text())["corpora"]
    assert unique_leaks >= 3 and corpora[0]["held_out"] == unique_leaks
    assert corpora[0]["read"] == 3000 - unique_leaks
    assert f"{unique_leaks:,} training pairs left out" in (tmp_path / "run" / "train.log").read_text(encoding="utf-8")
    shutil.rmtree(tmp_path / "run")
