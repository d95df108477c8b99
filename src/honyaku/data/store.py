"""Encoded training pairs on disk: each side's token ids end to end in one numpy array, with each sentence's
offset into it and its length. A corpus of any size then trains in flat memory: a batch reads its pairs from the
files when it is built, and the length arrays alone sort the pairs into batches.

numpy's ``.npy`` files are the storage (their headers written and read by ``numpy.lib.format``): a well-kept
format that every Python array library reads, or maps with ``numpy.load(mmap_mode="r")``, with no format of our
own. Training reads a sentence by position (``os.pread``) rather than through a memory map: every page of a map
that a read touches (with the kernel's fault-around, 64 KB about it) counts in the process's resident memory, so
random reads from a mapped 5M-pair store had added 280 MB of it by the 10th step; read by position, the pages stay
in the page cache only.

A store is written into a staging directory and renamed into place with its description, ``store.json``, so an
interrupted write leaves nothing that a later run would take for a store.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.data.batching import ParallelData
from honyaku.data.lines import iter_lines

STORE_INFO = "store.json"
STORE_FORMAT = 1
SIDES = ("src", "tgt")
WORDS_FILES = ("src.words", "tgt.words")  # the pairs' words, one sentence per line, where subword sampling needs them


def id_type(vocabulary_size: int) -> type[np.unsignedinteger]:
    """The smallest unsigned integer type that holds every id of a vocabulary."""
    return np.uint16 if vocabulary_size <= 1 << 16 else np.uint32


class _ArrayFile:
    """A ``.npy`` file of a known dtype and length, filled front to back by plain writes: a memory map's written
    pages would count in the process's memory until unmapped, however large the store."""

    def __init__(self, path: Path, dtype: type[np.generic], length: int):
        self.dtype = np.dtype(dtype)
        self.file = path.open("wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": (length,)}
        np.lib.format.write_array_header_1_0(self.file, header)

    def write(self, values: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(values, dtype=self.dtype).tobytes())

    def close(self) -> None:
        self.file.close()


