"""Models and the ``build_model`` factory.

Every architecture offers the interface that search and training rely on:

- ``forward(src, src_lengths, tgt_in) -> logits (B, T, V)``: teacher-forced scores of a whole target;
- ``encode(src, src_lengths) -> state``: what the decoder starts from;
- ``decode_step(state, prev_tokens) -> (logits (B, V), state)``: one output position, with cached state;
- ``select_state(state, index) -> state``: keep/reorder batch rows (finished sentences, beams); an index of
  shape (N, G) keeps G rows of one source sentence per line (a sentence's beams), which lets a model keep
  what depends only on the source once per sentence (the Transformer's cross-attention keys and values).
"""

from __future__ import annotations

from torch import nn

from honyaku.core.config import ModelConfig
from honyaku.models.rnn import AttentionSeq2Seq, Seq2Seq
from honyaku.models.transformer import Transformer

ARCHITECTURES = {"seq2seq": Seq2Seq, "attention": AttentionSeq2Seq, "transformer": Transformer}


def build_model(cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int) -> nn.Module:
    return ARCHITECTURES[cfg.arch](cfg, src_vocab_size, tgt_vocab_size, pad_id)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
