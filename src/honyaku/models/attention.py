"""Attention over the encoder's states: Luong's dot and general scores, Bahdanau's additive score."""

from __future__ import annotations

import torch
from torch import nn

from honyaku.core.config import ATTENTION_KINDS


class Attention(nn.Module):
    """Scores queries (B, T, H) against a memory (N, S, H), N = B or a divisor of it; returns contexts (B, T, H)
    and weights (B, T, S).

    ``prepare_keys`` turns the memory into keys once per source sentence, so that each decoding step only
    scores its query.
    """

    def __init__(self, kind: str, size: int):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.key_projection = nn.Linear(size, size, bias=False)
        elif kind == "bahdanau":
            self.key_projection = nn.Linear(size, size, bias=False)
            self.query_projection = nn.Linear(size, size, bias=True)
            self.energy = nn.Linear(size, 1, bias=False)
        elif kind != "dot":
            raise ValueError(f"unknown attention {kind!r}; known: {', '.join(ATTENTION_KINDS)}")

    def prepare_keys(self, memory: torch.Tensor) -> torch.Tensor:
        return memory if self.kind == "dot" else self.key_projection(memory)  # (B, S, H)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row of keys, memory and mask (N, S, ·) may serve G = B / N consecutive rows of queries (a
        sentence's beams): their queries are folded into one row, so the memory is never copied per beam."""
        batch, length, size = query.shape
        query = query.reshape(keys.size(0), -1, size)  # (N, G·T, H)
        if self.kind == "bahdanau":
            q = self.query_projection(query).unsqueeze(2)  # (N, G·T, 1, H)
            scores = self.energy(torch.tanh(q + keys.unsqueeze(1))).squeeze(3)  # (N, G·T, S)
        else:
            scores = query @ keys.transpose(1, 2)  # (N, G·T, S)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)  # (N, G·T, S)
        context = weights @ memory  # (N, G·T, H)
        return context.view(batch, length, -1), weights.view(batch, length, -1)  # (B, T, H), (B, T, S)
