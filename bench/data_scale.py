"""What a corpus's size costs: preparing it and training on it, at 50k, 1M and 5M pairs, in one invocation.

    python bench/data_scale.py [--sizes 50000 1000000 5000000] [--work runs/data_scale] [--workers 2]
                               [--baseline-rev REV] [--data-dir DIR]

The corpora are small_parallel_enja's training pairs repeated and shuffled (``random.Random(0)``) to each size,
as tokenized files, with its dev set; the config is ``configs/transformer_joint.yaml`` on them (a joint
SentencePiece model of up to 8k pieces, learned from at most ``data.subwords.max_sentences`` sentences).
For each size:

- ``honyaku prepare`` (a fresh prepared-data directory; ``--workers`` worker processes): wall time, pairs/s,
  the peak RSS of its process tree (the sum over the command and its workers, sampled every 0.1 s), and the
  store's size on disk;
- ``honyaku train`` on the prepared run for 40 steps: the peak RSS of its process tree up to its 10th step, and
  target tokens/s over steps 11-40 as the training log reports it (the mean of its windows of 10 steps).

Beside them, on the 1M corpus: the code of ``--baseline-rev`` (before the streamed preparation: every pair in
Python lists, tokenized corpora encoded in one process) prepares the same data, for the speed-up; and, where
``make peers`` installed fairseq, ``fairseq-preprocess`` with the same number of workers binarizes the same
tokenized files (word level, one joined dictionary; it learns and applies no subword model, which honyaku's
figure includes).

Then ``honyaku translate --input`` (the bundled en→ja model, ``--translate-beam``, ``--translate-backend``) on
the test set's sources repeated to ``--translate-lines`` lines and to 500 lines: the peak RSS of each; and the
test set's output of the default search compared with the baseline code's, line for line.

Run it on an idle machine: it is a timing.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from logs import logged_tokens_per_second
from results_file import RESULTS, run_main, write_section

from honyaku.core.errors import HonyakuError
from honyaku.core.workers import descendant_processes
from honyaku.data.catalogue import resolve_corpus_dir

REPO = Path(__file__).resolve().parents[1]
HONYAKU = [sys.executable, "-m", "honyaku"]
FAIRSEQ_PREPROCESS = REPO / ".venv-peers-fairseq" / "bin" / "fairseq-preprocess"
TRAIN_STEPS, LOG_EVERY, RSS_STEPS = 40, 10, 10


def tree_rss(root: int) -> int:
    """The resident memory of ``root`` and every process below it, in bytes (Linux /proc)."""
    tree = [root, *descendant_processes(root)]
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if match := re.search(r"^VmRSS:\s+(\d+) kB", status, re.M):
            total += int(match.group(1)) * 1024
    return total


def measured(
    command: list[str], env: dict[str, str] | None = None, log: Path | None = None, until: Path | None = None
) -> tuple[float, int]:
    """Run ``command``; its wall time and the peak RSS of its process tree (with ``until``, a training log: up
    to its line of step ``RSS_STEPS``). A failure ends the benchmark."""
    started = time.perf_counter()
    output = log.open("w") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set() and not (until and until.is_file() and f"step {RSS_STEPS} " in until.read_text()):
            peak = max(peak, tree_rss(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if code != 0:
        raise HonyakuError(f"{' '.join(map(str, command))} failed (exit {code}); see {log}")
    return seconds, peak


def write_corpus(corpus: Path, pairs: int, directory: Path) -> None:
    """small_parallel_enja's training pairs, repeated and shuffled to ``pairs``, and its dev set, tokenized."""
    if (directory / "done").is_file():
        return
    directory.mkdir(parents=True, exist_ok=True)
    english = (corpus / "train.en").read_text(encoding="utf-8").splitlines()
    japanese = (corpus / "train.ja").read_text(encoding="utf-8").splitlines()
    generator = random.Random(0)
    with (directory / "train.en").open("w", encoding="utf-8") as en, (directory / "train.ja").open("w") as ja:
        for start in range(0, pairs, len(english)):
            order = list(range(len(english)))
            generator.shuffle(order)
            for i in order[: pairs - start]:
                en.write(english[i] + "\n")
                ja.write(japanese[i] + "\n")
    for lang in ("en", "ja"):
        shutil.copyfile(corpus / f"dev.{lang}", directory / f"dev.{lang}")
    (directory / "done").touch()


