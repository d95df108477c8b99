"""LSTM encoder-decoders: the classic seq2seq (Sutskever et al., 2014) and the attention model (Luong et al., 2015;
Bahdanau et al., 2015)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from honyaku.core.config import ModelConfig
from honyaku.models.attention import Attention
from honyaku.models.layers import Dropout, WordDropout, grouped_rows

LSTMState = tuple[torch.Tensor, torch.Tensor]  # h, c: (L, B, H) each


class Seq2Seq(nn.Module):
    """Sutskever et al. (2014): the encoder LSTM's final (h, c) per layer initialise the decoder LSTM."""

    max_positions = None  # an LSTM takes sequences of any length

    def __init__(self, cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int):
        super().__init__()
        self.reverse_source = cfg.reverse_source
        self.src_embed = nn.Embedding(src_vocab_size, cfg.embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, cfg.embed_dim, padding_idx=pad_id)
        between_layers = cfg.dropout if cfg.num_layers > 1 else 0.0
        self.encoder = nn.LSTM(cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True, dropout=between_layers)
        self.decoder = nn.LSTM(cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True, dropout=between_layers)
        self.dropout = Dropout(cfg.dropout)
        self.word_dropout = WordDropout(cfg.word_dropout)
        self.output = nn.Linear(cfg.hidden_size, tgt_vocab_size)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> LSTMState:
        if self.reverse_source:
            src = reverse_padded(src, src_lengths)
        x = self.dropout(self.word_dropout(self.src_embed(src)))  # (B, S, E)
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.encoder(packed)  # final (h, c) at each sentence's true length
        return state

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        state = self.encode(src, src_lengths)
        y = self.dropout(self.word_dropout(self.tgt_embed(tgt_in)))  # (B, T, E)
        out, _ = self.decoder(y, state)  # (B, T, H): the whole target in one call
        return self.output(self.dropout(out if positions is None else out[positions]))  # (B, T, V) or (N, V)

    def decode_step(self, state: LSTMState, prev_tokens: torch.Tensor) -> tuple[torch.Tensor, LSTMState]:
        y = self.tgt_embed(prev_tokens).unsqueeze(1)  # (B, 1, E)
        out, state = self.decoder(y, state)  # (B, 1, H)
        return self.output(out.squeeze(1)), state  # (B, V)

    @staticmethod
    def select_state(state: LSTMState, index: torch.Tensor) -> LSTMState:
        index = index.flatten()
        h, c = state
        return h.index_select(1, index), c.index_select(1, index)


