"""Translating real input from the command line: each text from its own language (a text no model reads left as
it is, with a warning naming it), whole documents with paragraph-long lines, and a file translation that SIGTERM
interrupts and --resume finishes exactly as an uninterrupted one would."""

import os
import signal
import subprocess
import sys
import time

import pytest

from honyaku import Translator
from honyaku.data.sentences import parts_within

from .conftest import REPO
from .test_cli import SLICE, honyaku


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus_dir):
    out = tmp_path_factory.mktemp("documents") / "run"
    result = honyaku("train", REPO / "configs" / "seed_keras.yaml", "--out", out, "--data-dir", corpus_dir, *SLICE)
    assert result.returncode == 0, result.stderr
    return out


def test_each_text_is_translated_from_its_own_language_and_an_unread_one_is_left_with_a_warning():
    found = honyaku("translate", "Good night.", "おやすみなさい。", "안녕하세요", "123")
    assert found.returncode == 0, found.stderr
    english_to_japanese, japanese_to_english, korean, number = found.stdout.splitlines()
    assert any("\u3040" <= char <= "\u30ff" for char in english_to_japanese)  # kana: Japanese
    assert japanese_to_english.isascii() and any(char.isalpha() for char in japanese_to_english)
    assert korean == "안녕하세요" and number == "123"  # no letters: no language's, left as it is
    assert "honyaku: warning: text 3 reads as Korean (Hangul), which no model here translates" in found.stderr
    assert "text 4" not in found.stderr
    pinned = honyaku("translate", "--src", "en", "トイレはどこですか？")
    assert "honyaku: warning: text 1 reads as Japanese, but the model translates en→ja" in pinned.stderr


def test_a_document_with_paragraph_long_lines_is_translated_line_for_line(run, tmp_path):
    paragraph = " , ".join(["i am tom and it 's a pen"] * 60) + " ."  # one sentence of 1,619 characters
    lines = ["i am tom ."] * 30 + [paragraph] + ["it 's a pen ."] * 30
    (tmp_path / "in.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    done = honyaku("translate", "-m", run, "-f", tmp_path / "in.txt", "-o", tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    out = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    assert len(out) == len(lines) and all(out)
    parts = parts_within(paragraph, 1000, "en")  # at its clauses: two parts
    assert len(parts) == 2 and out[30] == "".join(
        Translator.load(run).translate(parts)
    )  # Japanese joins without spaces
    refused = honyaku(
        "translate", "-m", run, "-f", tmp_path / "in.txt", "-o", tmp_path / "r.txt", "--on-long", "refuse"
    )
    assert refused.returncode == 1 and "honyaku: error: text 31: sentence 1 has 1,619 characters" in refused.stderr
    assert not (tmp_path / "r.txt").exists() and not (tmp_path / "r.txt.partial").exists()


def test_sigterm_keeps_the_finished_lines_and_resume_gives_what_an_uninterrupted_run_gives(run, tmp_path):
    words = ["i am tom .", "it 's a pen .", "he is a good teacher .", "where is the station ?", "i like cats ."]
    lines = [f"{words[i % 5]} {words[(i * 7) % 5]}" for i in range(6000)]
    (tmp_path / "in.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    whole = honyaku("translate", "-m", run, "-f", tmp_path / "in.txt", "-o", tmp_path / "whole.txt")
    assert whole.returncode == 0, whole.stderr

    command = [sys.executable, "-m", "honyaku", "translate", "-m", str(run), "-f", str(tmp_path / "in.txt")]
    command += ["-o", str(tmp_path / "out.txt")]
    partial = tmp_path / "out.txt.partial"
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (partial.is_file() and partial.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "--resume continues after them" in stderr, stderr
    kept = partial.read_text(encoding="utf-8").splitlines()
    assert 0 < len(kept) < len(lines) and not (tmp_path / "out.txt").exists()
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]  # no hidden leftovers

    resumed = honyaku(*command[3:], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after the {len(kept):,} lines" in resumed.stderr
    assert (tmp_path / "out.txt").read_bytes() == (tmp_path / "whole.txt").read_bytes()
    assert not partial.exists()
