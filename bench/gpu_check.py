"""The GPU check: one run on a CUDA machine, about 5 minutes on one GPU (bench/gpu_check.sh installs honyaku on a
machine without network first).

1. The test suite's CUDA tests (``pytest -m cuda``).
2. ``configs/transformer_joint.yaml`` trained for ``--steps`` steps in float32 and in bfloat16, at the config's
   batches and at GPU-sized ones (``--gpu-batch-tokens``), and at the latter in bfloat16 with ``training.compile``
   too: target tokens/s over the steps after ``--warmup-steps`` as the training log reports them, and the peak
   GPU memory.
3. The bundled en→ja model translates the test set (beam 5) in float32 and in bfloat16: time (after a warm-up
   batch) and BLEU (sacrebleu, ``tokenize=none`` on the corpus tokens).
4. Where fairseq is installed (``make peers``), ``fairseq-train --bf16`` at the same sizes and batches, for the
   ratio to honyaku's bfloat16.

It writes the figures into ``--results`` (default bench/RESULTS.md, section "gpu-check") and prints them.

    python bench/gpu_check.py [--data-dir DIR] [--steps 200] [--results FILE]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from logs import logged_tokens_per_second
from peers import FAIRSEQ_LANGUAGES, FAIRSEQ_TRANSFORMER, fairseq_preprocess  # transformer_joint's sizes
from results_file import RESULTS, run_main, write_section

from honyaku.core.errors import HonyakuError
from honyaku.data.catalogue import DataPlaces, resolve_corpus_dir
from honyaku.inference.pretrained import pretrained_model
from honyaku.inference.translator import Translator, evaluate
from honyaku.training.trainer import train

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "transformer_joint.yaml"
FAIRSEQ_TRAIN = REPO / ".venv-peers-fairseq" / "bin" / "fairseq-train"
LOG_EVERY = 25


def run_tests() -> str:
    """The CUDA tests' summary line, e.g. "5 passed in 40.1s"."""
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider", "tests/test_precision.py"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", flush=True)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "no output"
    return summary.strip("= ")


def training_row(name: str, overrides: list[str], args: argparse.Namespace, work: Path) -> dict:
    run = work / name
    settings = [
        "training.device=cuda",
        f"training.max_steps={args.steps}",
        f"training.log_every_steps={LOG_EVERY}",
        "training.eval_every_steps=1000000",  # one evaluation, at the end
        *overrides,
    ]
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    train(CONFIG, run, overwrite=True, overrides=settings, places=DataPlaces(args.data_dir), progress_bar=False)
    row = {
        "name": name,
        "tokens": logged_tokens_per_second(run / "train.log", args.warmup_steps, args.steps),
        "memory": torch.cuda.max_memory_allocated(),
        "seconds": time.perf_counter() - started,
    }
    print(row, flush=True)
    return row


def translation_row(dtype: str, sources: list[str], references: list[str]) -> dict:
    translator = Translator.load(pretrained_model(("en", "ja")), device="cuda", dtype=dtype, backend="torch")
    translator.translate(sources[:64], pretokenized=True, beam_size=5)  # warm-up: CUDA kernels and allocator
    torch.cuda.synchronize()
    started = time.perf_counter()
    results, _ = evaluate(translator, sources, references, beam_size=5)
    torch.cuda.synchronize()
    bleu = next(result for result in results if result.name == "BLEU")
    row = {"dtype": dtype, "seconds": time.perf_counter() - started, "bleu": bleu.score, "signature": bleu.signature}
    print(row, flush=True)
    return row


