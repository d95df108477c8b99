"""Encoded parallel data and its batches: length buckets under a sentence and token budget, reshuffled each
epoch from ``(seed, epoch)`` alone, so that a batch order can be rebuilt exactly when a run resumes. The training
pairs of an epoch (subword samples, both directions) are likewise a function of ``(seed, epoch)``."""

from __future__ import annotations

import concurrent.futures
import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from honyaku.core.data_config import SubwordSampling
from honyaku.core.errors import HonyakuError
from honyaku.data.subwords import Subwords
from honyaku.data.text import split_tokens
from honyaku.data.vocabulary import Vocabulary


class Pairs(Protocol):
    """Encoded sentence pairs, in memory (``ParallelData``) or in a store (``honyaku.data.store.StoredPairs``)."""

    src: Sequence[list[int]]
    tgt: Sequence[list[int]]

    def __len__(self) -> int: ...

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's source and target length, as arrays (N,)."""
        ...


@dataclass
class ParallelData:
    """Sentence pairs as id lists: source ends with ``</s>``; target is wrapped in ``<s> … </s>``."""

    src: list[list[int]]
    tgt: list[list[int]]

    def __len__(self) -> int:
        return len(self.src)

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        return tuple(np.fromiter(map(len, side), dtype=np.int64, count=len(self)) for side in (self.src, self.tgt))


@dataclass
class Batch:
    src: torch.Tensor  # (B, S) padded source ids
    src_lengths: torch.Tensor  # (B,) on the CPU, as pack_padded_sequence wants
    tgt_in: torch.Tensor  # (B, T) <s> y1 … yn
    tgt_out: torch.Tensor  # (B, T) y1 … yn </s>
    num_target_tokens: int

    def to(self, device: torch.device) -> Batch:
        """On ``device``; to a GPU, copied from pinned memory without waiting for the copy."""

        def moved(tensor: torch.Tensor) -> torch.Tensor:
            if device.type == "cuda":
                tensor = tensor.pin_memory()
            return tensor.to(device, non_blocking=True)

        return Batch(moved(self.src), self.src_lengths, moved(self.tgt_in), moved(self.tgt_out), self.num_target_tokens)


