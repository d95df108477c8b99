"""Turning user text into model tokens and back.

Today both sides are pre-tokenized like the corpus (tokens separated by spaces). Every place that reads or
writes sentences goes through these two functions, so raw-text normalisation and detokenisation plug in here.
"""

from __future__ import annotations


def tokenize(sentence: str) -> list[str]:
    return sentence.split()


def detokenize(tokens: list[str]) -> str:
    return " ".join(tokens)
