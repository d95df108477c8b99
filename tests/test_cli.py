"""The command line end to end on a slice of small_parallel_enja, and bad input as one-line errors."""

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from honyaku import HonyakuError, Translator, pipeline
from honyaku.data.casing import load_casing

from .conftest import REPO

SLICE = [
    "--set",
    "data.train_limit=2000",
    "--set",
    "model.hidden_size=128",
    "--set",
    "training.max_epochs=1",
    "--set",
    "training.log_every_steps=5",
]


def honyaku(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "honyaku", *map(str, args)], input=stdin, capture_output=True, text=True, env=env
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus_dir):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = honyaku("train", REPO / "configs" / "seed_keras.yaml", "--out", out, "--data-dir", corpus_dir, *SLICE)
    assert result.returncode == 0, result.stderr
    assert "training finished: reached max_epochs=1" in result.stderr
    return out


def test_train_writes_a_complete_run_directory(run):
    for name in (
        "config.yaml",
        "src_vocab.txt",
        "tgt_vocab.txt",
        "model.safetensors",
        "metrics.csv",
        "curves.png",
        "train.log",
    ):
        assert (run / name).is_file(), name
    assert yaml.safe_load((run / "config.yaml").read_text())["data"]["train_limit"] == 2000
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,train_loss,dev_loss,dev_bleu") and len(rows) == 2
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    log = (run / "train.log").read_text()
    assert " step 5 epoch 0.31: train loss " in log and " step 15 epoch 0.94: " in log  # no terminal: log lines


def test_translate_from_arguments_file_and_stdin(run, tmp_path):
    by_argument = honyaku("translate", "-m", run, "i am tom .", "it 's a pen .")
    assert by_argument.returncode == 0, by_argument.stderr
    lines = by_argument.stdout.splitlines()
    assert len(lines) == 2 and all(lines)
    (tmp_path / "in.txt").write_text("i am tom .\nit 's a pen .\n")
    by_file = honyaku("translate", "-m", run, "--input", tmp_path / "in.txt", "--output", tmp_path / "out.txt")
    assert by_file.returncode == 0 and (tmp_path / "out.txt").read_text().splitlines() == lines
    by_stdin = honyaku("translate", "-m", run, stdin="i am tom .\nit 's a pen .\n")
    assert by_stdin.stdout.splitlines() == lines
    typed = "i am tom .\n" + "x" * 2000 + "\nit 's a pen .\n"
    interactive = honyaku("translate", "-m", run, "-i", "--on-long", "refuse", stdin=typed)
    assert interactive.returncode == 0 and interactive.stdout.splitlines() == lines  # the bad line is skipped
    assert interactive.stderr.count("honyaku: error: text 2: sentence 1 has 2,000 characters") == 1
    assert len(honyaku("translate", "-m", run, "-i", stdin=typed).stdout.splitlines()) == 3  # the long one in parts


def test_evaluate_prints_bleu_and_chrf_with_signatures(run, corpus_dir, tmp_path):
    result = honyaku("evaluate", "-m", run, "--split", "test", "--data-dir", corpus_dir)
    assert result.returncode == 0, result.stderr
    assert "500 sentences (test)" in result.stdout
    assert "BLEU = " in result.stdout and "tok:none" in result.stdout and "chrF2 = " in result.stdout
    assert len((run / "eval" / "test.hyp").read_text().splitlines()) == 500
    by_files = honyaku(
        "evaluate",
        "-m",
        run,
        "--src",
        corpus_dir / "dev.en",
        "--ref",
        corpus_dir / "dev.ja",
        "--hyp-out",
        tmp_path / "dev.hyp",
    )
    assert by_files.returncode == 0 and "500 sentences (dev.en)" in by_files.stdout
    natural = honyaku("evaluate", "-m", run, "--split", "test", "--detok", "--data-dir", corpus_dir)
    assert natural.returncode == 0, natural.stderr
    assert "tok:ja-mecab" in natural.stdout and "scored on natural text" in natural.stdout
    hypotheses = (run / "eval" / "test.detok.hyp").read_text(encoding="utf-8").splitlines()
    japanese_space_japanese = re.compile(r"[^\x00-\x7fＡ-Ｚａ-ｚ０-９] [^\x00-\x7fＡ-Ｚａ-ｚ０-９]")
    assert len(hypotheses) == 500 and not any(japanese_space_japanese.search(h) for h in hypotheses)


