"""The Transformer (Vaswani et al., 2017) with pre-norm layers (Xiong et al., 2020), sinusoidal positions,
optional tied embeddings, and a key/value cache so that each decoding step costs one position, not the prefix.

Layer for layer it computes what transformers' M2M100 computes (pre-norm, final layer norms, embeddings scaled
by sqrt(d), fairseq's sinusoids, no output bias), so that it can be exported there without loss."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from honyaku.core.config import ModelConfig
from honyaku.core.errors import HonyakuError
from honyaku.models.layers import Dropout, WordDropout, grouped_rows


@dataclass
class TransformerState:
    """The decoder's cache. Its B rows (hypotheses) come in groups of ``group`` consecutive rows of one source
    sentence (beam search: a sentence's beams), so that the source side is kept once per sentence, N = B / group."""

    memory_mask: torch.Tensor  # (N, 1, 1, S) True at real source tokens
    cross_keys: list[torch.Tensor]  # per decoder layer (N, heads, S, head_dim): computed once per source
    cross_values: list[torch.Tensor]
    self_keys: list[torch.Tensor]  # per decoder layer (B, heads, t, head_dim): one more position per step
    self_values: list[torch.Tensor]
    position: int = 0
    group: int = 1


# fairseq numbers a sentence's positions from its padding id + 1, and M2M100 and CTranslate2 follow it with
# padding id 1: the first token is at position 2. (An export gives <pad> id 1.)
FIRST_POSITION = 2


class MultiHeadAttention(nn.Module):
    def __init__(self, size: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.query = nn.Linear(size, size)
        self.key_value = nn.Linear(size, 2 * size)
        self.out = nn.Linear(size, size)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, size = x.shape
        return x.view(batch, length, self.heads, size // self.heads).transpose(1, 2)  # (B, h, L, d)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.key_value(x).chunk(2, dim=-1)  # (B, L, D) each
        return self.split_heads(k), self.split_heads(v)

    def forward(
        self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, causal: bool = False
    ) -> torch.Tensor:
        q = self.split_heads(self.query(x))  # (B, h, T, d)
        batch, heads, length, size = q.shape
        group = batch // k.size(0)  # queries of `group` rows share each row of keys: fold them into its length
        q = q.view(-1, group, heads, length, size).transpose(1, 2).flatten(2, 3)  # (B / group, h, group·T, d)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal)
        y = y.view(-1, heads, group, length, size).transpose(1, 2).reshape(batch, heads, length, size)
        return self.out(y.transpose(1, 2).flatten(2))  # (B, T, D)


class FeedForward(nn.Sequential):
    def __init__(self, cfg: ModelConfig):
        inner_dropout = cfg.dropout if cfg.activation_dropout is None else cfg.activation_dropout
        super().__init__(
            nn.Linear(cfg.embed_dim, cfg.ffn_size),
            nn.ReLU(),
            Dropout(inner_dropout),
            nn.Linear(cfg.ffn_size, cfg.embed_dim),
        )


class EncoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        size = cfg.embed_dim
        self.norm1, self.norm2 = nn.LayerNorm(size), nn.LayerNorm(size)
        self.attention = MultiHeadAttention(size, cfg.num_heads, cfg.attention_dropout)
        self.feed_forward = FeedForward(cfg)
        self.dropout = Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.dropout(self.attention(h, *self.attention.keys_values(h), mask))  # (B, S, D)
        return x + self.dropout(self.feed_forward(self.norm2(x)))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        size = cfg.embed_dim
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(size), nn.LayerNorm(size), nn.LayerNorm(size)
        self.self_attention = MultiHeadAttention(size, cfg.num_heads, cfg.attention_dropout)
        self.cross_attention = MultiHeadAttention(size, cfg.num_heads, cfg.attention_dropout)
        self.feed_forward = FeedForward(cfg)
        self.dropout = Dropout(cfg.dropout)

    def forward(
        self,
        x: torch.Tensor,
        cross_kv: tuple[torch.Tensor, torch.Tensor],
        memory_mask: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Returns the layer's output (B, T, D) and its self-attention keys/values including ``past``."""
        h = self.norm1(x)
        k, v = self.self_attention.keys_values(h)  # (B, h, T, d)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        # Without a cache the whole target is here: mask the future. With one, x is the newest position and
        # may see every cached one (SDPA's is_causal would align the mask to the first position instead).
        x = x + self.dropout(self.self_attention(h, k, v, None, causal=past is None))
        x = x + self.dropout(self.cross_attention(self.norm2(x), *cross_kv, memory_mask))
        return x + self.dropout(self.feed_forward(self.norm3(x))), (k, v)


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int, pad_id: int):
        super().__init__()
        size = cfg.embed_dim
        self.scale = math.sqrt(size)
        self.max_positions = cfg.max_positions
        self.tgt_embed = nn.Embedding(tgt_vocab_size, size, padding_idx=pad_id)
        self.src_embed = self.tgt_embed if cfg.share_vocab else nn.Embedding(src_vocab_size, size, padding_idx=pad_id)
        self.register_buffer("positions", sinusoids(cfg.max_positions, size, FIRST_POSITION), persistent=False)
        self.encoder_layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.num_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.decoder_depth))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(size), nn.LayerNorm(size)
        self.dropout = Dropout(cfg.dropout)
        self.word_dropout = WordDropout(cfg.word_dropout)
        self.output = nn.Linear(size, tgt_vocab_size, bias=False)
        for name, parameter in self.named_parameters():
            if "embed" in name:
                nn.init.normal_(parameter, 0.0, size**-0.5)  # × sqrt(size) in embed(): unit variance
            elif parameter.dim() > 1:
                nn.init.xavier_uniform_(parameter)
        if cfg.tie_embeddings:
            self.output.weight = self.tgt_embed.weight
        with torch.no_grad():
            self.tgt_embed.weight[pad_id].zero_()
            self.src_embed.weight[pad_id].zero_()

    def embed(self, embedding: nn.Embedding, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
        positions = self.positions[start : start + tokens.size(1)]  # (T, D)
        return self.dropout(self.word_dropout(embedding(tokens)) * self.scale + positions)  # (B, T, D)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> TransformerState:
        mask = (torch.arange(src.size(1), device=src.device) < src_lengths.to(src.device).unsqueeze(1))[:, None, None]
        x = self.embed(self.src_embed, src)  # (B, S, D)
        for layer in self.encoder_layers:
            x = layer(x, mask)
        memory = self.encoder_norm(x)
        cross = [layer.cross_attention.keys_values(memory) for layer in self.decoder_layers]
        return TransformerState(mask, [k for k, _ in cross], [v for _, v in cross], [], [])

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        state = self.encode(src, src_lengths)
        x = self.embed(self.tgt_embed, tgt_in)  # (B, T, D)
        for i, layer in enumerate(self.decoder_layers):
            x, _ = layer(x, (state.cross_keys[i], state.cross_values[i]), state.memory_mask)
        x = self.decoder_norm(x)
        return self.output(x if positions is None else x[positions])  # (B, T, V), or (N, V) at N positions

    def decode_step(self, state: TransformerState, prev_tokens: torch.Tensor) -> tuple[torch.Tensor, TransformerState]:
        x = self.embed(self.tgt_embed, prev_tokens.unsqueeze(1), start=state.position)  # (B, 1, D)
        self_keys, self_values = [], []
        for i, layer in enumerate(self.decoder_layers):
            past = (state.self_keys[i], state.self_values[i]) if state.position else None
            x, (k, v) = layer(x, (state.cross_keys[i], state.cross_values[i]), state.memory_mask, past)
            self_keys.append(k)
            self_values.append(v)
        state = replace(state, self_keys=self_keys, self_values=self_values, position=state.position + 1)
        return self.output(self.decoder_norm(x.squeeze(1))), state  # (B, V)

    def attention_weights(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, layer: int | None, head: int | None
    ) -> tuple[torch.Tensor, str]:
        """One decoder layer's cross-attention (default: the last) in one head (default: the mean of all),
        recomputed from that layer's inputs, softmax(q·kᵀ/√d): the fused attention kernel does not expose it."""
        layers = len(self.decoder_layers)
        layer = layers - 1 if layer is None else layer
        if not 0 <= layer < layers:
            raise HonyakuError(f"the layer must be between 0 and {layers - 1}, got {layer}")
        attention = self.decoder_layers[layer].cross_attention
        captured = []
        hook = attention.register_forward_hook(lambda module, inputs, output: captured.append(inputs))
        try:
            self(src, src_lengths, tgt_in)
        finally:
            hook.remove()
        x, keys, _, mask = captured[0]
        queries = attention.split_heads(attention.query(x))  # (1, h, T, d)
        scores = queries @ keys.transpose(-1, -2) / math.sqrt(queries.size(-1))  # (1, h, T, S)
        weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)[0]  # (h, T, S)
        if head is None:
            return weights.mean(dim=0), f"cross-attention, layer {layer}, mean of {weights.size(0)} heads"
        if not 0 <= head < weights.size(0):
            raise HonyakuError(f"the head must be between 0 and {weights.size(0) - 1}, got {head}")
        return weights[head], f"cross-attention, layer {layer}, head {head}"

    @staticmethod
    def select_state(state: TransformerState, index: torch.Tensor) -> TransformerState:
        """Keep the rows ``index`` (B',) in its order; an index (N', G) keeps G rows of one sentence per line,
        and the source side once per line."""
        rows, sentences, group = grouped_rows(index, state.group)  # (B',), (N',)

        def select(tensors: list[torch.Tensor], index: torch.Tensor) -> list[torch.Tensor]:
            return [t.index_select(0, index) for t in tensors]

        return TransformerState(
            state.memory_mask.index_select(0, sentences),
            select(state.cross_keys, sentences),
            select(state.cross_values, sentences),
            select(state.self_keys, rows),
            select(state.self_values, rows),
            state.position,
            group,
        )


def sinusoids(length: int, size: int, first: int) -> torch.Tensor:
    """Fixed sinusoidal positions as fairseq and transformers' M2M100 lay them out — sines in the first half of
    the dimensions, cosines in the second — for positions ``first`` onwards. (length, size)"""
    half = size // 2
    frequency = torch.exp(torch.arange(half) * (-math.log(10000.0) / (half - 1)))  # (size/2,)
    angles = torch.arange(first, first + length).unsqueeze(1) * frequency  # (length, size/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
