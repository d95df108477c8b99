"""Sentence splitting (honyaku.data.sentences) on examples/sentences.tsv: the share of texts split exactly right,
overall and per language, and every text split wrong, into bench/RESULTS.md.

    python bench/sentences.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from results_file import RESULTS, run_main, write_accuracy

from honyaku.data.sentences import UNSPACED_LANGUAGES, split_sentences

TEXTS = Path(__file__).resolve().parents[1] / "examples" / "sentences.tsv"


def read_texts(path: Path = TEXTS) -> list[tuple[str, list[str]]]:
    """(language, sentences) of each line that is not a comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (language, sentences.split(" | "))
        for language, sentences in (line.split("\t", 1) for line in lines if line and not line.startswith("#"))
    ]


def text_of(language: str, sentences: list[str]) -> str:
    return ("" if language in UNSPACED_LANGUAGES else " ").join(sentences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    outcomes = []
    for language, sentences in read_texts():
        found = split_sentences(text_of(language, sentences), language)
        miss = None if found == [sentences] else f"{' | '.join(sentences)!r} split as {' | '.join(found[0])!r}"
        outcomes.append((language, miss))
    intro = [
        "## Sentence splitting (bench/sentences.py)",
        "",
        "`honyaku.data.sentences.split_sentences` (pysbd, less the English abbreviations that are as often a word",
        "or a name ending a sentence, emoji kept with the sentence they close, a Japanese quotation that is a",
        "sentence of its own split from the next) on `examples/sentences.tsv`: texts of two sentences written for",
        "it, with abbreviations, names, initials, numbers, quotes, ellipses, emoji and URLs. A text counts as right",
        "where every sentence boundary is found and no other.",
    ]
    write_accuracy(args.results, "sentences", intro, outcomes)


if __name__ == "__main__":
    run_main(main, "sentences.py")
