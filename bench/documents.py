"""A document as people have them: 10,000 lines, 20 of them paragraphs of 1,500–3,000 characters, translated end
to end with default options by the bundled model; then again, stopped by SIGTERM half way and finished with
``--resume``, which must give the same file byte for byte.

    python bench/documents.py [--lines 10000] [--paragraphs 20] [--data-dir DIR]

The lines are tatoeba_enja's English sentences (everyday text), a paragraph a run of them joined by spaces, found
beside small_parallel_enja (``--data-dir``, else $HONYAKU_DATA_DIR). Run it on an idle machine: it is timed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import RESULTS, run_main, write_section

from honyaku.core.errors import HonyakuError
from honyaku.data.lines import iter_lines

PARAGRAPH_CHARS = (1500, 3000)


def document(sentences: list[str], lines: int, paragraphs: int, seed: int = 1) -> list[str]:
    """``lines`` lines of ``sentences``, ``paragraphs`` of them (spread through the file) paragraphs."""
    rng = random.Random(seed)
    out = [rng.choice(sentences) for _ in range(lines)]
    shortest, longest = PARAGRAPH_CHARS
    for position in rng.sample(range(lines), paragraphs):
        goal = rng.randint(shortest, longest)
        paragraph = rng.choice(sentences)
        while len(paragraph) < goal:
            sentence = rng.choice(sentences)
            if len(paragraph) + 1 + len(sentence) <= longest:
                paragraph = f"{paragraph} {sentence}"
            elif len(paragraph) >= shortest:
                break
        out[position] = paragraph
    return out


def translate(arguments: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "honyaku", "translate", *arguments], capture_output=True, text=True)


def interrupted_at_half(arguments: list[str], partial: Path, lines: int) -> int:
    """The translation started and stopped by SIGTERM once half the lines are written; how many were kept."""
    process = subprocess.Popen([sys.executable, "-m", "honyaku", "translate", *arguments], stderr=subprocess.PIPE)
    while process.poll() is None:
        if partial.is_file() and partial.read_bytes().count(b"\n") >= lines // 2:
            process.send_signal(signal.SIGTERM)
            break
        time.sleep(0.2)
    process.communicate(timeout=120)
    if process.returncode == 0:
        raise HonyakuError("the translation ended before it was half done: nothing was interrupted")
    return partial.read_bytes().count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--paragraphs", type=int, default=20)
    parser.add_argument("--data-dir", default=os.environ.get("HONYAKU_DATA_DIR"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not args.data_dir:
        raise HonyakuError("give --data-dir (small_parallel_enja's folder) or set HONYAKU_DATA_DIR")
    tatoeba = Path(args.data_dir).parent / "tatoeba_enja" / "jpn.txt"
    sentences = sorted({line.split("\t")[0].strip() for line in iter_lines(tatoeba)} - {""})
    lines = document(sentences, args.lines, args.paragraphs)
    longest = sorted(len(line) for line in lines)[-args.paragraphs :]
    with tempfile.TemporaryDirectory() as scratch:
        source, whole, resumed = (Path(scratch) / name for name in ("in.en", "whole.ja", "resumed.ja"))
        source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        started = time.perf_counter()
        done = translate(["-f", str(source), "-o", str(whole), "-q"])
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise HonyakuError(f"the uninterrupted translation failed: {done.stderr.strip()[-500:]}")
        written = whole.read_text(encoding="utf-8").splitlines()
        empty = sum(not line.strip() for line in written)
        arguments = ["-f", str(source), "-o", str(resumed), "-q"]
        kept = interrupted_at_half(arguments, Path(f"{resumed}.partial"), len(lines))
        finished = translate([*arguments, "--resume"])
        if finished.returncode != 0:
            raise HonyakuError(f"--resume failed: {finished.stderr.strip()[-500:]}")
        same = resumed.read_bytes() == whole.read_bytes()
    row = (
        f"| {args.lines:,} lines, {args.paragraphs} of {longest[0]:,}–{longest[-1]:,} characters | {len(written):,} "
        f"| {empty} | {seconds:.0f} s ({len(lines) / seconds:.0f} lines/s) | {kept:,} | {'yes' if same else 'NO'} |"
    )
    header = [
        "`python bench/documents.py`: tatoeba_enja's English sentences as a document, paragraphs among them, "
        "translated by the bundled en→ja model with default options (`honyaku translate -f IN -o OUT`); then "
        "stopped by SIGTERM once half the lines were written and finished with `--resume`.",
        "",
        "| document | lines written | empty | uninterrupted | lines kept at SIGTERM | resumed = uninterrupted |",
        "|---|---:|---:|---:|---:|---|",
    ]
    write_section(args.results, "documents", header, [row], keep_rows=False)
    print(row)


if __name__ == "__main__":
    run_main(main, "bench/documents.py")
