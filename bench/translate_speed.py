"""Translation speed of trained runs on this machine: the test set translated greedy and with beam 5, one
sentence at a time and in batches; sentences/s, target tokens/s, model load time, first-sentence latency and
peak memory. Every measurement is a fresh process, so that load time and peak RSS are its own.

    python bench/translate_speed.py runs/seed_keras runs/attention [--engines torch torch-int8] [--rounds 3]
    python bench/translate_speed.py src/honyaku/pretrained/en-ja --engines torch ctranslate2 --rounds 5

Engines: ``torch`` (honyaku's search in PyTorch), ``torch-int8`` (dynamic int8 quantization of Linear and LSTM),
``ctranslate2`` and ``ctranslate2-int8`` (the same searches run by CTranslate2 on the model's conversion, for
Transformer models with a joint vocabulary; the conversion, made on first use, is done before any timed
process), and ``ctranslate2-direct``: CTranslate2's ``translate_batch`` called on the same conversion with the
same options, on the model tokens made beforehand, without honyaku around it (what honyaku's path costs; its
target tokens are SentencePiece pieces, the others' words). Rounds interleave the engines — round 1 runs each
engine once, then round 2 — and each row is the median of its rounds, so that a machine whose speed drifts
between processes slows every engine alike; the PyTorch rows also give their speed relative to CTranslate2 at
the same precision, and the ``ctranslate2`` rows theirs relative to ``ctranslate2-direct``, from the same rounds.

Input is the corpus's own tokens (``pretokenized``), so that the figures are the model's and the search's,
not the text processors'. Run it on an idle machine: it is a timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_file import RESULTS, run_main, write_section

from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.data.corpus import read_split
from honyaku.data.vocabulary import EOS

SETTINGS = [(1, 1), (1, None), (5, 1), (5, None)]  # (beam size, batch size; None: all at once, see HEADER)
ENGINES = {  # name: (backend, int8)
    "torch": ("torch", False),
    "torch-int8": ("torch", True),
    "ctranslate2": ("ctranslate2", False),
    "ctranslate2-int8": ("ctranslate2", True),
    "ctranslate2-direct": ("ctranslate2", False),
}
# compared at the same precision; honyaku's CTranslate2 path with CTranslate2 called directly
COUNTERPART = {"torch": "ctranslate2", "torch-int8": "ctranslate2-int8", "ctranslate2": "ctranslate2-direct"}


def measure(run: str, split: str, engine: str, data_dir: str | None, limit: int | None) -> dict[str, object]:
    """In this process: load the run, then time every setting."""
    backend, int8 = ENGINES[engine]
    sources = read_split(load_config(Path(run) / "config.yaml").data, split, data_dir)[0][:limit]
    started = time.perf_counter()
    from honyaku.inference.translator import Translator

    translator = Translator.load(run, device="cpu" if int8 else "auto", int8=int8, backend=backend)
    import torch  # after honyaku, which sets up CTranslate2's OpenMP runtime before PyTorch brings its own

    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    translator.translate([sources[0]], beam_size=1, pretokenized=True)
    first_seconds = time.perf_counter() - started
    translate = direct_calls(translator, sources) if engine == "ctranslate2-direct" else translator.translate
    rows = []
    for beam_size, batch_size in SETTINGS:
        per_call = batch_size or len(sources)
        started = time.perf_counter()
        outputs = []
        for start in range(0, len(sources), per_call):
            outputs += translate(sources[start : start + per_call], beam_size, pretokenized=True)
        if str(translator.device).startswith("cuda"):  # a torch.device, or CTranslate2's device name
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        tokens = sum(len(output.split()) for output in outputs)
        batch = batch_size or translator.config.decoding.batch_size  # all at once: the translator's batches
        rows.append({"beam": beam_size, "batch": batch, "seconds": seconds, "tokens": tokens})
    return {
        "run": run,
        "name": translator.config.name,
        "device": " ".join(
            [str(translator.device)] + [engine.removesuffix("-int8")] * (backend != "torch") + ["int8"] * int8
        ),
        "threads": torch.get_num_threads(),
        "sentences": len(sources),
        "load_seconds": load_seconds,
        "first_seconds": first_seconds,
        "rows": rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def direct_calls(translator, sources: list[str]):
    """``translator.translate`` as CTranslate2 alone does it: the sources' model tokens made beforehand, untimed,
    then each call one ``translate_batch`` with the options honyaku's engine passes, its output joined by spaces."""
    tokens = {sentence: translator.source_tokens(sentence, pretokenized=True) for sentence in sources}
    engine, decoding = translator.engine, translator.decoding

    def translate(batch: list[str], beam_size: int, pretokenized: bool) -> list[str]:
        token_lists = [tokens[sentence] for sentence in batch]
        results = engine.translator.translate_batch(
            [source + [EOS] for source in token_lists],
            beam_size=beam_size,
            length_penalty=decoding.length_penalty,
            max_decoding_length=engine.output_cap(token_lists),
            max_batch_size=decoding.batch_size,
        )
        return [" ".join(result.hypotheses[0]) for result in results]

    return translate


