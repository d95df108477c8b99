"""What the benchmarks read back from honyaku's training logs."""

from __future__ import annotations

import re
from pathlib import Path

from honyaku.core.errors import HonyakuError


def logged_tokens_per_second(log: Path, after_step: int, last_step: int) -> float:
    """The mean of the target tokens/s that a training log reports for its windows ending after ``after_step``
    and at most at ``last_step`` (the first steps, slowed by warm-up, left out)."""
    text = log.read_text(encoding="utf-8")
    found = [
        float(speed.replace(",", ""))
        for step, speed in re.findall(r"step (\d+) .*?([\d,]+) target tokens/s", text)
        if after_step < int(step) <= last_step
    ]
    if not found:
        raise HonyakuError(f"{log}: no tokens/s reported after step {after_step}")
    return sum(found) / len(found)
