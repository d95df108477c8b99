"""Counts in messages: "1 epoch", "2 epochs", "1,000 pairs", "1 corpus", "3 corpora"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with its noun in the singular for 1, else in the plural (``noun`` + "s" unless given)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
