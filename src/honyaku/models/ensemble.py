"""An ensemble: several models of one vocabulary behind the interface of one (``honyaku.models.factory``)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from honyaku.core.errors import HonyakuError


class Ensemble(nn.Module):
    """The interface of ``honyaku.models.factory`` over several models. Its scores are the log of the mean of the
    members' probabilities (as fairseq ensembles), already normalised; its state is one state per member."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)
        limits = [member.max_positions for member in members if member.max_positions is not None]
        self.max_positions = min(limits, default=None)

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        # (B, T, V), or (N, V) at N positions
        return log_mean_probability([member(src, src_lengths, tgt_in, positions) for member in self.members])

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> list[Any]:
        return [member.encode(src, src_lengths) for member in self.members]

    def decode_step(self, state: list[Any], prev_tokens: torch.Tensor) -> tuple[torch.Tensor, list[Any]]:
        steps = [member.decode_step(own, prev_tokens) for member, own in zip(self.members, state)]
        return log_mean_probability([logits for logits, _ in steps]), [own for _, own in steps]  # (B, V)

    def select_state(self, state: list[Any], index: torch.Tensor) -> list[Any]:
        return [member.select_state(own, index) for member, own in zip(self.members, state)]

    def attention_weights(self, *args: Any) -> tuple[torch.Tensor, str]:
        raise HonyakuError("an ensemble's members attend each in their own way: show one member's attention")


def log_mean_probability(logits: list[torch.Tensor]) -> torch.Tensor:
    """log(mean_m softmax(logits_m)) of the members' (..., V) scores."""
    log_probs = torch.stack([scores.float().log_softmax(-1) for scores in logits])  # (M, ..., V)
    return log_probs.logsumexp(0) - math.log(len(logits))
