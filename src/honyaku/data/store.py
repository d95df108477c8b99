"""Encoded training pairs on disk: each side's token ids end to end in one numpy array, with each sentence's
offset into it, memory-mapped when read. A corpus of any size then trains in flat memory: a batch reads its
pairs from the map when it is built, and the length arrays alone sort the pairs into batches.

numpy's ``.npy`` files are the storage (``numpy.save``, ``numpy.load(mmap_mode="r")``): a well-kept format that
every Python array library reads, with no format of our own. A store is written into a staging directory and
renamed into place with its description, ``store.json``, so an interrupted write leaves nothing that a later
run would take for a store.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.data.batching import ParallelData

STORE_INFO = "store.json"
STORE_FORMAT = 1
SIDES = ("src", "tgt")


def id_type(vocabulary_size: int) -> type[np.unsignedinteger]:
    """The smallest unsigned integer type that holds every id of a vocabulary."""
    return np.uint16 if vocabulary_size <= 1 << 16 else np.uint32


def write_store(directory: Path, data: ParallelData, vocabulary_sizes: tuple[int, int], info: dict[str, Any]) -> None:
    """Write ``data`` as a store at ``directory`` (replacing one there), described by ``info`` (JSON) beside the
    pair count and id types."""
    with atomic_directory(directory) as staging:
        types = {}
        for side, sentences, lengths, size in zip(SIDES, (data.src, data.tgt), data.lengths(), vocabulary_sizes):
            offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            dtype = id_type(size)
            ids = np.fromiter(itertools.chain.from_iterable(sentences), dtype=dtype, count=int(offsets[-1]))
            np.save(staging / f"{side}.ids.npy", ids)
            np.save(staging / f"{side}.offsets.npy", offsets)
            types[side] = np.dtype(dtype).name
        description = {"format": STORE_FORMAT, "pairs": len(data), "id_types": types, **info}
        (staging / STORE_INFO).write_text(json.dumps(description, indent=1), encoding="utf-8")


def store_info(directory: Path) -> dict[str, Any] | None:
    """The description of the store at ``directory``, or None where there is none."""
    try:
        info = json.loads((directory / STORE_INFO).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise HonyakuError(f"{directory / STORE_INFO}: not a readable store description ({error})") from None
    if info.get("format") != STORE_FORMAT:
        raise HonyakuError(f"{directory}: a store of format {info.get('format')}, not {STORE_FORMAT}")
    return info


class StoredSentences(Sequence):
    """One side of a store: sentence ``i`` is ``ids[offsets[i]:offsets[i + 1]]``, read from the map on access."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray):
        self.ids, self.offsets = ids, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> list[int]:  # type: ignore[override]
        return self.ids[self.offsets[index] : self.offsets[index + 1]].tolist()

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


class StoredPairs:
    """The pairs of a store, memory-mapped: ``src[i]``, ``tgt[i]``, ``len()`` and ``lengths()``, as ParallelData."""

    def __init__(self, directory: Path):
        info = store_info(directory)
        if info is None:
            raise HonyakuError(f"{directory}: no store ({STORE_INFO} missing)")
        try:
            self.src, self.tgt = (
                StoredSentences(
                    np.load(directory / f"{side}.ids.npy", mmap_mode="r"),
                    np.load(directory / f"{side}.offsets.npy", mmap_mode="r"),
                )
                for side in SIDES
            )
        except (OSError, ValueError) as error:
            raise HonyakuError(f"{directory}: a damaged store ({error})") from None
        if not len(self.src) == len(self.tgt) == info["pairs"]:
            raise HonyakuError(f"{directory}: a damaged store (its sides do not hold {info['pairs']} pairs)")
        self.info = info

    def __len__(self) -> int:
        return len(self.src)

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        return self.src.lengths(), self.tgt.lengths()