def test_raw_text_in_natural_text_out(run):
    translator = Translator.load(run)
    raw = translator.translate(["I am Tom.", "It's a pen."])
    assert raw == translator.translate(["i am tom .", "it 's a pen ."])  # the same tokens reach the model
    tokens = translator.translate(["i am tom .", "it 's a pen ."], pretokenized=True)
    assert all(" " in t for t in tokens) and [t.replace(" ", "") for t in tokens] == raw
    cli = honyaku("translate", "-m", run, "--pretokenized", "i am tom .", "it 's a pen .")
    assert cli.stdout.splitlines() == tokens


def test_japanese_to_english_reads_japanese_and_writes_cased_english(tmp_path, corpus_dir):
    run = tmp_path / "jaen"
    result = honyaku(
        "train",
        REPO / "configs" / "seed_keras.yaml",
        "--out",
        run,
        "--data-dir",
        corpus_dir,
        *SLICE,
        "--set",
        "data.src_lang=ja",
        "--set",
        "data.tgt_lang=en",
    )
    assert result.returncode == 0, result.stderr
    assert load_casing(run / "casing.tsv")["tom"] == "Tom"
    (translation,) = Translator.load(run).translate(["私はトムです。"])
    assert translation[:1].isupper() and " ." not in translation  # natural English, not corpus tokens


def test_python_api_matches_the_cli(run):
    translator = Translator.load(run)
    cli_lines = honyaku("translate", "-m", run, "i am tom .", "it 's a pen .").stdout.splitlines()
    assert translator.translate(["i am tom .", "", "it 's a pen ."]) == [cli_lines[0], "", cli_lines[1]]
    translate = pipeline("translation", model=run)
    assert translate("i am tom .") == [{"translation_text": cli_lines[0]}]
    assert translate(["i am tom .", "it 's a pen ."]) == [{"translation_text": t} for t in cli_lines]
    assert pipeline("translation_en_to_ja", model=run)("i am tom .") == translate("i am tom .")
    assert translator.translate(["i am tom ."], beam_size=1) == [cli_lines[0]]
    beam = honyaku("translate", "-m", run, "--beam-size", "4", "i am tom .").stdout.splitlines()
    assert translator.translate(["i am tom ."], beam_size=4) == beam
    n_best = translator.translate_n_best(["i am tom .", ""], n_best=3, beam_size=4)
    assert [len(found) for found in n_best] == [3, 1] and n_best[0][0].text == beam[0]
    assert n_best[0][0].score >= n_best[0][1].score >= n_best[0][2].score
    assert translate("i am tom .", num_beams=4, num_return_sequences=3) == [
        {"translation_text": t.text} for t in n_best[0]
    ]
    lines = honyaku("translate", "-m", run, "-b", "4", "--n-best", "3", "i am tom .", "hi .").stdout.splitlines()
    assert len(lines) == 6 and lines[0].startswith(f"0 ||| {beam[0]} ||| ") and lines[5].startswith("1 ||| ")
    with pytest.raises(HonyakuError, match=r"n-best \(3\) cannot exceed the beam size \(2\)"):
        translator.translate_n_best(["i am tom ."], n_best=3, beam_size=2)
    for beam_size, problem in ((0, "the beam size must be at least 1, got 0"), (-3, "at least 1, got -3")):
        with pytest.raises(HonyakuError, match=problem):
            translator.translate(["i am tom ."], beam_size=beam_size)
    refused = honyaku("translate", "-m", run, "-b", "5", "--n-best", "9", "i am tom .")
    assert refused.returncode != 0 and "n-best (9) cannot exceed the beam size (5)" in refused.stderr
    assert not refused.stdout
    with pytest.raises(HonyakuError, match="sentence 2 has 100,000 characters; the limit is 1,000"):
        translator.translate(["i am tom .", "a" * 100_000], split_sentences=False)
    assert translator.translate(["\x00\u200b", "\ud800 i am tom ."])[0] == ""
    with pytest.raises(HonyakuError, match="does not match the model's direction en→ja"):
        pipeline("translation_ja_to_en", model=run)


def assert_one_line_error(result, message):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("honyaku: error: "), result.stderr
    assert message in lines[0], lines[0]


