"""Encoded parallel data and its batches: length buckets under a sentence and token budget, reshuffled each
epoch from ``(seed, epoch)`` alone, so that a batch order can be rebuilt exactly when a run resumes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from honyaku.config import SplitFiles
from honyaku.corpus import read_parallel
from honyaku.text import tokenize
from honyaku.vocabulary import Vocabulary


@dataclass
class ParallelData:
    """Sentence pairs as id lists: source ends with ``</s>``; target is wrapped in ``<s> … </s>``."""

    src: list[list[int]]
    tgt: list[list[int]]

    def __len__(self) -> int:
        return len(self.src)


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


def read_tokenized(split: SplitFiles) -> tuple[list[list[str]], list[list[str]]]:
    sources, targets = read_parallel(split)
    return [tokenize(s) for s in sources], [tokenize(t) for t in targets]


def encode_pairs(
    sources: list[list[str]], targets: list[list[str]], src_vocab: Vocabulary, tgt_vocab: Vocabulary
) -> ParallelData:
    return ParallelData(
        src=[src_vocab.encode(s, add_eos=True) for s in sources],
        tgt=[tgt_vocab.encode(t, add_bos=True, add_eos=True) for t in targets],
    )


def limit_training_pairs(
    sources: list[list[str]], targets: list[list[str]], max_len: int | None
) -> tuple[list[list[str]], list[list[str]]]:
    """Keep the pairs whose both sides fit in ``max_len`` tokens counting ``<s>`` and ``</s>``."""
    if max_len is None:
        return sources, targets
    keep = [i for i in range(len(sources)) if max(len(sources[i]), len(targets[i])) + 2 <= max_len]
    return [sources[i] for i in keep], [targets[i] for i in keep]


def make_batches(
    data: ParallelData, batch_size: int, batch_tokens: int | None, seed: int, epoch: int
) -> list[list[int]]:
    """Index lists of one epoch's batches, in training order.

    Pairs are sorted by length (ties in a random order), cut into batches of at most ``batch_size`` pairs
    and ``batch_tokens`` padded tokens on the longer side, and the batches are shuffled.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    shuffled = torch.randperm(len(data), generator=generator).tolist()
    order = sorted(shuffled, key=lambda i: (len(data.src[i]), len(data.tgt[i])))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        length = max(len(data.src[i]), len(data.tgt[i]))
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


def collate(data: ParallelData, indices: list[int], pad_id: int) -> Batch:
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
