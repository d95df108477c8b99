"""Held-out splits made where a corpus has none: dev and test of whole groups of pairs (a sentence's translations,
an article), drawn by a hash so that every machine draws the same, written beside the corpus."""

from __future__ import annotations

import hashlib
from pathlib import Path

from honyaku.core.data_config import SplitFiles
from honyaku.core.files import atomic_path
from honyaku.data.pairs import iter_pairs, sentence_key

SPLITS = ("train", "dev", "test")


HELD_OUT_PAIRS = 1000  # pairs in each of dev and test


def split_tatoeba(
    path: Path, directory: Path, held_out: int = HELD_OUT_PAIRS, unseen_by: set[str] = frozenset()
) -> dict[str, int]:
    """Split a TSV of ``English<TAB>Japanese`` pairs into train, dev and test without leakage: pairs that share an
    English or a Japanese sentence form one group (``sentence_groups``), split by ``split_grouped``."""
    # each line checked: two fields, neither empty
    pairs = [(english.strip(), japanese.strip()) for english, japanese in iter_pairs(SplitFiles(tsv=str(path)))]
    return split_grouped(pairs, sentence_groups(pairs), directory, held_out, unseen_by)


def sentence_groups(pairs: list[tuple[str, str]]) -> list[list[int]]:
    """The pairs (by index) in groups that share an English or a Japanese sentence: all translations of a sentence,
    and theirs."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for english, japanese in pairs:
        parent[root(("en", english))] = root(("ja", japanese))
    groups: dict[tuple[str, str], list[int]] = {}
    for index, (english, _) in enumerate(pairs):
        groups.setdefault(root(("en", english)), []).append(index)
    return list(groups.values())


def split_grouped(
    pairs: list[tuple[str, str]],
    groups: list[list[int]],
    directory: Path,
    held_out: int = HELD_OUT_PAIRS,
    unseen_by: set[str] = frozenset(),
) -> dict[str, int]:
    """Write ``pairs`` (English, Japanese) into train, dev and test (``{split}.en``, ``{split}.ja``, pairs in their
    order), deterministically, each group of ``groups`` (lists of indices) in one split. Groups are taken in the
    order of a hash of their pairs, into test until it holds ``held_out`` pairs, then into dev (a group that would
    overflow is passed over, and so is one with a sentence in ``unseen_by``, ``sentence_key``s of another corpus);
    the rest is train. Gives the pairs per split."""
    order = sorted(groups, key=lambda members: _group_hash(pairs, members))
    split_of = ["train"] * len(pairs)
    sizes = {"test": 0, "dev": 0}
    for members in order:
        if any(sentence_key(sentence) in unseen_by for i in members for sentence in pairs[i]):
            continue
        for split in sizes:
            if sizes[split] + len(members) <= held_out:
                sizes[split] += len(members)
                for index in members:
                    split_of[index] = split
                break
        if all(size == held_out for size in sizes.values()):
            break
    return {
        split: write_split(directory, split, [pair for pair, where in zip(pairs, split_of) if where == split])
        for split in SPLITS
    }


def write_split(directory: Path, split: str, pairs: list[tuple[str, str]]) -> int:
    """``{split}.en`` and ``{split}.ja`` of (English, Japanese) ``pairs``, one a line, each written atomically."""
    for column, lang in enumerate(("en", "ja")):
        with atomic_path(directory / f"{split}.{lang}") as temp:
            temp.write_text("".join(pair[column] + "\n" for pair in pairs), encoding="utf-8")
    return len(pairs)


def _group_hash(pairs: list[tuple[str, str]], members: list[int]) -> str:
    text = "\n".join(sorted(f"{pairs[i][0]}\t{pairs[i][1]}" for i in members))
    return hashlib.sha256(text.encode()).hexdigest()
