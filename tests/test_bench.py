"""Smoke tests: each benchmark script runs end to end on a tiny setting (timings belong to real runs only)."""

import re
import subprocess
import sys

import pytest
import sacrebleu
import torch
import yaml
from torch.utils.flop_counter import FlopCounterMode

from honyaku.training.trainer import train

from .conftest import REPO, toy_config, write_toy_task


def run_script(*args, cwd):
    result = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_train_speed_reports_a_table_row(tmp_path):
    config = toy_config(tmp_path)
    results = tmp_path / "RESULTS.md"
    output = run_script(
        REPO / "bench" / "train_speed.py", *(config, "--steps", "3", "--warmup", "1", "--profile", "2"),
        *("--results", results), cwd=tmp_path,
    )  # fmt: skip
    assert "toy.yaml: 2 steps by operator" in output and "aten::" in output
    row = output.splitlines()[-1].split(" | ")
    assert row[0] == "| toy.yaml" and int(row[5]) == 3 and float(row[6].replace(",", "")) > 0
    gflops, limit = float(row[9].replace(",", "")), float(row[10].replace(",", ""))
    assert 0 < gflops < limit  # the toy LSTM is far from the matrix-multiply limit
    assert output.splitlines()[-1] in results.read_text()


def test_lstm_flops_equal_those_of_the_same_lstm_unfused(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from train_speed import lstm_flops

    batch, steps, size, hidden = 3, 5, 16, 32
    lstm = torch.nn.LSTM(size, hidden, num_layers=2, batch_first=True, bidirectional=True)
    x = torch.randn(batch, steps, size, requires_grad=True)
    with FlopCounterMode(display=False) as counter:  # it counts LSTMCell's matrix products, not nn.LSTM's
        layer_input = x
        for layer in range(2):
            outputs = []
            for direction in range(2):
                cell = torch.nn.LSTMCell(size if layer == 0 else 2 * hidden, hidden)
                h = c = torch.zeros(batch, hidden)
                states = []
                for t in range(steps) if direction == 0 else reversed(range(steps)):
                    h, c = cell(layer_input[:, t], (h, c))
                    states.append(h)
                outputs.append(torch.stack(states[:: 1 if direction == 0 else -1], dim=1))
            layer_input = torch.cat(outputs, dim=-1)
        layer_input.sum().backward()
    # the unfused run skips the gradient of its zero initial states: one step's h-product per layer and direction
    skipped = 2 * 2 * (2 * batch * 4 * hidden * hidden)
    assert lstm_flops(lstm, x) == counter.get_total_flops() + skipped


def test_quality_writes_its_section_and_keeps_others(tmp_path):
    test = write_toy_task(tmp_path / "test", 50, seed=4)
    config = toy_config(
        tmp_path,
        training={"max_epochs": 1},
        data={"test": {"src": str(test / "data.src"), "tgt": str(test / "data.tgt")}},
    )
    train(config, tmp_path / "runs" / "toy", progress_bar=False)
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Speed\nkept as it is\n")
    outputs = tmp_path / "outputs"
    run_script(
        REPO / "bench" / "quality.py", config, "--runs", tmp_path / "runs", "--results", results,
        "--outputs", outputs, cwd=tmp_path,
    )  # fmt: skip
    text = results.read_text()
    assert "## Speed\nkept as it is" in text and "## Quality (bench/quality.py)" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| toy (")]
    assert "xx→yy" in row and "tok:none" in row
    hypotheses = (outputs / "toy.test.yy").read_text(encoding="utf-8").splitlines()
    references = (test / "data.tgt").read_text(encoding="utf-8").splitlines()
    assert len(hypotheses) == 50 and (outputs / "toy.dev.yy").is_file()
    test_bleu_beam = row.split(" | ")[10]  # the row's score, recomputed from the file alone
    assert test_bleu_beam == f"{sacrebleu.corpus_bleu(hypotheses, [references], tokenize='none').score:.2f}"
    assert row.startswith(f"| toy (`{config}`), training stopped at max_epochs=1 | ")  # not by early stopping
    (columns,) = [line for line in text.splitlines() if line.startswith("| model |")]
    assert row.replace("\\|", "").count(" | ") == columns.count(" | ")  # a cell for every column
    run_script(REPO / "bench" / "quality.py", config, "--runs", tmp_path / "runs", "--results", results, cwd=tmp_path)
    assert results.read_text().count("| toy (") == 1  # a rerun replaces its row
    arguments = ["--average-best", "1", "--length-penalty", "0", "1", "--runs", tmp_path / "runs", "--results", results]
    run_script(REPO / "bench" / "quality.py", config, *arguments, cwd=tmp_path)
    rows = [line for line in results.read_text().splitlines() if line.startswith("| toy (")]
    assert len(rows) == 2 and rows[0] == row  # a row of its own beside the run's
    assert re.match(
        r"\| toy \(`.*toy.yaml`\), training stopped at max_epochs=1, mean of the 1 best checkpoints, "
        r"length penalty [01] chosen on dev \|",
        rows[1],
    )
    assert (tmp_path / "runs" / "toy.average" / "model.safetensors").is_file()
    reseeded = tmp_path / "reseeded.yaml"  # the run's config but for its seed: the row names what differs
    reseeded.write_text(config.read_text().replace("seed: 3", "seed: 4"))
    run_script(REPO / "bench" / "quality.py", reseeded, "--runs", tmp_path / "runs", "--results", results, cwd=tmp_path)
    assert f"| toy (`{reseeded}`), with training.seed=3, training stopped at max_epochs=1 | " in results.read_text()
    members = [tmp_path / "runs" / "toy", tmp_path / "runs" / "toy.average"]
    run_script(REPO / "bench" / "quality.py", "--ensemble", *members, *arguments[2:], cwd=tmp_path)
    (row,) = [line for line in results.read_text().splitlines() if line.startswith("| ensemble of")]
    assert row.startswith(f"| ensemble of `{members[0]}` and `{members[1]}`, length penalty ")
    assert " | xx→yy | " in row and re.search(r" \| 1\.0 \+ 1\.0 \| \d\.\d\d h \+ \d\.\d\d h \| – \| ", row)
    assert (tmp_path / "runs" / "toy.ensemble" / "ensemble.yaml").is_file()


def test_quality_scores_a_model_validated_on_several_corpora_on_its_own_corpus_alone(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from quality import one_corpus

    from honyaku.core.config_files import load_config

    everyday = one_corpus(load_config(REPO / "configs" / "everyday_jaen.yaml").data)
    assert everyday.dev is None and everyday.test is None and everyday.corpus == "small_parallel_enja"
    own_dev = {"corpus": "small_parallel_enja", "src_lang": "en", "tgt_lang": "ja", "dev": [{"src": "d", "tgt": "d"}]}
    own = load_config(toy_config(tmp_path, data=own_dev)).data
    assert one_corpus(own) == own  # one dev set of its own files: scored as the config says


def test_results_sections_replace_rows_by_key_or_take_the_rows_as_given(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from results_file import write_section

    results, speed = tmp_path / "RESULTS.md", ["## Speed", "", "| config | tok/s |", "|---|---:|"]
    write_section(results, "speed", speed, ["| a | 1 |", "| b | 2 |"])
    write_section(results, "speed", speed, ["| b | 3 |"])
    assert "| a | 1 |\n| b | 3 |\n<!-- speed:end -->" in results.read_text()  # b replaced, a kept
    rows = ["| honyaku | rnn | 1 |", "| peer | rnn | 2 |", "| honyaku | transformer | 3 |"]
    peers = ["## Peers", "", "| toolkit | model | tok/s |", "|---|---|---:|"]
    write_section(results, "peers", peers, rows, keep_rows=False)
    write_section(results, "peers", peers, rows, keep_rows=False)
    text = results.read_text()
    assert text.count("## Peers") == 1 and "\n".join(rows) + "\n<!-- peers:end -->" in text
    assert "| a | 1 |\n| b | 3 |" in text  # the other section is left as it was


def test_bench_errors_are_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, REPO / "bench" / "quality.py", tmp_path / "missing.yaml"], capture_output=True, text=True
    )
    assert (
        result.returncode == 1
        and result.stderr.strip() == f"quality.py: error: {tmp_path / 'missing.yaml'}: config file not found"
    )


def test_load_test_survives_its_mix_and_a_sigterm_with_requests_in_flight(tmp_path, attention_run):
    results = tmp_path / "RESULTS.md"
    output = run_script(
        REPO / "bench" / "load_test.py",
        "-m",
        attention_run,
        "--clients",
        "4",
        "--requests",
        "6",
        "--results",
        results,
        cwd=tmp_path,
    )
    row = output.splitlines()[-1]
    assert "| run | 4 × 6 | " in row and "16/16 answered 200, then the server exited (signal SIGTERM)" in row
    assert "## Server under load" in results.read_text()


def test_translate_speed_measures_each_setting_in_its_own_process(tmp_path, attention_run):
    results = tmp_path / "RESULTS.md"
    arguments = ("--split", "dev", "--limit", "12", "--rounds", "2", "--results", results)
    output = run_script(REPO / "bench" / "translate_speed.py", attention_run, *arguments, cwd=tmp_path)
    rows = [line for line in output.splitlines() if line.startswith("| toy (")]
    assert len(rows) == 4 and "greedy, batch 1 | 12 |" in rows[0] and "beam 5, batch 128 | 12 |" in rows[3]
    for row in rows:
        median, spread = row.split(" | ")[2:4]
        fastest, slowest = (float(t) for t in re.fullmatch(r"(\S+)–(\S+) s \(2\)", spread).groups())
        assert fastest <= float(median.removesuffix(" s")) <= slowest  # the median of two rounds, between them
    assert results.read_text().count("| toy (") == 4


def test_translate_speed_compares_pytorch_with_ctranslate2_in_interleaved_rounds(tmp_path, shared_run):
    results = tmp_path / "RESULTS.md"
    script = (REPO / "bench" / "translate_speed.py", shared_run, "--limit", "6", "--engines", "torch", "ctranslate2")
    output = run_script(*script, "--results", results, cwd=tmp_path)
    rows = [line.split(" | ") for line in output.splitlines() if line.startswith("| tiny_shared (")]
    assert len(rows) == 8 and [", cpu ctranslate2, " in row[0] for row in rows] == [False] * 4 + [True] * 4
    for torch_row, ct2_row in zip(rows[:4], rows[4:]):
        torch_seconds, ct2_seconds = (float(row[2].removesuffix(" s")) for row in (torch_row, ct2_row))
        rounding = 0.005  # of the printed times and ratio
        low = (ct2_seconds - rounding) / (torch_seconds + rounding) - rounding
        high = (ct2_seconds + rounding) / max(torch_seconds - rounding, 1e-3) + rounding
        assert low <= float(torch_row[6].removesuffix("×")) <= high  # torch's speed over CTranslate2's
        assert ct2_row[6] == ""
    assert (shared_run / "ctranslate2" / "model.bin").is_file()  # converted before the timed process


def test_time_to_bleu_reports_the_first_crossing_or_not_reached(tmp_path):
    config = toy_config(tmp_path, data={"train_limit": 500})
    results = tmp_path / "RESULTS.md"
    output = run_script(
        REPO / "bench" / "time_to_bleu.py",
        config,
        "--minutes",
        "0.05",
        "--eval-every",
        "4",
        "--thresholds",
        "0",
        "101",
        "--runs",
        tmp_path / "runs",
        "--results",
        results,
        cwd=tmp_path,
    )
    row = output.splitlines()[-1].split(" | ")
    assert re.fullmatch(r"\d+\.\d min \(epoch 0\.\d+\)", row[4]) and row[5] == "not reached"  # within epoch 1
    assert "dev BLEU 101 reached after" in results.read_text()


def test_curves_names_an_ablations_changes_and_keeps_earlier_rows(tmp_path, attention_run):
    results = tmp_path / "RESULTS.md"
    base = yaml.safe_load((attention_run / "config.yaml").read_text())
    base["training"].update(label_smoothing=0.3, adam_betas=[0.9, 0.98], max_epochs=99)  # recipe, and budget
    base["model"]["input_feeding"] = True
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    results.write_text(
        "<!-- ablations:start -->\n| run | changes |\n|---|---|\n| `runs/old` | x |\n<!-- ablations:end -->\n"
    )
    output = run_script(
        REPO / "bench" / "curves.py", attention_run, "--epochs", "1", "--ablation", tmp_path / "base.yaml",
        "--results", results, cwd=tmp_path,
    )  # fmt: skip
    (row,) = output.splitlines()
    seconds = dict(zip(*[line.split(",") for line in (attention_run / "metrics.csv").read_text().splitlines()[:2]]))
    changes = "model.input_feeding=false, training.adam_betas=[0.9, 0.999], training.label_smoothing=0.0"
    assert row.startswith(f"| `{attention_run}` | {changes} | ")  # as a config file writes the values
    assert row.endswith(f" | {float(seconds['train_seconds']) / 3600:.2f} h |")
    written = results.read_text()
    assert row in written and "| `runs/old` | x |" in written and "## Ablations, epoch by epoch" in written


def test_peers_runs_honyakus_rows_without_peers_installed(tmp_path, corpus_dir):
    results = tmp_path / "RESULTS.md"
    output = run_script(
        REPO / "bench" / "peers.py", "--steps", "3", "--test-sentences", "4", "--archs", "rnn", "--peers",
        "--work", tmp_path / "work", "--data-dir", corpus_dir, "--results", results, cwd=tmp_path,
    )  # fmt: skip
    rows = [line for line in output.splitlines() if line.startswith("| honyaku")]
    assert [row.split(" | ")[:2] for row in rows] == [["| honyaku", "rnn"], ["| honyaku (no input feeding)", "rnn"]]
    assert "Training steps of every model: 3; test sentences: 4." in results.read_text()


def test_curves_lists_dev_bleu_at_the_asked_epochs_from_each_run(tmp_path, attention_run):
    results = tmp_path / "RESULTS.md"
    output = run_script(
        REPO / "bench" / "curves.py", attention_run, "--epochs", "1", "--results", results, cwd=tmp_path
    )
    recorded = [line.split(",") for line in (attention_run / "metrics.csv").read_text().splitlines()]
    dev_bleu = dict(zip(recorded[0], recorded[1]))["dev_bleu"]  # the first epoch's evaluation
    (row,) = output.splitlines()
    assert row.startswith(f"| `{attention_run}` | xx→yy | words, ")
    assert row.endswith(f" | {float(dev_bleu):.2f} | {float(dev_bleu):.2f} |")  # epoch 1, and the best up to it
    assert "| epoch 1 | best in 1 epochs |" in results.read_text()
    result = subprocess.run(
        [sys.executable, REPO / "bench" / "curves.py", attention_run, "--epochs", "3", "--results", results],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1 and result.stderr.strip() == (
        f"curves.py: error: {attention_run / 'metrics.csv'}: no dev BLEU at the end of epoch 3 (train it further)"
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU, bench/gpu_check.py runs the check itself")
def test_the_gpu_check_refuses_a_machine_without_cuda_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, REPO / "bench" / "gpu_check.py"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.startswith("bench/gpu_check.py: error: no CUDA device: torch ")
    assert "Traceback" not in result.stderr


def test_everyday_phrases_read_and_checked(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from everyday import read_phrases

    phrases = read_phrases()
    assert len(phrases) >= 30 and {p.direction for p in phrases} == {"en-ja", "ja-en"}
    hello = next(p for p in phrases if p.text == "Hello!")
    assert hello.missing("こんにちは！") == [] and hello.missing("彼はよろしく！") == ["こんにちは"]
    tom = next(p for p in phrases if p.text.startswith("私はトムです。東京"))
    assert tom.missing("I am Tom. I live in Tokyo. I like cats very much.") == []
    assert tom.missing("I like Tom lives very much in Tokyo with cats.") == ["3 sentences (has 1)"]


def test_documents_translates_a_document_and_resumes_it_identically(tmp_path, corpus_dir):
    results = tmp_path / "RESULTS.md"
    output = run_script(
        REPO / "bench" / "documents.py", "--lines", "300", "--paragraphs", "2", "--data-dir", corpus_dir,
        "--results", results, cwd=tmp_path,
    )  # fmt: skip
    row = output.splitlines()[-1].split(" | ")
    assert row[0].startswith("| 300 lines, 2 of ")
    assert row[1] == "300" and row[2] == "0" and 0 < int(row[4].replace(",", "")) < 300 and row[5] == "yes |"
