"""The three corpora read in their publishers' formats (JEC's TSV, the Kyoto articles' XML in a tar.gz, Coursera's
zip), their held-out splits (whole articles; sentence groups kept out of the other corpora), and training data that
holds each pair once."""

import io
import json
import tarfile
import zipfile

import pytest

from honyaku.core.data_config import DataConfig
from honyaku.core.errors import HonyakuError
from honyaku.data.catalogue import SPLITS_STAMP, corpus_listing, resolve_corpus_dir
from honyaku.data.corpus import evaluation_set
from honyaku.data.pairs import sentence_key
from honyaku.data.upstream import KyotoCounts, coursera_split, jec_pairs, join_japanese, kyoto_articles
from honyaku.modeldir import PREPARED_INFO, TRAINING_STORE

ARTICLE = """<?xml version="1.0" encoding="UTF-8"?>
<art orl="ja" trl="en">
<inf>jawiki</inf>
<tit>
<j>{title}</j>
<e type="trans" ver="1">draft title</e>
<e type="check" ver="1">{title_en}</e>
</tit>
<par id="1">
<sen id="1">
<j>雪舟は&quot;画聖&quot;と
称えられる。</j>
<e type="trans" ver="1">first draft</e>
<cmt>修正なし</cmt>
<e type="check" ver="1">an earlier check</e>
<e type="check" ver="2">He was called a &quot;master&quot; &amp;
painter.</e>
</sen>
<sen id="2">
<j></j>
<e type="check" ver="1">An English sentence without its Japanese.</e>
</sen>
</par>
<copyright>copyright (c) 2010 {copyright}</copyright>
</art>
"""


