"""Translating a stream: chunk by chunk, in input order, with errors that name the line and no half-written output."""

import pytest

from honyaku import HonyakuError, Translator
from honyaku.apps.cli import main
from honyaku.data.lines import count_lines, iter_lines, read_lines

from .conftest import random_sequences


def test_a_stream_translates_chunk_by_chunk_as_the_whole_list_does(attention_run):
    translator = Translator.load(attention_run)
    sentences = random_sequences(23, seed=4) + [""]
    expected = translator.translate_n_best(sentences, n_best=2, beam_size=3)
    streamed = list(translator.translate_stream(iter(sentences), n_best=2, beam_size=3, chunk_size=5))
    assert [[t.text for t in ts] for ts in streamed] == [[t.text for t in ts] for ts in expected]
    scores = [t.score for ts in expected for t in ts]  # batched otherwise: equal up to float rounding
    assert [t.score for ts in streamed for t in ts] == pytest.approx(scores, abs=1e-4)
    with pytest.raises(HonyakuError, match="sentence 12 has 1,001 characters"):  # numbered across chunks
        list(translator.translate_stream(sentences[:11] + ["a" * 1001], chunk_size=5, split_sentences=False))


def test_translate_input_writes_the_whole_output_or_nothing(attention_run, tmp_path, capsys):
    sentences = random_sequences(30, seed=5)
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(f"{s}\n" for s in sentences))
    assert (
        main(["translate", "-m", str(attention_run), "--pretokenized", "-q", "-f", str(source), "-o", str(output)]) == 0
    )
    assert read_lines(output) == Translator.load(attention_run).translate(sentences, pretokenized=True)

    output.unlink()
    source.write_text("".join(f"{s}\n" for s in sentences) + "a" * 1001 + "\n")
    strict = ["--on-long", "refuse"]  # by default a long sentence is translated in parts
    assert main(["translate", "-m", str(attention_run), "-f", str(source), "-o", str(output), *strict]) == 1
    assert "text 31: sentence 1 has 1,001 characters" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [source]  # no output, and no temporary file left behind


def test_lines_stream_with_their_numbers_in_errors(tmp_path):
    path = tmp_path / "text.txt"
    path.write_bytes(b"one\r\ntwo\n\nfour")
    assert list(iter_lines(path)) == ["one", "two", "", "four"] and count_lines(path) == 4
    path.write_bytes(b"ok\n" * 1_000_000 + b"bad \xff line\n")
    assert count_lines(path) == 1_000_001
    with pytest.raises(HonyakuError, match=r"text\.txt:1000001: invalid UTF-8 at byte 4"):
        for _ in iter_lines(path):
            pass