def tokenized(pairs: tuple[list[str], list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """Pairs of the corpus's tokens separated by spaces, as token lists."""
    sources, targets = pairs
    return [split_tokens(s) for s in sources], [split_tokens(t) for t in targets]


def encode_pairs(
    sources: list[list[str]],
    targets: list[list[str]],
    src_vocab: Vocabulary,
    tgt_vocab: Vocabulary,
    tag_ids: Iterable[int | None] = (),
) -> ParallelData:
    """``tag_ids``: per source, the id of the corpus tag that leads it, or None."""
    src = [src_vocab.encode(s, add_eos=True) for s in sources]
    for ids, tag_id in zip(src, tag_ids):
        if tag_id is not None:
            ids.insert(0, tag_id)
    return ParallelData(src=src, tgt=[tgt_vocab.encode(t, add_bos=True, add_eos=True) for t in targets])


class _Picked(Sequence):
    """``sentences[indices[i]]`` for each ``i``: a view."""

    def __init__(self, sentences: Sequence[list[int]], indices: np.ndarray):
        self.sentences, self.indices = sentences, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> list[int]:  # type: ignore[override]
        return self.sentences[int(self.indices[i])]


class Selection:
    """The pairs of ``data`` at ``indices`` (repeats allowed), read from it on access: nothing is copied."""

    def __init__(self, data: Pairs, indices: np.ndarray):
        self.data, self.indices = data, indices
        self.src, self.tgt = _Picked(data.src, indices), _Picked(data.tgt, indices)

    def __len__(self) -> int:
        return len(self.indices)

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        src, tgt = self.data.lengths()
        return src[self.indices], tgt[self.indices]


class _Reversed(Sequence):
    """``first``, then ``second`` with each sentence led by ``<s>``: a view."""

    def __init__(self, first: Sequence[list[int]], second: Sequence[list[int]], lead: list[int]):
        self.first, self.second, self.lead = first, second, lead

    def __len__(self) -> int:
        return len(self.first) + len(self.second)

    def __getitem__(self, i: int) -> list[int]:  # type: ignore[override]
        return self.first[i] if i < len(self.first) else self.lead + self.second[i - len(self.first)]


class BothDirections:
    """The pairs, then each pair reversed (a view). A reversed pair's source is its target as encoded, ``<s> …
    </s>``: the leading ``<s>``, which no forward source has, tells the model to translate the other way."""

    def __init__(self, data: Pairs):
        self.data = data
        self.src = _Reversed(data.src, data.tgt, [])
        self.tgt = _Reversed(data.tgt, data.src, [Vocabulary.bos_id])

    def __len__(self) -> int:
        return 2 * len(self.data)

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        src, tgt = self.data.lengths()
        return np.concatenate([src, tgt]), np.concatenate([tgt, src + 1])


@dataclass(frozen=True)
class CorpusRange:
    """One corpus's pairs among the training pairs (they follow each other in ``data.train``'s order)."""

    pairs: int
    weight: float = 1.0
    tag_id: int | None = None  # the id leading each of its sources, if it has a tag


def drawn_pairs(corpora: list[CorpusRange], seed: int, epoch: int) -> np.ndarray | None:
    """The pairs that an epoch trains on, by index: each corpus's ``weight`` times over, its fraction a random
    subset drawn from ``(seed, epoch)``; None where every weight is 1 (every pair once)."""
    if all(corpus.weight == 1 for corpus in corpora):
        return None
    generator = np.random.default_rng([seed, epoch])
    parts, start = [], 0
    for corpus in corpora:
        whole, fraction = divmod(corpus.weight, 1)
        every = np.arange(start, start + corpus.pairs)
        parts += [every] * int(whole)
        parts.append(start + np.sort(generator.choice(corpus.pairs, round(fraction * corpus.pairs), replace=False)))
        start += corpus.pairs
    drawn = np.concatenate(parts)
    if not len(drawn):
        raise HonyakuError("data.train: the corpora's weights draw no training pairs in an epoch; raise them")
    return drawn


class TrainingPairs:
    """The training pairs of each epoch as ids: the same every epoch, or — with subword sampling — segmented
    afresh from ``(seed, epoch, pair)``; drawn from the corpora by their weights (``drawn_pairs``); in the
    first ``bidirectional_epochs`` epochs, followed by the pairs reversed (``BothDirections``). A resumed run
    rebuilds exactly the epoch it stopped in."""

    def __init__(
        self,
        words: tuple[list[list[str]], list[list[str]]] | None,
        fixed: Pairs,
        subwords: tuple[Subwords, Subwords],
        vocabularies: tuple[Vocabulary, Vocabulary],
        sampling: SubwordSampling | None,
        seed: int,
        bidirectional_epochs: int = 0,
        corpora: list[CorpusRange] | None = None,
    ):
        self.words, self.fixed, self.subwords, self.vocabularies = words, fixed, subwords, vocabularies
        self.sampling, self.seed, self.bidirectional_epochs = sampling, seed, bidirectional_epochs
        self.corpora = corpora or [CorpusRange(len(fixed))]
        self._cached: tuple[int, Pairs] | None = None

    def __len__(self) -> int:
        return len(self.fixed)

    def epoch(self, epoch: int) -> Pairs:
        if self._cached is None or self._cached[0] != epoch:
            data: Pairs = self.fixed if self.sampling is None else self._sampled(epoch)
            if (drawn := drawn_pairs(self.corpora, self.seed, epoch)) is not None:
                data = Selection(data, drawn)
            self._cached = (epoch, BothDirections(data) if epoch < self.bidirectional_epochs else data)
        return self._cached[1]

    def _sampled(self, epoch: int) -> ParallelData:
        drawn = (
            [
                subwords.sample(w, self.sampling, random.Random(f"{self.seed}/{epoch}/{pair}/{side}"))
                for pair, w in enumerate(words)
            ]
            for side, (subwords, words) in enumerate(zip(self.subwords, self.words))
        )
        tag_ids = itertools.chain.from_iterable(itertools.repeat(c.tag_id, c.pairs) for c in self.corpora)
        return encode_pairs(*drawn, *self.vocabularies, tag_ids)


def make_batches(data: Pairs, batch_size: int, batch_tokens: int | None, seed: int, epoch: int) -> list[np.ndarray]:
    """Index arrays of one epoch's batches, in training order.

    Pairs are sorted by length (ties in a random order), cut into batches of at most ``batch_size`` pairs
    and ``batch_tokens`` padded tokens on the longer side, and the batches are shuffled. Only the lengths pass
    through Python (small integers, which Python shares), so that millions of pairs cost a few arrays.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    shuffled = torch.randperm(len(data), generator=generator).numpy().astype(np.int32)  # 4 bytes a pair, not 8
    src_lengths, tgt_lengths = (lengths.astype(np.int32, copy=False) for lengths in data.lengths())
    order = shuffled[np.lexsort((tgt_lengths[shuffled], src_lengths[shuffled]))]  # stable: ties stay shuffled
    del shuffled
    longer = np.maximum(src_lengths, tgt_lengths)[order]
    cuts, size, longest = [], 0, 0
    for position, length in enumerate(longer.tolist()):
        over_tokens = batch_tokens is not None and (size + 1) * max(longest, length) > batch_tokens
        if size and (size == batch_size or over_tokens):
            cuts.append(position)
            size, longest = 0, 0
        size += 1
        longest = max(longest, length)
    del longer
    batches = np.split(order, cuts)
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def pad(sequences: list[list[int]], pad_id: int, multiple: int = 1, extra: int = 0) -> torch.Tensor:
    """The sequences as rows of one tensor, padded to the longest, whose length less ``extra`` is rounded up to
    a multiple of ``multiple``."""
    longest = max(len(s) for s in sequences) - extra
    longest = -(-longest // multiple) * multiple + extra
    return torch.tensor([s + [pad_id] * (longest - len(s)) for s in sequences], dtype=torch.long)


def collate(data: Pairs, indices: Sequence[int], pad_id: int, pad_multiple: int = 1) -> Batch:
    """The pairs at ``indices`` as a padded batch, its lengths padded to a multiple of ``pad_multiple``."""
    src = [data.src[i] for i in indices]
    tgt = [data.tgt[i] for i in indices]
    targets = pad(tgt, pad_id, pad_multiple, extra=1)  # tgt_in and tgt_out are one shorter
    return Batch(
        src=pad(src, pad_id, pad_multiple),
        src_lengths=torch.tensor([len(s) for s in src], dtype=torch.long),
        tgt_in=targets[:, :-1],
        tgt_out=targets[:, 1:],
        num_target_tokens=sum(len(t) - 1 for t in tgt),
    )


def batches_on_device(
    data: Pairs,
    batches: list[np.ndarray],
    share: Callable[[np.ndarray], tuple[np.ndarray, bool]],
    device: torch.device,
) -> Iterator[tuple[Batch, bool]]:
    """The batches collated and on ``device``, each as ``share`` cuts it (a process's share of a distributed
    batch, and whether it counts). To a GPU, the next batch is collated in a thread while the current one trains,
    so that the GPU does not wait for Python; its lengths are padded to multiples of 8 (fewer distinct shapes to
    allocate and compile for, matrices that tensor cores take whole). On the CPU, batches stay as they were."""
    pad_multiple = 8 if device.type == "cuda" else 1

    def collated(indices: np.ndarray) -> tuple[Batch, bool]:
        indices, counts = share(indices)
        return collate(data, indices, Vocabulary.pad_id, pad_multiple).to(device), counts

    if device.type != "cuda":
        yield from map(collated, batches)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = None
        for indices in batches:
            following = pool.submit(collated, indices)
            if upcoming is not None:
                yield upcoming.result()
            upcoming = following
        if upcoming is not None:
            yield upcoming.result()
