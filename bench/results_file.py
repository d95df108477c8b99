"""bench/RESULTS.md: one marked section per benchmark, rewritten in place so that reruns replace their rows."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from honyaku.core.errors import HonyakuError
from honyaku.core.runtime import configure_threads

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(results: Path, name: str, header: list[str], rows: list[str], keep_rows: bool = True) -> None:
    """Write ``header`` and the table ``rows`` between ``<!-- name:start -->`` and ``<!-- name:end -->``.

    With ``keep_rows``, rows already there stay unless a new row has the same first cell (its key); without, the
    table is ``rows`` exactly, whose first cells need not be unique (peers.py: one toolkit, two architectures)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = results.read_text(encoding="utf-8") if results.is_file() else "# Benchmark results\n"
    if keep_rows:
        merged = {row.split(" | ")[0]: row for row in _rows(text, start, end)}
        merged.update({row.split(" | ")[0]: row for row in rows})
        rows = list(merged.values())
    section = "\n".join([start, *header, *rows, end])
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text, encoding="utf-8")


def write_accuracy(results: Path, name: str, intro: list[str], outcomes: list[tuple[str, str | None]]) -> None:
    """A section of accuracy per group and overall, and what was wrong, from ``outcomes``: each case's group
    (a language) and, where it went wrong, how (None: right). Printed too."""
    counts: dict[str, list[int]] = {}
    for group, miss in outcomes:
        counts.setdefault(group, [0, 0])[miss is None] += 1
    totals = [sum(count[0] for count in counts.values()), sum(count[1] for count in counts.values())]
    rows = [
        f"| {group} | {wrong + right} | {right} | {right / (wrong + right):.1%} |"
        for group, (wrong, right) in sorted(counts.items(), key=lambda item: -sum(item[1]))
    ]
    rows.append(f"| all | {sum(totals)} | {totals[1]} | {totals[1] / sum(totals):.1%} |")
    misses = [f"- {miss}" for _, miss in outcomes if miss is not None]
    header = [*intro, "", *(["Wrong:", "", *misses, ""] if misses else []), "| group | cases | right | accuracy |"]
    write_section(results, name, [*header, "|---|---:|---:|---:|"], rows, keep_rows=False)
    print(*rows, *misses, sep="\n")


def _rows(text: str, start: str, end: str) -> list[str]:
    if start not in text:
        return []
    lines = text[text.index(start) : text.index(end)].splitlines()
    table = [line for line in lines if line.startswith("| ")]
    return table[1:]  # less the column names (the |---| line does not start with "| ")


def run_main(main: Callable[[], None], script: str) -> None:
    """Run a benchmark's main with honyaku's thread setting; a HonyakuError ends it with one line naming the script."""
    try:
        configure_threads()
        main()
    except HonyakuError as error:
        sys.exit(f"{script}: error: {error}")