class StoreWriter:
    """Writes a store's arrays, of sizes known beforehand, a chunk of pairs at a time, so that memory holds one
    chunk whatever the store's size."""

    def __init__(self, directory: Path, pairs: int, tokens: tuple[int, int], vocabulary_sizes: tuple[int, int]):
        self.directory, self.pairs = directory, pairs
        self.files: dict[str, dict[str, _ArrayFile]] = {}
        for side, count, size in zip(SIDES, tokens, vocabulary_sizes):
            self.files[side] = {
                "ids": _ArrayFile(directory / f"{side}.ids.npy", id_type(size), count),
                "offsets": _ArrayFile(directory / f"{side}.offsets.npy", np.int64, pairs + 1),
                "lengths": _ArrayFile(directory / f"{side}.lengths.npy", np.int32, pairs),
            }
            self.files[side]["offsets"].write(np.zeros(1))
        self.positions = {side: 0 for side in SIDES}  # ids written per side
        self.written = 0

    def append(self, chunk: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Add the pairs of ``chunk``: for each side, its sentences' ids end to end, and their lengths."""
        for side, (ids, lengths) in chunk.items():
            files = self.files[side]
            files["ids"].write(ids)
            files["offsets"].write(self.positions[side] + np.cumsum(lengths))
            files["lengths"].write(lengths)
            self.positions[side] += len(ids)
        self.written += len(lengths)

    def close(self, info: dict[str, Any]) -> None:
        """Close the files and write the description: the pair count, the id types and ``info``."""
        for files in self.files.values():
            for array in files.values():
                array.close()
        if self.written != self.pairs:
            raise HonyakuError(f"{self.directory}: {self.written:,} pairs written into a store of {self.pairs:,}")
        types = {side: files["ids"].dtype.name for side, files in self.files.items()}
        description = {"format": STORE_FORMAT, "pairs": self.pairs, "id_types": types, **info}
        (self.directory / STORE_INFO).write_text(json.dumps(description, indent=1), encoding="utf-8")


def write_store(directory: Path, data: ParallelData, vocabulary_sizes: tuple[int, int], info: dict[str, Any]) -> None:
    """Write ``data`` as a store at ``directory`` (replacing one there), described by ``info`` (JSON) beside the
    pair count and id types."""
    lengths = data.lengths()
    with atomic_directory(directory) as staging:
        writer = StoreWriter(staging, len(data), tuple(int(n.sum()) for n in lengths), vocabulary_sizes)
        writer.append(
            {
                side: (np.fromiter(itertools.chain.from_iterable(sentences), dtype=np.int64), side_lengths)
                for side, sentences, side_lengths in zip(SIDES, (data.src, data.tgt), lengths)
            }
        )
        writer.close(info)


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


class _ArrayReader:
    """A one-dimensional ``.npy`` file whose elements are read by position, a slice at a time."""

    def __init__(self, path: Path):
        self.file = path.open("rb")
        version = np.lib.format.read_magic(self.file)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, self.dtype = read_header(self.file)
        self.start = self.file.tell()
        if len(shape) != 1 or fortran_order:
            raise ValueError(f"{path.name} is not a one-dimensional array")
        self.length = shape[0]
        if os.fstat(self.file.fileno()).st_size != self.start + self.length * self.dtype.itemsize:
            raise ValueError(f"{path.name} does not hold the {self.length:,} elements that its header declares")

    def read(self, first: int, count: int) -> np.ndarray:
        size = self.dtype.itemsize
        return np.frombuffer(os.pread(self.file.fileno(), count * size, self.start + first * size), self.dtype)


class StoredSentences(Sequence):
    """One side of a store: sentence ``i`` is ``ids[offsets[i]:offsets[i + 1]]``, read from the files on access."""

    def __init__(self, ids: Path, offsets: Path, lengths: Path):
        self.ids, self.offsets = _ArrayReader(ids), _ArrayReader(offsets)
        self._lengths = np.load(lengths) if lengths.is_file() else None

    def __len__(self) -> int:
        return self.offsets.length - 1

    def __getitem__(self, index: int) -> list[int]:  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = self.offsets.read(int(index), 2).tolist()
        return self.ids.read(start, end - start).tolist()

    def lengths(self) -> np.ndarray:
        """Each sentence's length, as int32: the store's (a store of an earlier honyaku has none: then computed
        once from the offsets)."""
        if self._lengths is None:
            self._lengths = np.diff(self.offsets.read(0, self.offsets.length)).astype(np.int32)
        return self._lengths


class StoredPairs:
    """The pairs of a store, read from its files: ``src[i]``, ``tgt[i]``, ``len()`` and ``lengths()``, as
    ParallelData."""

    def __init__(self, directory: Path):
        info = store_info(directory)
        if info is None:
            raise HonyakuError(f"{directory}: no store ({STORE_INFO} missing)")
        try:
            self.src, self.tgt = (
                StoredSentences(*(directory / f"{side}.{array}.npy" for array in ("ids", "offsets", "lengths")))
                for side in SIDES
            )
        except (OSError, ValueError) as error:
            raise HonyakuError(f"{directory}: a damaged store ({error})") from None
        if not len(self.src) == len(self.tgt) == info["pairs"]:
            raise HonyakuError(f"{directory}: a damaged store (its sides do not hold {info['pairs']} pairs)")
        self.info, self.directory = info, directory

    def __len__(self) -> int:
        return len(self.src)

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        return self.src.lengths(), self.tgt.lengths()

    def words(self) -> tuple[list[list[str]], list[list[str]]]:
        """Each pair's words, for subword sampling (read into memory: sampling segments every pair each epoch)."""
        sides = []
        for name in WORDS_FILES:
            path = self.directory / name
            if not path.is_file():
                raise HonyakuError(f"{self.directory}: holds no words ({name}), which subword sampling needs")
            sides.append([line.split() for line in iter_lines(path)])
        if not len(sides[0]) == len(sides[1]) == len(self):
            raise HonyakuError(f"{self.directory}: a damaged store (its words are not of its {len(self)} pairs)")
        return sides[0], sides[1]
