"""Models, the interface that search and training rely on, and the ``build_model`` factory."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from honyaku.core.config import ModelConfig
from honyaku.models.rnn import AttentionSeq2Seq, Seq2Seq
from honyaku.models.transformer import Transformer


class TranslationModel(Protocol):
    """What every architecture (and an ensemble) offers. ``state`` is the model's own decoder state."""

    training: bool
    max_positions: int | None  # the longest sequence the model can take (None: no limit)

    def __call__(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Teacher-forced scores of whole targets: (B, S), (B,), (B, T) → logits (B, T, V); with ``positions``
        (B, T), True where a score is wanted (the real target tokens), only those: (N, V) in row-major order. The
        output layer is the costliest of a small model, and padding needs none of it."""
        ...

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> Any:
        """What the decoder starts from."""
        ...

    def decode_step(self, state: Any, prev_tokens: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """One output position with cached state: (B,) previous tokens → logits (B, V) and the next state."""
        ...

    def select_state(self, state: Any, index: torch.Tensor) -> Any:
        """Keep/reorder batch rows (finished sentences, beams). An index of shape (N, G) keeps G rows of one
        source sentence per line (a sentence's beams), so that a model may keep what depends only on the
        source once per sentence (the Transformer's cross-attention keys and values)."""
        ...

    def eval(self) -> nn.Module: ...

    def train(self, mode: bool = True) -> nn.Module: ...


@runtime_checkable
class AttentionModel(Protocol):
    """A model whose attention over the source can be shown (honyaku.inference.heatmap)."""

    def attention_weights(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, layer: int | None, head: int | None
    ) -> tuple[torch.Tensor, str]:
        """Weights (T, S) of one sentence's teacher-forced pass, (1, S), (1,), (1, T), and what they are."""
        ...


ARCHITECTURES = {"seq2seq": Seq2Seq, "attention": AttentionSeq2Seq, "transformer": Transformer}


def build_model(cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int) -> nn.Module:
    return ARCHITECTURES[cfg.arch](cfg, src_vocab_size, tgt_vocab_size, pad_id)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
