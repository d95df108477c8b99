"""Search over any model's ``encode`` / ``decode_step`` / ``select_state`` interface (see ``honyaku.model``)."""

from __future__ import annotations

import torch
from torch import nn

from honyaku.config import DecodingConfig
from honyaku.data import pad


@torch.inference_mode()
def greedy_search(
    model: nn.Module,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    bos_id: int,
    eos_id: int,
    max_lengths: torch.Tensor,
) -> torch.Tensor:
    """Most probable token at each step, for a batch; sentences leave the batch as they finish.

    ``max_lengths`` (B,) caps each output (not counting ``</s>``). Returns (B, T) ids, each row ending in
    ``</s>`` unless it hit its cap; positions after the end hold ``</s>``.
    """
    batch_size, device = src.size(0), src.device
    max_lengths = max_lengths.to(device)
    longest = int(max_lengths.max()) if batch_size else 0
    output = torch.full((batch_size, longest + 1), eos_id, dtype=torch.long, device=device)
    state = model.encode(src, src_lengths)
    rows = torch.arange(batch_size, device=device)  # output row of each sentence still in the batch
    prev = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
    for step in range(longest):
        logits, state = model.decode_step(state, prev)  # (b, V)
        prev = logits.argmax(dim=-1)  # (b,)
        output[rows, step] = prev
        running = (prev != eos_id) & (max_lengths[rows] > step + 1)
        if not running.all():
            keep = running.nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            rows, prev, state = rows[keep], prev[keep], model.select_state(state, keep)
    return output


def max_output_lengths(src_lengths: torch.Tensor, decoding: DecodingConfig) -> torch.Tensor:
    return (src_lengths.float() * decoding.max_length_ratio).floor().long() + decoding.max_length_offset


def translate_ids(
    model: nn.Module,
    sources: list[list[int]],
    decoding: DecodingConfig,
    pad_id: int,
    bos_id: int,
    eos_id: int,
    device: torch.device,
) -> list[list[int]]:
    """Greedy outputs for many source id lists, batched by similar length, returned in input order."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    results: list[list[int]] = [[] for _ in sources]
    for start in range(0, len(order), decoding.batch_size):
        chunk = order[start : start + decoding.batch_size]
        src = pad([sources[i] for i in chunk], pad_id).to(device)
        src_lengths = torch.tensor([len(sources[i]) for i in chunk], dtype=torch.long)
        output = greedy_search(model, src, src_lengths, bos_id, eos_id, max_output_lengths(src_lengths, decoding))
        for i, row in zip(chunk, output.tolist()):
            results[i] = row
    model.train(was_training)
    return results
