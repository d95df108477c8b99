"""Reading parallel text strictly, and fetching small_parallel_enja with pinned checksums."""

import functools
import http.server
import shutil
import threading

import pytest

from honyaku.core import workers as core_workers
from honyaku.core.config_files import load_config
from honyaku.core.data_config import SplitFiles
from honyaku.core.errors import HonyakuError
from honyaku.data.catalogue import BUILTIN_CORPORA, fetch_corpus, resolve_corpus_dir
from honyaku.data.pairs import read_parallel, tokenized_text
from honyaku.training.trainer import Trainer

from .conftest import toy_config

FILES = sorted(BUILTIN_CORPORA["small_parallel_enja"].sha256)


def write(path, data: bytes):
    path.write_bytes(data)
    return str(path)


def test_reads_aligned_files_and_tsv(tmp_path):
    src = write(tmp_path / "a.en", b"hello .\ngood night .\n")
    tgt = write(tmp_path / "a.ja", "こんにちは 。\nおやすみ 。\r\n".encode())
    assert read_parallel(SplitFiles(src=src, tgt=tgt)) == (
        ["hello .", "good night ."],
        ["こんにちは 。", "おやすみ 。"],
    )
    tsv = write(tmp_path / "a.tsv", "hello .\tこんにちは 。\n".encode())
    assert read_parallel(SplitFiles(tsv=tsv)) == (["hello ."], ["こんにちは 。"])


@pytest.mark.parametrize(
    ("src", "tgt", "message"),
    [
        (b"a\nb\nc\n", b"x\ny\n", r"a\.src has 3 lines but .*b\.tgt has 2.*first unmatched line: 3"),
        (b"a\n\xff\xfe b\n", b"x\ny\n", r"a\.src:2: invalid UTF-8"),
        (b"", b"", r"a\.src: file is empty"),
        (b"a\n \nc\n", b"x\ny\nz\n", r"a\.src:2: empty sentence"),
    ],
)
def test_bad_parallel_files_name_file_and_line(tmp_path, src, tgt, message):
    split = SplitFiles(src=write(tmp_path / "a.src", src), tgt=write(tmp_path / "b.tgt", tgt))
    with pytest.raises(HonyakuError, match=message):
        read_parallel(split)


def test_bad_tsv_names_line(tmp_path):
    with pytest.raises(HonyakuError, match=r"a\.tsv:2: expected 2 tab-separated fields, found 1"):
        read_parallel(SplitFiles(tsv=write(tmp_path / "a.tsv", b"a\tb\nno tab here\n")))
    with pytest.raises(HonyakuError, match=r"missing\.en: file not found"):
        read_parallel(SplitFiles(src=str(tmp_path / "missing.en"), tgt=str(tmp_path / "missing.ja")))


@pytest.fixture
def corpus_server(tmp_path, corpus_dir):
    """An HTTP server on 127.0.0.1 serving a copy of the corpus that a test may damage."""
    served = tmp_path / "served"
    served.mkdir()
    for name in FILES:
        shutil.copy(corpus_dir / name, served / name)
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_fills_the_cache_with_verified_files(corpus_server, corpus_dir, tmp_path, monkeypatch):
    _, url = corpus_server
    monkeypatch.setenv("HONYAKU_CORPUS_URL", url)
    monkeypatch.delenv("HONYAKU_DATA_DIR", raising=False)
    directory = resolve_corpus_dir("small_parallel_enja")  # not cached yet: downloads
    assert directory == resolve_cache()
    for name in FILES:
        assert (directory / name).read_bytes() == (corpus_dir / name).read_bytes()
    assert sorted(p.name for p in directory.iterdir()) == FILES  # no temporary files left behind