def kyoto_archive(path, articles: dict[str, str]):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in articles.items():
            data = text.encode("utf-8")
            member = tarfile.TarInfo(f"wiki_corpus_2.01/{name}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return path


def test_kyoto_articles_give_titles_and_checked_translations_unescaped_leaving_out_empty_sentences(tmp_path):
    archive = kyoto_archive(
        tmp_path / "wiki.tar.gz",
        {
            "BDS/BDS00001.xml": ARTICLE.format(title="雪舟", title_en="Sesshu", copyright="Avanzare(id:34657)"),
            # one article of the real archive has a bare ampersand in its copyright line
            "GNM/GNM00155.xml": ARTICLE.format(title="光陽", title_en="Koyo", copyright="EONseven&i(id:89677)"),
        },
    )
    counts = KyotoCounts()
    articles = list(kyoto_articles(archive, counts))
    assert [article.name for article in articles] == ["BDS00001.xml", "GNM00155.xml"]
    assert articles[0].pairs == [
        ("Sesshu", "雪舟"),
        ('He was called a "master" & painter.', '雪舟は"画聖"と 称えられる。'),
    ]
    assert (counts.articles, counts.pairs, counts.empty, counts.repaired) == (
        2,
        4,
        2,
        ["wiki_corpus_2.01/GNM/GNM00155.xml"],
    )


def test_a_broken_kyoto_article_or_archive_is_named(tmp_path):
    archive = kyoto_archive(tmp_path / "wiki.tar.gz", {"BDS/BDS00002.xml": "<art><sen><j>途中で"})
    with pytest.raises(
        HonyakuError, match=r"wiki\.tar\.gz \(wiki_corpus_2\.01/BDS/BDS00002\.xml\): not well-formed XML"
    ):
        list(kyoto_articles(archive))
    (tmp_path / "plain.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(HonyakuError, match=r"plain\.tar\.gz: not a readable tar\.gz archive"):
        list(kyoto_articles(tmp_path / "plain.tar.gz"))


def test_coursera_japanese_is_joined_back_into_text():
    assert join_japanese("トロント 大学 へ ようこそ 。") == "トロント大学へようこそ。"
    assert (
        join_japanese("機械 学習 の machine learning と R 言語 、 Win - Win")
        == "機械学習のmachine learningとR言語、Win-Win"
    )
    assert join_japanese("すでに 文 です。") == "すでに文です。"


def test_coursera_splits_are_read_from_the_zip_aligned(tmp_path):
    archive = tmp_path / "Coursera_En-Ja.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Coursera_En-Ja/dev.en.txt", "Welcome to the  University of Toronto.\nThank you.\n")
        zipped.writestr("Coursera_En-Ja/dev.ja.txt", "トロント 大学 へ ようこそ 。\nありがとう ございます 。\n")
        zipped.writestr("Coursera_En-Ja/test.en.txt", "One.\nTwo.\n")
        zipped.writestr("Coursera_En-Ja/test.ja.txt", "一つ。\n")
    assert coursera_split(archive, "dev") == (
        ["Welcome to the University of Toronto.", "Thank you."],
        ["トロント大学へようこそ。", "ありがとうございます。"],
    )
    with pytest.raises(HonyakuError, match=r"test\.en\.txt has 2 lines but test\.ja\.txt 1: not aligned"):
        coursera_split(archive, "test")
    with pytest.raises(HonyakuError, match=r"has no Coursera_En-Ja/train\.en\.txt"):
        coursera_split(archive, "train")


def test_jec_lines_give_english_and_japanese_and_a_bad_line_is_named(tmp_path):
    path = tmp_path / "jec.tsv"
    path.write_text("#0001\tXではないか\tIs it not X?\t难道\n#0002\t短い\n", encoding="utf-8")
    pairs = jec_pairs(path)
    assert next(pairs) == ("Is it not X?", "Xではないか")
    with pytest.raises(HonyakuError, match=r"jec\.tsv:2: expected 4 tab-separated fields \(id, ja, en, zh\), found 2"):
        next(pairs)


def lines(directory, split, lang):
    return (directory / f"{split}.{lang}").read_text(encoding="utf-8").splitlines()


def test_the_shared_corpora_are_found_beside_small_parallel_enja_and_split_without_leakage(corpus_dir, monkeypatch):
    monkeypatch.setenv("HONYAKU_DATA_DIR", str(corpus_dir))
    graded = resolve_corpus_dir("graded_enja")
    older = {
        sentence_key(line)
        for name in ("small_parallel_enja", "tatoeba_enja")
        for split in ("train", "dev", "test")
        for lang in ("en", "ja")
        for line in lines(resolve_corpus_dir(name), split, lang)
    }
    for split in ("dev", "test"):
        assert len(lines(graded, split, "en")) == 1000 == len(lines(graded, split, "ja"))
        assert not {sentence_key(s) for lang in ("en", "ja") for s in lines(graded, split, lang)} & older
    held_out = set(lines(graded, "dev", "en")) | set(lines(graded, "test", "en"))
    assert not held_out & set(lines(graded, "train", "en"))  # a sentence group lies in one split
    assert len(lines(graded, "train", "en")) + 2000 == 153_651 + 5_304  # the Tanaka pairs and JEC's, each once

    coursera = resolve_corpus_dir("coursera_enja")
    assert [len(lines(coursera, split, "ja")) for split in ("train", "dev", "test")] == [50_543, 555, 2_068]
    assert lines(coursera, "train", "ja")[0] == "トロント大学へようこそ。"
    test = evaluation_set(DataConfig(corpus="coursera_enja", src_lang="ja", tgt_lang="en"), "test")
    assert test.raw and len(test.sources) == 2_068 and test.references[0] == [lines(coursera, "test", "en")[0]]

    listed = {corpus.name: corpus for corpus in corpus_listing()}
    assert listed["graded_enja"].pairs == {"train": 156_955, "dev": 1000, "test": 1000}
    assert "CC BY-SA 4.0" in listed["graded_enja"].about and "JEC" in listed["graded_enja"].about
    stamp = json.loads((graded / SPLITS_STAMP).read_text(encoding="utf-8"))
    assert stamp["pairs"] == {"train": 156_955, "dev": 1000, "test": 1000}


def test_training_holds_each_pair_once_the_first_corpus_keeps_it(tmp_path):
    from honyaku.training.trainer import prepare

    from .conftest import toy_config

    first = tmp_path / "first.tsv"
    first.write_text("w1 w2\tw3 w4\nw5 w6\tw7 w8\nw1 w2\tw3 w4\n", encoding="utf-8")
    second = tmp_path / "second.tsv"
    second.write_text("W1  w2\tw3 w4\nw9 w10\tw11 w12\n", encoding="utf-8")  # its first pair is the first's
    config = toy_config(
        tmp_path,
        data={"train": [{"tsv": str(first)}, {"tsv": str(second)}], "deduplicate": True},
        training={"max_epochs": 1},
    )
    prepared = prepare(config, tmp_path / "run")
    assert len(prepared.training_pairs) == 3
    info = (tmp_path / "run" / TRAINING_STORE).resolve().parent / PREPARED_INFO
    counted = [(c["read"], c["duplicates"]) for c in json.loads(info.read_text(encoding="utf-8"))["corpora"]]
    assert counted == [(2, 1), (1, 1)]