def settings(corpus: Path) -> list[str]:
    return [
        "--set", "data.corpus=null",
        "--set", f"data.train={{src: {corpus}/train.en, tgt: {corpus}/train.ja}}",
        "--set", f"data.dev={{src: {corpus}/dev.en, tgt: {corpus}/dev.ja}}",
    ]  # fmt: skip


def store_bytes(store: Path) -> int:
    return sum(path.stat().st_size for path in store.resolve().iterdir())


def baseline_checkout(revision: str, work: Path) -> Path:
    """The ``src`` of ``revision``, unpacked (git archive) under ``work``."""
    target = work / f"baseline-{revision}"
    if not (target / "src").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 1_000_000, 5_000_000])
    parser.add_argument("--work", default="runs/data_scale")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-rev", default="1f384be", help="the code before the streamed preparation")
    parser.add_argument("--baseline-size", type=int, default=1_000_000)
    parser.add_argument("--translate-lines", type=int, default=200_000)
    parser.add_argument("--translate-beam", type=int, default=1)
    parser.add_argument("--translate-backend", default="torch")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    corpus = resolve_corpus_dir("small_parallel_enja", args.data_dir)
    config = REPO / "configs" / "transformer_joint.yaml"
    rows = []
    for size in args.sizes:
        data = work / f"corpus-{size}"
        write_corpus(corpus, size, data)
        run, prepared = work / f"run-{size}", work / f"prepared-{size}"
        shutil.rmtree(run, ignore_errors=True)
        shutil.rmtree(prepared, ignore_errors=True)
        prepare = [*HONYAKU, "prepare", str(config), "--out", str(run), *settings(data)]
        prepare += ["--prepared-dir", str(prepared), "--workers", str(args.workers)]
        prepare_seconds, prepare_rss = measured(prepare, log=work / f"prepare-{size}.log")
        train = [*HONYAKU, "train", str(config), "--out", str(run), "--no-progress", *settings(data)]
        train += ["--prepared-dir", str(prepared), "--set", f"training.max_steps={TRAIN_STEPS}"]
        train += ["--set", f"training.log_every_steps={LOG_EVERY}", "--set", "training.eval_every_steps=100000"]
        _, train_rss = measured(train, log=work / f"train-{size}.log", until=run / "train.log")
        row = {
            "size": size,
            "prepare": prepare_seconds,
            "prepare_rss": prepare_rss,
            "store": store_bytes(run / "train.store"),
            "train_rss": train_rss,
            "tokens": logged_tokens_per_second(run / "train.log", LOG_EVERY, TRAIN_STEPS),
        }
        print(row, flush=True)
        rows.append(row)
        shutil.rmtree(prepared, ignore_errors=True)
    baseline = work / f"corpus-{args.baseline_size}"
    write_corpus(corpus, args.baseline_size, baseline)
    old_src = baseline_checkout(args.baseline_rev, work)
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        env = {**os.environ, "PYTHONPATH": str(old_src)}
        old = [*HONYAKU, "prepare", str(config), "--out", f"{scratch}/run", *settings(baseline)]
        old_seconds, old_rss = measured(old, env=env, log=work / "prepare-baseline.log")
        print({"baseline": args.baseline_rev, "seconds": old_seconds, "rss": old_rss}, flush=True)
        fairseq = None
        if FAIRSEQ_PREPROCESS.is_file():
            command = [str(FAIRSEQ_PREPROCESS), "--source-lang", "en", "--target-lang", "ja", "--joined-dictionary"]
            command += ["--trainpref", f"{baseline}/train", "--validpref", f"{baseline}/dev"]
            command += ["--destdir", f"{scratch}/fairseq", "--workers", str(args.workers)]
            fairseq = measured(command, log=work / "fairseq-preprocess.log")
            print({"fairseq-preprocess": fairseq}, flush=True)
        translation = translate_memory(corpus, work, args, env)
    report(rows, args, (old_seconds, old_rss), fairseq, translation)


