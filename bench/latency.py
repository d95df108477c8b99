"""What a user waits for with the bundled en→ja model, for the default engine (``auto``: CTranslate2 for it)
against honyaku's PyTorch search, measured side by side in one run and written into bench/RESULTS.md:

- ``honyaku translate "I am Tom."``: process start to the translation printed;
- ``pipeline("translation")`` in a fresh process: the time from the call (model load included) to its first
  translation;
- one short sentence through ``honyaku serve``: median and 99th percentile of sequential requests;
- the test set, ``honyaku translate --input`` end to end (process start included, beam 5), with its BLEU on the
  corpus's tokens and the share of sentences on which the two engines agree.

    python bench/latency.py [--rounds 5] [--requests 200] [--data-dir DIR]

Rounds interleave the engines (round 1 runs each once, then round 2), and each figure is the median of its
rounds, so that drift in the machine's speed slows both alike. CTranslate2's conversion is made, and honyaku's
modules compiled to bytecode (as ``pip install`` leaves them), before any timed process. Run it on an idle
machine: it is a timing.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from results_file import RESULTS, run_main, write_section
from serving import start_server

from honyaku.core.errors import HonyakuError
from honyaku.core.metrics import bleu
from honyaku.data.catalogue import resolve_corpus_dir
from honyaku.inference.pretrained import pretrained_model
from honyaku.inference.translator import Translator

ENGINES = ("auto", "torch")
SENTENCE = "I am Tom."
FIRST_TRANSLATION = """
import time
started = time.perf_counter()
from honyaku import pipeline
translator = pipeline("translation", backend="{backend}")
translator("{sentence}")
print(time.perf_counter() - started)
"""


def honyaku(*arguments: str) -> float:
    """Wall seconds of ``honyaku ARGUMENTS`` in a fresh process, from its start to its end."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "honyaku", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise HonyakuError(f"honyaku {' '.join(arguments)}: {done.stderr.strip()}")
    return time.perf_counter() - started


def first_translation(backend: str) -> float:
    code = FIRST_TRANSLATION.format(backend=backend, sentence=SENTENCE)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise HonyakuError(f"pipeline(backend={backend!r}): {done.stderr.strip()}")
    return float(done.stdout.strip().splitlines()[-1])


def server_latencies(backend: str, requests: int) -> list[float]:
    """Seconds of each of ``requests`` sequential one-sentence requests to a fresh ``honyaku serve``."""
    server, url = start_server(["--backend", backend])
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            client.post("/translate", json={"text": SENTENCE})  # warm-up
            latencies = []
            for _ in range(requests):
                started = time.perf_counter()
                client.post("/translate", json={"text": SENTENCE}).raise_for_status()
                latencies.append(time.perf_counter() - started)
            return latencies
    finally:
        server.terminate()
        server.wait(timeout=60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


HEADER = [
    "## Latency of the bundled en→ja model (bench/latency.py)",
    "",
    "The default engine (`auto`: CTranslate2 for this model) against honyaku's PyTorch search, side by side in",
    "one run on this machine (2 CPU cores), medians of interleaved rounds. Start to first translation: `honyaku",
    'translate "I am Tom."` in a fresh process, start to end. `pipeline()`: the call, model load included, to its',
    "first translation, in a fresh process. Server: one short sentence per request, sequential, through `honyaku",
    "serve` (both bundled models). Test set: `honyaku translate --input` of small_parallel_enja's 500 test",
    "sentences, beam 5, process start included; BLEU on the corpus's tokens (sacrebleu `tokenize=none`).",
    "honyaku's modules are compiled to bytecode first, as `pip install` leaves them.",
    "CPU: {cpu}.",
    "",
    "| engine | start to first translation | `pipeline()` to first translation | server median | server p99 "
    "| test set, end to end | test BLEU | same output as PyTorch | speed-up on the test set |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    corpus = resolve_corpus_dir("small_parallel_enja", args.data_dir)
    model = pretrained_model(("en", "ja"))
    Translator.load(model, device="cpu")  # CTranslate2's conversion, made before any timed process
    # an editable install, or PYTHONDONTWRITEBYTECODE, would otherwise compile every module in every process
    compileall.compile_dir(Path(sys.modules["honyaku"].__file__).parent, quiet=1)
    references = (corpus / "test.ja").read_text(encoding="utf-8").splitlines()
    figures: dict[str, dict[str, list[float]]] = {engine: {} for engine in ENGINES}
    outputs: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as work:
        for round_number in range(args.rounds):
            for engine in ENGINES:
                seen = figures[engine]
                seen.setdefault("start", []).append(honyaku("translate", "--backend", engine, SENTENCE))
                seen.setdefault("pipeline", []).append(first_translation(engine))
                output = Path(work) / f"test.{engine}.ja"
                arguments = ["translate", "--backend", engine, "--pretokenized", "--beam-size", "5", "-q"]
                seen.setdefault("test", []).append(
                    honyaku(*arguments, "--input", str(corpus / "test.en"), "--output", str(output))
                )
                outputs[engine] = output.read_text(encoding="utf-8").splitlines()
                print(f"round {round_number + 1}: {engine} { ({k: round(v[-1], 3) for k, v in seen.items()}) }")
        for engine in ENGINES:  # the server: one run of many requests each, after the rounds
            figures[engine]["server"] = server_latencies(engine, args.requests)
    rows = []
    torch_test = statistics.median(figures["torch"]["test"])
    for engine in ENGINES:
        seen = figures[engine]
        same = sum(a == b for a, b in zip(outputs[engine], outputs["torch"], strict=True)) / len(references)
        score = bleu(outputs[engine], references).score
        rows.append(
            f"| {engine} | {statistics.median(seen['start']):.2f} s | {statistics.median(seen['pipeline']):.2f} s | "
            f"{statistics.median(seen['server']) * 1000:.1f} ms | {percentile(seen['server'], 0.99) * 1000:.1f} ms | "
            f"{statistics.median(seen['test']):.2f} s | {score:.2f} | {same:.1%} | "
            f"{torch_test / statistics.median(seen['test']):.2f}× |"
        )
        print(rows[-1])
    header = [line.format(cpu=cpu_model()) if "{cpu}" in line else line for line in HEADER]
    write_section(args.results, "latency", header, rows, keep_rows=False)


def cpu_model() -> str:
    """The CPU's model name (Linux), which timings depend on: another machine gives other figures."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next(line.partition(":")[2].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    run_main(main, "latency.py")