def test_corrupted_download_is_reported_and_not_kept(corpus_server, tmp_path, monkeypatch):
    served, url = corpus_server
    monkeypatch.setenv("HONYAKU_CORPUS_URL", url)
    (served / "test.ja").write_bytes((served / "test.ja").read_bytes()[:-100])  # truncated in transit
    with pytest.raises(HonyakuError, match=r"test\.ja \(download\): SHA-256 mismatch, expected d37dc460"):
        fetch_corpus("small_parallel_enja")
    cached = resolve_cache()
    assert not (cached / "test.ja").exists()
    assert not list(cached.glob(".*"))  # no temporary file left
    assert sorted(p.name for p in cached.iterdir()) == [f for f in FILES if f != "test.ja"]  # verified ones kept

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    (served / "train.en").unlink()
    with pytest.raises(HonyakuError, match=r"train\.en: download failed: HTTP 404 from http://127\.0\.0\.1"):
        fetch_corpus("small_parallel_enja")
    assert list(resolve_cache().iterdir()) == []


def resolve_cache():
    from honyaku.data.catalogue import cache_dir

    return cache_dir() / "small_parallel_enja"


def test_resolution_order(corpus_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HONYAKU_DATA_DIR", str(corpus_dir))
    assert resolve_corpus_dir("small_parallel_enja") == corpus_dir
    explicit = tmp_path / "explicit"
    with pytest.raises(HonyakuError, match=r"explicit \(--data-dir\): not a small_parallel_enja directory, missing"):
        resolve_corpus_dir("small_parallel_enja", data_dir=explicit)
    monkeypatch.delenv("HONYAKU_DATA_DIR")
    with pytest.raises(HonyakuError, match="run 'honyaku data fetch --corpus small_parallel_enja' first"):
        resolve_corpus_dir("small_parallel_enja", download=False)
    fetched = fetch_corpus("small_parallel_enja", source_dir=corpus_dir)  # `honyaku data fetch --from DIR`
    assert resolve_corpus_dir("small_parallel_enja", download=False) == fetched == resolve_cache()


RAW_PAIRS = [
    ("I'm hungry.", "おなかがすいた。"),
    ("Tom likes cats very much.", "トムは猫がとても好きです。"),
    ("Where is the station?", "駅はどこですか。"),
    ("Please help me.", "私を手伝ってください。"),
]


def raw_tsv_config(tmp_path, format_: str | None):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{en}\t{ja}\n" for en, ja in RAW_PAIRS * 5), encoding="utf-8")
    split = {"tsv": str(tsv)} | ({"format": format_} if format_ else {})
    data = {"src_lang": "en", "tgt_lang": "ja", "train": split, "dev": split}
    return load_config(toy_config(tmp_path, data=data))


def test_a_raw_text_corpus_trains_on_the_processors_tokens_and_undeclared_raw_text_is_refused(tmp_path):
    trainer = Trainer(raw_tsv_config(tmp_path, "raw"), tmp_path / "run", progress_bar=False)
    trainer.set_up(resume=False)
    assert {"i", "'m", "hungry", ".", "me", "?"} <= set(trainer.src_vocab.tokens)
    assert "me." not in trainer.src_vocab.tokens and "I'm" not in trainer.src_vocab.tokens
    assert {"猫", "駅", "。"} <= set(trainer.tgt_vocab.tokens) and "駅はどこですか。" not in trainer.tgt_vocab.tokens
    assert trainer.dev.references[2] == "駅 は どこ です か 。"

    for format_ in (None, "tokenized"):
        with pytest.raises(
            HonyakuError, match=r"pairs\.tsv \(source column\): looks like raw text.*data\.train\.format: raw"
        ):
            Trainer(raw_tsv_config(tmp_path, format_), tmp_path / "refused", progress_bar=False).set_up(resume=False)
    with pytest.raises(
        HonyakuError, match=r"toy\.yaml: data\.(train|dev)\.format: must be one of tokenized, raw, got 'text'"
    ):
        raw_tsv_config(tmp_path, "text")


def test_raw_text_is_tokenized_in_worker_processes_in_input_order(monkeypatch):
    monkeypatch.setattr(core_workers, "WORKER_CHUNK", 7)  # 40 sentences: chunks for two workers
    sentences = [f"{english} ({number})" for number, (english, _) in enumerate(RAW_PAIRS * 10)]
    tokenize = functools.partial(tokenized_text, "english")
    assert core_workers.map_chunks(tokenize, sentences, workers=2) == tokenize(sentences)
    assert tokenize(sentences)[:2] == ["i 'm hungry . ( 0 )", "tom likes cats very much . ( 1 )"]
