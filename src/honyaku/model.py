"""Models and the ``build_model`` factory.

Every architecture offers the interface that search and training rely on:

- ``forward(src, src_lengths, tgt_in) -> logits (B, T, V)``: teacher-forced scores of a whole target;
- ``encode(src, src_lengths) -> state``: what the decoder starts from;
- ``decode_step(state, prev_tokens) -> (logits (B, V), state)``: one output position, with cached state;
- ``select_state(state, index) -> state``: keep/reorder batch rows (finished sentences, beams).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from honyaku.config import ModelConfig

LSTMState = tuple[torch.Tensor, torch.Tensor]  # h, c: (L, B, H) each


class Seq2Seq(nn.Module):
    """Sutskever et al. (2014): the encoder LSTM's final (h, c) per layer initialise the decoder LSTM."""

    def __init__(self, cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int):
        super().__init__()
        self.reverse_source = cfg.reverse_source
        self.src_embed = nn.Embedding(src_vocab_size, cfg.embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, cfg.embed_dim, padding_idx=pad_id)
        between_layers = cfg.dropout if cfg.num_layers > 1 else 0.0
        self.encoder = nn.LSTM(cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True, dropout=between_layers)
        self.decoder = nn.LSTM(cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True, dropout=between_layers)
        self.dropout = nn.Dropout(cfg.dropout)
        self.output = nn.Linear(cfg.hidden_size, tgt_vocab_size)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> LSTMState:
        if self.reverse_source:
            src = reverse_padded(src, src_lengths)
        x = self.dropout(self.src_embed(src))  # (B, S, E)
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.encoder(packed)  # final (h, c) at each sentence's true length
        return state

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        state = self.encode(src, src_lengths)
        y = self.dropout(self.tgt_embed(tgt_in))  # (B, T, E)
        out, _ = self.decoder(y, state)  # (B, T, H): the whole target in one call
        return self.output(self.dropout(out))  # (B, T, V)

    def decode_step(self, state: LSTMState, prev_tokens: torch.Tensor) -> tuple[torch.Tensor, LSTMState]:
        y = self.tgt_embed(prev_tokens).unsqueeze(1)  # (B, 1, E)
        out, state = self.decoder(y, state)  # (B, 1, H)
        return self.output(out.squeeze(1)), state  # (B, V)

    @staticmethod
    def select_state(state: LSTMState, index: torch.Tensor) -> LSTMState:
        h, c = state
        return h.index_select(1, index), c.index_select(1, index)


def reverse_padded(tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first ``lengths[b]`` tokens, leaving its padding in place."""
    positions = torch.arange(tokens.size(1), device=tokens.device).unsqueeze(0)  # (1, S)
    lengths = lengths.to(tokens.device).unsqueeze(1)  # (B, 1)
    source_positions = torch.where(positions < lengths, lengths - 1 - positions, positions)
    return tokens.gather(1, source_positions)


ARCHITECTURES = {"seq2seq": Seq2Seq}


def build_model(cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int) -> nn.Module:
    return ARCHITECTURES[cfg.arch](cfg, src_vocab_size, tgt_vocab_size, pad_id)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