def translate_memory(corpus: Path, work: Path, args: argparse.Namespace, baseline_env: dict[str, str]) -> dict:
    """Peak RSS of ``honyaku translate --input`` at 500 lines and at ``--translate-lines``, and whether the
    test set's translations equal those of the baseline code."""
    sources = (corpus / "test.en").read_text(encoding="utf-8").splitlines()
    options = ["-b", str(args.translate_beam), "--backend", args.translate_backend, "-q"]
    found = {}
    warm_up = [*HONYAKU, "translate", *options, sources[0]]  # a first use converts for CTranslate2, once
    measured(warm_up, log=work / "translate-warm-up.log")
    for lines in (500, args.translate_lines):
        path = work / f"translate-{lines}.en"
        path.write_text("".join(sources[i % len(sources)] + "\n" for i in range(lines)), encoding="utf-8")
        command = [*HONYAKU, "translate", "--input", str(path), "--output", str(work / f"translate-{lines}.ja")]
        found[lines] = measured([*command, *options], log=work / f"translate-{lines}.log")
        print({"translate lines": lines, "seconds, rss": found[lines]}, flush=True)
    outputs = []
    for name, env in (("now", None), ("baseline", baseline_env)):  # the default search: PyTorch, the model's beam
        output = work / f"test-{name}.ja"
        measured([*HONYAKU, "translate", "--input", str(corpus / "test.en"), "--output", str(output), "-q"], env)
        outputs.append(output.read_text(encoding="utf-8").splitlines())
    same = sum(a == b for a, b in zip(*outputs))
    return {"small": found[500], "large": found[args.translate_lines], "same": same, "test": len(sources)}


def report(
    rows: list[dict], args: argparse.Namespace, old: tuple[float, int], fairseq: tuple | None, translation: dict
) -> None:
    gb = 1e9
    first = rows[0]
    table = []
    for row in rows:
        table.append(
            f"| {row['size']:,} | {row['prepare']:.0f} s | {row['size'] / row['prepare']:,.0f} | "
            f"{row['prepare_rss'] / gb:.2f} GB | {row['store'] / 1e6:,.0f} MB | {row['train_rss'] / gb:.2f} GB "
            f"({row['train_rss'] / first['train_rss']:.2f}×) | {row['tokens']:,.0f} "
            f"({row['tokens'] / first['tokens'] - 1:+.1%}) |"
        )
    at_baseline = next((row for row in rows if row["size"] == args.baseline_size), None)
    comparison = [
        "",
        f"At {args.baseline_size:,} pairs, beside it in the same run ({args.workers} workers where a tool has them):",
        "",
        "| preparation | wall time | pairs/s | peak RSS |",
        "|---|---:|---:|---:|",
    ]
    if at_baseline:
        comparison.append(
            f"| honyaku prepare (streamed, {args.workers} workers) | {at_baseline['prepare']:.0f} s | "
            f"{args.baseline_size / at_baseline['prepare']:,.0f} | {at_baseline['prepare_rss'] / gb:.2f} GB |"
        )
    comparison.append(
        f"| honyaku prepare at {args.baseline_rev} (in-process lists) | {old[0]:.0f} s | "
        f"{args.baseline_size / old[0]:,.0f} | {old[1] / gb:.2f} GB |"
    )
    if fairseq:
        comparison.append(
            f"| fairseq-preprocess --workers {args.workers} (words, no subword model) | {fairseq[0]:.0f} s | "
            f"{args.baseline_size / fairseq[0]:,.0f} | {fairseq[1] / gb:.2f} GB |"
        )
    else:
        comparison.append("| fairseq-preprocess | not installed (make peers) | | |")
    (small_seconds, small_rss), (large_seconds, large_rss) = translation["small"], translation["large"]
    comparison += [
        "",
        f"`honyaku translate --input` (bundled en→ja, beam {args.translate_beam}, {args.translate_backend}), the "
        "test sources repeated: 500 lines "
        f"{small_seconds:.0f} s, peak RSS {small_rss / gb:.2f} GB; {args.translate_lines:,} lines "
        f"{large_seconds:.0f} s, peak RSS {large_rss / gb:.2f} GB ({large_rss / small_rss:.2f}× the 500-line run). "
        f"Test set (PyTorch search, the model's beam): {translation['same']} of {translation['test']} translations "
        f"equal to {args.baseline_rev}'s.",
    ]
    header = [
        "## Data at scale (bench/data_scale.py)",
        "",
        "small_parallel_enja's training pairs repeated and shuffled to each size (tokenized files), prepared and "
        "trained with configs/transformer_joint.yaml (joint SentencePiece model, up to 8k pieces, learned from a "
        f"sample of at most 1M sentences) on this machine, {args.workers} preparation workers. Peak RSS: the "
        "command's process tree, workers included, sampled every 0.1 s (training: up to its 10th step). Training: "
        "40 steps on the prepared run; tokens/s over steps 11-40 as its log reports them; the ratios are against "
        "the first row.",
        "",
        "| pairs | prepare: wall time | pairs/s | peak RSS | store on disk | train: peak RSS | train: tokens/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    write_section(RESULTS, "data-scale", header, table + comparison, keep_rows=False)
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    run_main(main, "bench/data_scale.py")
