"""Language identification (honyaku.data.language) on examples/languages.tsv: accuracy overall and per language,
and every text it reads wrong, into bench/RESULTS.md.

    python bench/languages.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from results_file import RESULTS, run_main, write_accuracy

from honyaku.data.language import identify

TEXTS = Path(__file__).resolve().parents[1] / "examples" / "languages.tsv"


def read_texts(path: Path = TEXTS) -> list[tuple[str, str]]:
    """(language, text) of each line that is not a comment; ``none`` for a text without letters."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line and not line.startswith("#")]


def identified(text: str) -> str:
    language = identify(text)
    return "none" if language is None else language.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    outcomes = [
        (language, None if (found := identified(text)) == language else f"{text!r}: {language}, read as {found}")
        for language, text in read_texts()
    ]
    intro = [
        "## Language identification (bench/languages.py)",
        "",
        "`honyaku.data.language.identify` on `examples/languages.tsv`: short texts written for it, English and",
        "Japanese (everyday phrases, names, numbers, URLs, code, emoji, each language quoting the other's words),",
        "romaji, other languages in Latin letters, other scripts, and texts without letters (none). It decides which",
        "bundled model translates a text, and which texts no model reads. Groups are the texts' languages.",
    ]
    write_accuracy(args.results, "languages", intro, outcomes)


if __name__ == "__main__":
    run_main(main, "languages.py")
