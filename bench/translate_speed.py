"""Translation speed of trained runs on this machine: the test set translated greedy and with beam 5, one
sentence at a time and in batches; sentences/s, target tokens/s, model load time, first-sentence latency and
peak memory. Each run is measured in a fresh process, so that load time and peak RSS are its own.

    python bench/translate_speed.py runs/seed_keras runs/attention [--int8] [--backend ctranslate2] [--data-dir DIR]

Input is the corpus's own tokens (``pretokenized``), so that the figures are the model's and the search's,
not the text processors'. ``--backend ctranslate2`` times the same searches run by CTranslate2 on the
model's conversion (Transformer models with a joint vocabulary; the conversion, made on first use, is done
before the timed process starts). Run it on an idle machine: it is a timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from results_file import RESULTS, run_main, write_section

from honyaku.config import load_config
from honyaku.corpus import read_parallel, split_files
from honyaku.errors import HonyakuError

SETTINGS = [(1, 1), (1, None), (5, 1), (5, None)]  # (beam size, batch size; None: all at once, see HEADER)


def measure(
    run: str, split: str, int8: bool, backend: str, data_dir: str | None, limit: int | None
) -> dict[str, object]:
    """In this process: load the run, then time every setting."""
    sources = read_parallel(split_files(load_config(Path(run) / "config.yaml").data, split, data_dir))[0][:limit]
    started = time.perf_counter()
    from honyaku.prediction import Translator

    translator = Translator.load(run, device="cpu" if int8 else "auto", int8=int8, backend=backend)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    translator.translate([sources[0]], beam_size=1, pretokenized=True)
    first_seconds = time.perf_counter() - started
    rows = []
    for beam_size, batch_size in SETTINGS:
        per_call = batch_size or len(sources)
        started = time.perf_counter()
        outputs = []
        for start in range(0, len(sources), per_call):
            outputs += translator.translate(sources[start : start + per_call], beam_size, pretokenized=True)
        if translator.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        tokens = sum(len(output.split()) for output in outputs)
        batch = batch_size or translator.config.decoding.batch_size  # all at once: the translator's batches
        rows.append({"beam": beam_size, "batch": batch, "seconds": seconds, "tokens": tokens})
    return {
        "run": run,
        "name": translator.config.name,
        "device": " ".join([str(translator.device)] + [backend] * (backend != "torch") + ["int8"] * int8),
        "threads": torch.get_num_threads(),
        "sentences": len(sources),
        "load_seconds": load_seconds,
        "first_seconds": first_seconds,
        "rows": rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_in_child(run: str, args: argparse.Namespace) -> dict[str, object]:
    command = [sys.executable, __file__, run, "--split", args.split, "--child"]
    command += ["--int8"] * args.int8 + ["--backend", args.backend]
    command += ["--data-dir", args.data_dir] if args.data_dir else []
    command += ["--limit", str(args.limit)] if args.limit else []
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise HonyakuError(f"{run}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'}")
    return json.loads(done.stdout)


def table_rows(result: dict[str, object]) -> list[str]:
    rows = []
    for row in result["rows"]:
        search = "greedy" if row["beam"] == 1 else f"beam {row['beam']}"
        rows.append(
            f"| {result['name']} (`{result['run']}`, {result['device']}, {result['threads']} threads), {search}, "
            f"batch {row['batch']} | "
            f"{result['sentences']} | {row['seconds']:.2f} s | {result['sentences'] / row['seconds']:,.1f} | "
            f"{row['tokens'] / row['seconds']:,.0f} | {result['load_seconds']:.2f} s | "
            f"{result['first_seconds'] * 1000:,.0f} ms | {result['peak_rss_mb']:,.0f} MB |"
        )
    return rows


HEADER = [
    "## Translation speed (bench/translate_speed.py)",
    "",
    "The test set as corpus tokens, on this machine; each model in a fresh process (load time, latency of the",
    "first sentence after loading, and peak RSS are per process). Batched: the whole test set in one call, as",
    "`honyaku translate --input` gives it, sorted by length and cut into batches of the config's",
    "`decoding.batch_size` inside the translator. `ctranslate2`: the same model converted by `honyaku export",
    "--format ctranslate2` (float32, or its int8 compute type) and searched by CTranslate2, which ranks beams by",
    "its own length penalty (len ** alpha); `int8` on the PyTorch path: dynamic quantization of Linear and LSTM.",
    "",
    "| model, search, batch | sentences | time | sentences/s | target tokens/s | load | first sentence | peak RSS |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--int8", action="store_true", help="int8 weights (PyTorch dynamic quantization, CPU)")
    parser.add_argument("--backend", choices=("torch", "ctranslate2"), default="torch")
    parser.add_argument("--limit", type=int, help="only the first N sentences (smoke tests)")
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.runs[0], args.split, args.int8, args.backend, args.data_dir, args.limit)))
        return
    rows = []
    for run in args.runs:
        if args.backend != "torch":  # the conversion, made on first use, is not what is timed
            from honyaku.prediction import Translator

            Translator.load(run, device="cpu", backend=args.backend)
        rows += table_rows(measure_in_child(run, args))
        print("\n".join(rows[-len(SETTINGS) :]))
    write_section(args.results, "translate-speed", HEADER, rows)


if __name__ == "__main__":
    run_main(main, "translate_speed.py")
