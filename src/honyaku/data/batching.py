"""Encoded parallel data and its batches: length buckets under a sentence and token budget, reshuffled each
epoch from ``(seed, epoch)`` alone, so that a batch order can be rebuilt exactly when a run resumes. The training
pairs of an epoch (subword samples, both directions) are likewise a function of ``(seed, epoch)``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from honyaku.core.config import SubwordSampling
from honyaku.data.subwords import Subwords
from honyaku.data.text import tokenize
from honyaku.data.vocabulary import Vocabulary


class Pairs(Protocol):
    """Encoded sentence pairs, in memory (``ParallelData``) or memory-mapped (``honyaku.data.store.StoredPairs``)."""

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
        return Batch(
            self.src.to(device, non_blocking=True),
            self.src_lengths,
            self.tgt_in.to(device, non_blocking=True),
            self.tgt_out.to(device, non_blocking=True),
            self.num_target_tokens,
        )


def tokenized(pairs: tuple[list[str], list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """Pairs of the corpus's tokens separated by spaces, as token lists."""
    sources, targets = pairs
    return [tokenize(s) for s in sources], [tokenize(t) for t in targets]


def encode_pairs(
    sources: list[list[str]], targets: list[list[str]], src_vocab: Vocabulary, tgt_vocab: Vocabulary
) -> ParallelData:
    return ParallelData(
        src=[src_vocab.encode(s, add_eos=True) for s in sources],
        tgt=[tgt_vocab.encode(t, add_bos=True, add_eos=True) for t in targets],
    )


def pairs_within(sources: list[list[str]], targets: list[list[str]], max_len: int | None) -> list[int]:
    """The pairs whose both sides fit in ``max_len`` tokens counting ``<s>`` and ``</s>``."""
    return [i for i in range(len(sources)) if max_len is None or max(len(sources[i]), len(targets[i])) + 2 <= max_len]


def both_directions(data: Pairs) -> ParallelData:
    """The pairs, then each pair reversed. A reversed pair's source is its target as encoded, ``<s> … </s>``:
    the leading ``<s>``, which no forward source has, tells the model to translate the other way."""
    return ParallelData(src=[*data.src, *data.tgt], tgt=[*data.tgt, *([Vocabulary.bos_id, *s] for s in data.src)])


class TrainingPairs:
    """The training pairs of each epoch as ids: the same every epoch, or — with subword sampling — segmented
    afresh from ``(seed, epoch, pair)``; in the first ``bidirectional_epochs`` epochs, followed by the pairs
    reversed (``both_directions``). A resumed run rebuilds exactly the epoch it stopped in."""

    def __init__(
        self,
        words: tuple[list[list[str]], list[list[str]]] | None,
        fixed: Pairs,
        subwords: tuple[Subwords, Subwords],
        vocabularies: tuple[Vocabulary, Vocabulary],
        sampling: SubwordSampling | None,
        seed: int,
        bidirectional_epochs: int = 0,
    ):
        self.words, self.fixed, self.subwords, self.vocabularies = words, fixed, subwords, vocabularies
        self.sampling, self.seed, self.bidirectional_epochs = sampling, seed, bidirectional_epochs
        self._cached: tuple[int, Pairs] | None = None

    def __len__(self) -> int:
        return len(self.fixed)

    def epoch(self, epoch: int) -> Pairs:
        if self._cached is None or self._cached[0] != epoch:
            data = self.fixed if self.sampling is None else self._sampled(epoch)
            self._cached = (epoch, both_directions(data) if epoch < self.bidirectional_epochs else data)
        return self._cached[1]

    def _sampled(self, epoch: int) -> ParallelData:
        drawn = (
            [
                subwords.sample(w, self.sampling, random.Random(f"{self.seed}/{epoch}/{pair}/{side}"))
                for pair, w in enumerate(words)
            ]
            for side, (subwords, words) in enumerate(zip(self.subwords, self.words))
        )
        return encode_pairs(*drawn, *self.vocabularies)


def make_batches(data: Pairs, batch_size: int, batch_tokens: int | None, seed: int, epoch: int) -> list[list[int]]:
    """Index lists of one epoch's batches, in training order.

    Pairs are sorted by length (ties in a random order), cut into batches of at most ``batch_size`` pairs
    and ``batch_tokens`` padded tokens on the longer side, and the batches are shuffled.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    shuffled = torch.randperm(len(data), generator=generator).numpy()
    src_lengths, tgt_lengths = data.lengths()
    order = shuffled[np.lexsort((tgt_lengths[shuffled], src_lengths[shuffled]))]  # stable: ties stay shuffled
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i, length in zip(order.tolist(), np.maximum(src_lengths, tgt_lengths)[order].tolist()):
        over_tokens = batch_tokens is not None and (len(current) + 1) * max(longest, length) > batch_tokens
        if current and (len(current) == batch_size or over_tokens):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, length)
    if current:
        batches.append(current)
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def pad(sequences: list[list[int]], pad_id: int) -> torch.Tensor:
    longest = max(len(s) for s in sequences)
    return torch.tensor([s + [pad_id] * (longest - len(s)) for s in sequences], dtype=torch.long)


def collate(data: Pairs, indices: list[int], pad_id: int) -> Batch:
    src = [data.src[i] for i in indices]
    tgt = [data.tgt[i] for i in indices]
    targets = pad(tgt, pad_id)
    return Batch(
        src=pad(src, pad_id),
        src_lengths=torch.tensor([len(s) for s in src], dtype=torch.long),
        tgt_in=targets[:, :-1],
        tgt_out=targets[:, 1:],
        num_target_tokens=sum(len(t) - 1 for t in tgt),
    )