def fairseq_rows(args: argparse.Namespace, work: Path, batch_sizes: list[int]) -> list[dict] | None:
    """fairseq-train --bf16 on the corpus's words (joined dictionary) at transformer_joint's sizes, for each
    batch size; None where fairseq is not installed. A failure is reported in the row, not raised."""
    if not FAIRSEQ_TRAIN.is_file():
        return None
    corpus = resolve_corpus_dir("small_parallel_enja", args.data_dir)
    bin_dir, binarized = FAIRSEQ_TRAIN.parent, work / "fairseq-bin"
    done = subprocess.run(fairseq_preprocess(bin_dir, corpus, binarized, workers=8), capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", flush=True)
        return [{"batch_tokens": tokens, "tokens": None, "failed": "fairseq-preprocess"} for tokens in batch_sizes]
    rows = []
    for tokens in batch_sizes:
        command = [str(FAIRSEQ_TRAIN), str(binarized), *FAIRSEQ_LANGUAGES, *FAIRSEQ_TRANSFORMER, "--bf16"]
        command += ["--dropout", "0.3", "--optimizer", "adam", "--lr", "0.001"]
        command += ["--lr-scheduler", "inverse_sqrt", "--warmup-updates", "1500", "--max-tokens", str(tokens)]
        command += ["--max-update", str(args.steps), "--log-interval", str(LOG_EVERY), "--log-format", "simple"]
        command += ["--save-dir", str(work / "fairseq"), "--no-save", "--disable-validation", "--seed", "1"]
        done = subprocess.run(command, capture_output=True, text=True)
        rates = [float(rate) for rate in re.findall(r"\bwps=([\d.]+)", done.stdout + done.stderr)][1:]  # warm-up out
        if done.returncode or not rates:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", flush=True)
            rows.append({"batch_tokens": tokens, "tokens": None, "failed": "fairseq-train"})
        else:
            rows.append({"batch_tokens": tokens, "tokens": sum(rates) / len(rates)})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="small_parallel_enja's directory (else $HONYAKU_DATA_DIR or the cache)")
    parser.add_argument("--steps", type=int, default=200, help="training steps per row")
    parser.add_argument("--warmup-steps", type=int, default=50, help="steps left out of tokens/s")
    parser.add_argument("--gpu-batch-tokens", type=int, default=16000, help="the GPU-sized batches' tokens")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise HonyakuError(
            f"no CUDA device: torch {torch.__version__} "
            + (f"(CUDA {torch.version.cuda}) sees no GPU" if torch.version.cuda else "is a CPU-only build")
            + "; run this on a machine with an NVIDIA GPU and a CUDA build of PyTorch"
        )
    gpu = f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    print(f"GPU check on {gpu}", flush=True)
    tests = "not run (--skip-tests)" if args.skip_tests else run_tests()
    gpu_batches = [f"training.batch_tokens={args.gpu_batch_tokens}", "training.batch_size=4096"]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        rows = []
        sizes = (("config's batches (2,500 tokens)", []), (f"{args.gpu_batch_tokens:,} tokens", gpu_batches))
        for (batches, sized), compile_too in zip(sizes, (False, True)):  # compiling takes minutes: once
            for precision, compiled in (("float32", False), ("bfloat16", False), ("bfloat16", True))[: 2 + compile_too]:
                name = f"{precision}{' compiled' if compiled else ''}, {batches}"
                settings = [f"training.precision={precision}", f"training.compile={str(compiled).lower()}"]
                row = training_row(name, [*settings, *sized], args, work)
                rows.append({**row, "batches": batches, "precision": precision, "compiled": compiled})
        fairseq = fairseq_rows(args, work, [2500, args.gpu_batch_tokens])
    corpus = resolve_corpus_dir("small_parallel_enja", args.data_dir)
    sources, references = ((corpus / f"test.{lang}").read_text("utf-8").splitlines() for lang in ("en", "ja"))
    translations = [translation_row(dtype, sources, references) for dtype in ("float32", "bfloat16")]
    write_results(args, gpu, tests, rows, fairseq, translations)


def write_results(
    args, gpu: str, tests: str, rows: list[dict], fairseq: list[dict] | None, translations: list[dict]
) -> None:
    gb = 1024**3
    table = []
    for row in rows:
        base = next(r for r in rows if r["batches"] == row["batches"] and r["precision"] == "float32")
        table.append(
            f"| {row['name']} | {row['tokens']:,.0f} ({row['tokens'] / base['tokens']:.2f}×) | "
            f"{row['memory'] / gb:.2f} GB | {row['seconds']:.0f} s |"
        )
    if fairseq is None:
        table.append("| fairseq --bf16 | not installed (make peers) | | |")
    bfloat16 = [row for row in rows if row["precision"] == "bfloat16" and not row["compiled"]]
    for found, row in zip(fairseq or [], bfloat16):
        if found["tokens"] is None:
            table.append(
                f"| fairseq --bf16, {found['batch_tokens']:,} tokens | {found['failed']} failed (log above) | | |"
            )
        else:
            table.append(
                f"| fairseq --bf16, {found['batch_tokens']:,} tokens | {found['tokens']:,.0f} (honyaku bfloat16: "
                f"{row['tokens'] / found['tokens']:.2f}×) | | |"
            )
    full, half = translations
    table += [
        "",
        f"Test set, bundled en→ja model, beam 5 on the GPU: float32 {full['seconds']:.2f} s, BLEU {full['bleu']:.2f}; "
        f"bfloat16 {half['seconds']:.2f} s ({full['seconds'] / half['seconds']:.2f}×), BLEU {half['bleu']:.2f} "
        f"({half['bleu'] - full['bleu']:+.2f}). {full['signature']}. CUDA tests: {tests}.",
    ]
    header = [
        "## On a GPU (bench/gpu_check.py)",
        "",
        f"{gpu}. configs/transformer_joint.yaml on small_parallel_enja, {args.steps} steps a row; target tokens/s "
        f"over steps {args.warmup_steps + 1}-{args.steps} as the training log reports them (× float32 at the same "
        "batches); peak GPU memory allocated (torch.cuda.max_memory_allocated); wall time with data preparation "
        "(the first row) and the final dev evaluation.",
        "",
        "| precision, batches | target tokens/s | peak GPU memory | wall time |",
        "|---|---:|---:|---:|",
    ]
    write_section(args.results, "gpu-check", header, table, keep_rows=False)
    print("\n".join(header + table), f"results: {args.results}", sep="\n")


if __name__ == "__main__":
    run_main(main, "bench/gpu_check.py")