def measure_in_child(run: str, engine: str, args: argparse.Namespace) -> dict[str, object]:
    command = [sys.executable, __file__, run, "--split", args.split, "--child", "--engines", engine]
    command += ["--data-dir", args.data_dir] if args.data_dir else []
    command += ["--limit", str(args.limit)] if args.limit else []
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise HonyakuError(f"{run}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'}")
    return json.loads(done.stdout)


def median_result(rounds: list[dict[str, object]]) -> dict[str, object]:
    """One engine's rounds as one result: the median of every time, and each setting's fastest and slowest."""
    result = dict(rounds[0])
    for key in ("load_seconds", "first_seconds", "peak_rss_mb"):
        result[key] = statistics.median(r[key] for r in rounds)
    result["rows"] = []
    for i, row in enumerate(rounds[0]["rows"]):
        times = [measured["rows"][i]["seconds"] for measured in rounds]
        result["rows"].append({**row, "seconds": statistics.median(times), "spread": (min(times), max(times))})
    return result


def table_rows(result: dict[str, object], counterpart: dict[str, object] | None, rounds: int) -> list[str]:
    rows = []
    for i, row in enumerate(result["rows"]):
        search = "greedy" if row["beam"] == 1 else f"beam {row['beam']}"
        fastest, slowest = row["spread"]
        ratio = f"{counterpart['rows'][i]['seconds'] / row['seconds']:.2f}×" if counterpart else ""
        rows.append(
            f"| {result['name']} (`{result['run']}`, {result['device']}, {result['threads']} threads), {search}, "
            f"batch {row['batch']} | "
            f"{result['sentences']} | {row['seconds']:.2f} s | {fastest:.2f}–{slowest:.2f} s ({rounds}) | "
            f"{result['sentences'] / row['seconds']:,.1f} | {row['tokens'] / row['seconds']:,.0f} | {ratio} | "
            f"{result['load_seconds']:.2f} s | {result['first_seconds'] * 1000:,.0f} ms | "
            f"{result['peak_rss_mb']:,.0f} MB |"
        )
    return rows


HEADER = [
    "## Translation speed (bench/translate_speed.py)",
    "",
    "The test set as corpus tokens, on this machine; each model in a fresh process (load time, latency of the",
    "first sentence after loading, and peak RSS are per process). Batched: the whole test set in one call, as",
    "`honyaku translate --input` gives it, sorted by length and cut into batches of the config's",
    "`decoding.batch_size` inside the translator. `ctranslate2`: the same model converted by `honyaku export",
    "--format ctranslate2` (float32, or its int8 compute type) and searched by CTranslate2 (rows before 2026-12-01:",
    "with its own length penalty; since, the same search as PyTorch's); `int8` on the PyTorch path: dynamic",
    "quantization of Linear and LSTM.",
    "Time: the median of the rounds, which interleave the engines (fastest–slowest, and how many rounds, beside",
    "it); vs CTranslate2: the PyTorch row's speed over CTranslate2's at the same precision, from the same rounds.",
    "",
    "| model, search, batch | sentences | time | fastest–slowest (rounds) | sentences/s | target tokens/s "
    "| vs CTranslate2 | load | first sentence | peak RSS |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=["torch"])
    parser.add_argument("--rounds", type=int, default=1, help="measurements of every engine, interleaved")
    parser.add_argument("--limit", type=int, help="only the first N sentences (smoke tests)")
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.runs[0], args.split, args.engines[0], args.data_dir, args.limit)))
        return
    if args.rounds < 1:
        raise HonyakuError(f"--rounds must be at least 1, got {args.rounds}")
    engines = list(dict.fromkeys(args.engines))
    rows = []
    for run in args.runs:
        if any(ENGINES[engine][0] == "ctranslate2" for engine in engines):  # convert before any timing
            from honyaku.inference.translator import Translator

            Translator.load(run, device="cpu", backend="ctranslate2")
        rounds = {engine: [] for engine in engines}
        for _ in range(args.rounds):
            for engine in engines:
                rounds[engine].append(measure_in_child(run, engine, args))
        results = {engine: median_result(measured) for engine, measured in rounds.items()}
        for engine, result in results.items():
            rows += table_rows(result, results.get(COUNTERPART.get(engine)), args.rounds)
            print("\n".join(rows[-len(SETTINGS) :]))
    write_section(args.results, "translate-speed", HEADER, rows)


if __name__ == "__main__":
    run_main(main, "translate_speed.py")