def test_bad_input_gives_one_line_errors(run, tmp_path, corpus_dir):
    assert_one_line_error(
        honyaku("train", tmp_path / "nope.yaml", "--out", tmp_path / "r"), "nope.yaml: config file not found"
    )
    (tmp_path / "typo.yaml").write_text("model:\n  hiden_size: 3\n")
    assert_one_line_error(
        honyaku("train", tmp_path / "typo.yaml", "--out", tmp_path / "r"), "unknown key 'model.hiden_size'"
    )

    (tmp_path / "a.en").write_text("one .\ntwo .\nthree .\n")
    (tmp_path / "a.ja").write_bytes("一 。\n二 。\n".encode())
    (tmp_path / "bad.ja").write_bytes("一 。\n".encode() + b"\xff\n" + "三 。\n".encode())
    for tgt, message in (("a.ja", "a.en has 3 lines but"), ("bad.ja", "bad.ja:2: invalid UTF-8")):
        config = {
            "data": {
                "corpus": None,
                "train": {"src": str(tmp_path / "a.en"), "tgt": str(tmp_path / tgt)},
                "dev": {"src": str(tmp_path / "a.en"), "tgt": str(tmp_path / tgt)},
            }
        }
        (tmp_path / "own.yaml").write_text(yaml.safe_dump(config))
        assert_one_line_error(
            honyaku("train", tmp_path / "own.yaml", "--out", tmp_path / "own", "--overwrite"), message
        )

    assert_one_line_error(honyaku("train", REPO / "configs" / "seed_keras.yaml", "--out", run), "already holds a run")
    assert_one_line_error(
        honyaku("translate", "-m", tmp_path / "missing", "hi ."), "missing: model directory not found"
    )
    assert_one_line_error(
        honyaku("evaluate", "-m", run, "--src", tmp_path / "a.en", "--ref", tmp_path / "a.ja"), "a.en has 3 lines but"
    )
    assert_one_line_error(
        honyaku("train", REPO / "configs" / "seed_keras.yaml", "--out", tmp_path / "r", "--resume"), "no run to resume"
    )
    missing_folder = tmp_path / "no" / "such" / "out.ja"
    assert_one_line_error(
        honyaku("translate", "-m", run, "-o", missing_folder, "hi ."),
        f"out.ja (--output): its folder {missing_folder.parent}",
    )
    assert_one_line_error(honyaku("translate", "-m", run, "-o", tmp_path, "hi ."), "(--output): a folder; give a file")
    for port in ("80000", "-1", "http"):
        refused = honyaku("serve", "--port", port)
        assert refused.returncode == 2 and f"{port!r} is not a port number (0 to 65535)" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_a_resume_keeps_the_data_and_model_and_logs_the_training_settings_it_changes(run, tmp_path, corpus_dir):
    resumed = tmp_path / "resumed"
    shutil.copytree(run, resumed)
    config = resumed / "config.yaml"
    assert_one_line_error(
        honyaku(
            "train", config, "--out", resumed, "--resume", "--set", "model.hidden_size=64", "--data-dir", corpus_dir
        ),
        "model.hidden_size is 64 here, 128 in the run; a run resumes with the data and model it started with",
    )
    result = honyaku(
        "train",
        config,
        "--out",
        resumed,
        "--resume",
        "--set",
        "training.learning_rate=0.0005",
        "--data-dir",
        corpus_dir,
    )
    assert result.returncode == 0, result.stderr
    changes = [line for line in result.stderr.splitlines() if line.startswith("resumed with ")]
    assert changes == ["resumed with training.learning_rate=0.0005 (it was 0.001)"]
    assert changes[0] in (resumed / "train.log").read_text()
    assert yaml.safe_load(config.read_text())["training"]["learning_rate"] == 0.0005


def test_missing_or_corrupted_checkpoint_gives_one_line_errors(run, tmp_path, corpus_dir):
    damaged = tmp_path / "damaged"
    shutil.copytree(run, damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert_one_line_error(
        honyaku("translate", "-m", damaged, "hi ."), "model.safetensors: corrupted or truncated checkpoint"
    )
    weights.write_bytes(b"\x00" * 64)
    assert_one_line_error(
        honyaku("translate", "-m", damaged, "hi ."), "model.safetensors: corrupted or truncated checkpoint"
    )
    weights.unlink()
    assert_one_line_error(honyaku("translate", "-m", damaged, "hi ."), "no model.safetensors yet")
    latest = damaged / "checkpoints" / (damaged / "checkpoints" / "latest").read_text()
    (latest / "training_state.pt").write_bytes(b"not a checkpoint")
    assert_one_line_error(
        honyaku("train", damaged / "config.yaml", "--out", damaged, "--resume", "--data-dir", corpus_dir),
        "training_state.pt: corrupted or unreadable training state",
    )


def test_an_unknown_device_is_named_in_one_line(capsys):
    from honyaku.apps.cli import main
    from honyaku.inference.pretrained import pretrained_model

    assert main(["translate", "--device", "gpu", "-m", str(pretrained_model(("en", "ja"))), "hello"]) == 1
    assert capsys.readouterr().err == "honyaku: error: unknown device 'gpu': cpu, cuda, cuda:N or auto\n"