def reverse_padded(tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first ``lengths[b]`` tokens, leaving its padding in place."""
    positions = torch.arange(tokens.size(1), device=tokens.device).unsqueeze(0)  # (1, S)
    lengths = lengths.to(tokens.device).unsqueeze(1)  # (B, 1)
    source_positions = torch.where(positions < lengths, lengths - 1 - positions, positions)
    return tokens.gather(1, source_positions)


@dataclass
class AttentionState:
    """The decoder's state. Its B rows (hypotheses) come in groups of ``group`` consecutive rows of one source
    sentence (beam search: a sentence's beams), so that the source side is kept once per sentence, N = B / group."""

    hidden: LSTMState  # decoder (h, c): (L, B, H) each
    memory: torch.Tensor  # (N, S, H) encoder states, projected to the decoder's size
    keys: torch.Tensor  # (N, S, H) the memory as the attention scores it
    mask: torch.Tensor  # (N, S) True at real source tokens
    feed: torch.Tensor | None  # (B, H) the previous attentional vector, with input feeding
    group: int = 1


class AttentionSeq2Seq(nn.Module):
    """Bidirectional LSTM encoder; LSTM decoder whose output attends over the encoder states (Luong et al.).

    Without input feeding the decoder LSTM does not depend on attention, so training runs it over the whole
    target in one call; with input feeding each step's attentional vector is fed to the next.
    """

    max_positions = None

    def __init__(self, cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int):
        super().__init__()
        size, layers = cfg.hidden_size, cfg.num_layers
        between_layers = cfg.dropout if layers > 1 else 0.0
        self.input_feeding = cfg.input_feeding
        self.src_embed = nn.Embedding(src_vocab_size, cfg.embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, cfg.embed_dim, padding_idx=pad_id)
        self.encoder = nn.LSTM(
            cfg.embed_dim, size, layers, batch_first=True, dropout=between_layers, bidirectional=True
        )
        self.memory_projection = nn.Linear(2 * size, size)
        self.bridge = nn.Linear(2 * size, size)  # both directions' final states → the decoder's initial state
        decoder_input = cfg.embed_dim + (size if cfg.input_feeding else 0)
        self.decoder = nn.LSTM(decoder_input, size, layers, batch_first=True, dropout=between_layers)
        self.attention = Attention(cfg.attention, size)
        self.combine = nn.Linear(2 * size, size)  # [context; decoder output] → attentional vector
        self.dropout = Dropout(cfg.dropout)
        self.word_dropout = WordDropout(cfg.word_dropout)
        self.output = nn.Linear(size, tgt_vocab_size)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> AttentionState:
        x = self.dropout(self.word_dropout(self.src_embed(src)))  # (B, S, E)
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, (h, c) = self.encoder(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=src.size(1))  # (B, S, 2H)
        memory = self.memory_projection(states)  # (B, S, H)
        hidden = tuple(torch.tanh(self.bridge(self._join_directions(s))) for s in (h, c))  # (L, B, H) each
        mask = torch.arange(src.size(1), device=src.device) < src_lengths.to(src.device).unsqueeze(1)  # (B, S)
        feed = memory.new_zeros(memory.size(0), memory.size(2)) if self.input_feeding else None
        return AttentionState(hidden, memory, self.attention.prepare_keys(memory), mask, feed)

    @staticmethod
    def _join_directions(state: torch.Tensor) -> torch.Tensor:
        layers2, batch, size = state.shape  # (2L, B, H), forward and backward interleaved per layer
        return state.view(layers2 // 2, 2, batch, size).transpose(1, 2).reshape(layers2 // 2, batch, 2 * size)

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        state = self.encode(src, src_lengths)
        attentional, _ = self._decode(self.dropout(self.word_dropout(self.tgt_embed(tgt_in))), state)  # (B, T, H)
        kept = attentional if positions is None else attentional[positions]
        return self.output(self.dropout(kept))  # (B, T, V), or (N, V) at N positions

    def decode_step(self, state: AttentionState, prev_tokens: torch.Tensor) -> tuple[torch.Tensor, AttentionState]:
        attentional, state = self._decode(self.tgt_embed(prev_tokens).unsqueeze(1), state)  # (B, 1, H)
        return self.output(attentional.squeeze(1)), state  # (B, V)

    def attention_weights(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, layer: int | None, head: int | None
    ) -> tuple[torch.Tensor, str]:
        """The attention of one sentence's teacher-forced pass (one attention, so no layer or head)."""
        captured = []
        hook = self.attention.register_forward_hook(lambda module, inputs, output: captured.append(output[1]))
        try:
            self(src, src_lengths, tgt_in)
        finally:
            hook.remove()
        # one call, or one per step with input feeding
        return torch.cat(captured, dim=1)[0], f"{self.attention.kind} attention"  # (T, S)

    def _decode(self, y: torch.Tensor, state: AttentionState) -> tuple[torch.Tensor, AttentionState]:
        if not self.input_feeding:
            out, hidden = self.decoder(y, state.hidden)  # (B, T, H): all steps in one call
            return self._attend(out, state), replace(state, hidden=hidden)
        steps = []
        for t in range(y.size(1)):
            x = torch.cat([y[:, t], state.feed], dim=-1).unsqueeze(1)  # (B, 1, E + H)
            out, hidden = self.decoder(x, state.hidden)
            attentional = self._attend(out, state)  # (B, 1, H)
            state = replace(state, hidden=hidden, feed=attentional.squeeze(1))
            steps.append(attentional)
        return torch.cat(steps, dim=1), state

    def _attend(self, out: torch.Tensor, state: AttentionState) -> torch.Tensor:
        """The attentional vectors (B, T, H). (honyaku.inference.heatmap reads the attention weights from a hook.)"""
        context, _ = self.attention(out, state.keys, state.memory, state.mask)  # (B, T, H), weights (B, T, S)
        return torch.tanh(self.combine(torch.cat([context, out], dim=-1)))

    @staticmethod
    def select_state(state: AttentionState, index: torch.Tensor) -> AttentionState:
        """Keep the rows ``index`` (B',) in its order; an index (N', G) keeps G rows of one sentence per line,
        and the source side once per line."""
        rows, sentences, group = grouped_rows(index, state.group)  # (B',), (N',)

        def select(tensor: torch.Tensor | None, index: torch.Tensor) -> torch.Tensor | None:
            return None if tensor is None else tensor.index_select(0, index)

        h, c = state.hidden
        return AttentionState(
            hidden=(h.index_select(1, rows), c.index_select(1, rows)),
            memory=select(state.memory, sentences),
            keys=select(state.keys, sentences),
            mask=select(state.mask, sentences),
            feed=select(state.feed, rows),
            group=group,
        )
