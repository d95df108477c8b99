"""Attention heatmaps: which source tokens each output token attended to.

The weights come from a teacher-forced pass over the translation that search found. The LSTM attention
model returns them directly; for the Transformer they are recomputed from each decoder layer's
cross-attention inputs (softmax(q·kᵀ/√d) over the source), because the fused attention kernel does not
expose them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from honyaku.core.errors import HonyakuError
from honyaku.data.vocabulary import EOS, Vocabulary
from honyaku.models.ensemble import Ensemble
from honyaku.models.rnn import AttentionSeq2Seq
from honyaku.models.transformer import Transformer
from honyaku.prediction import Translator


@dataclass
class AttentionMap:
    source: list[str]  # source tokens, with </s>
    target: list[str]  # output tokens, with </s>
    weights: torch.Tensor  # (target, source)
    title: str


@torch.inference_mode()
def attention_map(
    translator: Translator,
    sentence: str,
    beam_size: int | None = None,
    layer: int | None = None,
    head: int | None = None,
    pretokenized: bool = False,
    rank: int = 0,
) -> AttentionMap:
    """Attention of ``sentence``'s translation: the best, or the ``rank``-th of the n-best list. For a
    Transformer: ``layer`` (default the last) and ``head`` (default the mean over heads)."""
    model = translator.model
    if model is None:  # a CTranslate2 backend keeps no PyTorch model
        raise HonyakuError("attention maps need the PyTorch model: load it without backend='ctranslate2'")
    if isinstance(model, Ensemble):
        raise HonyakuError("an ensemble's members attend each in their own way: show one member's attention")
    if not isinstance(model, (AttentionSeq2Seq, Transformer)):
        raise HonyakuError(f"a {translator.config.model.arch} model has no attention to show")
    tokens = translator.source_tokens(sentence, pretokenized)
    if not tokens:
        raise HonyakuError("nothing to translate: the sentence is empty")
    beam_size = max(beam_size or translator.config.decoding.beam_size, rank + 1)
    candidates = translator.search([tokens], beam_size, n_best=rank + 1)[0]
    if rank >= len(candidates):
        raise HonyakuError(f"the search found {len(candidates)} translations, not {rank + 1}")
    src_ids = translator.src_vocab.encode(tokens, add_eos=True)
    tgt_ids = [Vocabulary.bos_id, *candidates[rank].tokens]
    src = torch.tensor([src_ids], device=translator.device)
    tgt_in = torch.tensor([tgt_ids], device=translator.device)  # <s> y1 … yn: predicts y1 … yn </s>
    lengths = torch.tensor([len(src_ids)])
    if isinstance(model, AttentionSeq2Seq):
        weights, title = _lstm_attention(model, src, lengths, tgt_in), f"{translator.config.model.attention} attention"
    else:
        weights, title = _cross_attention(model, src, lengths, tgt_in, layer, head)
    source = [translator.src_vocab.tokens[i] for i in src_ids]
    target = [translator.tgt_vocab.tokens[i] for i in tgt_ids[1:]] + [EOS]
    return AttentionMap(source, target, weights.cpu(), title)


def _lstm_attention(model: AttentionSeq2Seq, src, lengths, tgt_in) -> torch.Tensor:
    captured = []
    hook = model.attention.register_forward_hook(lambda module, inputs, output: captured.append(output[1]))
    try:
        model(src, lengths, tgt_in)
    finally:
        hook.remove()
    return torch.cat(captured, dim=1)[0]  # (T, S): one call, or one per step with input feeding


def _cross_attention(model: Transformer, src, lengths, tgt_in, layer: int | None, head: int | None):
    layers = len(model.decoder_layers)
    layer = layers - 1 if layer is None else layer
    if not 0 <= layer < layers:
        raise HonyakuError(f"--layer must be between 0 and {layers - 1}, got {layer}")
    attention = model.decoder_layers[layer].cross_attention
    captured = []
    hook = attention.register_forward_hook(lambda module, inputs, output: captured.append(inputs))
    try:
        model(src, lengths, tgt_in)
    finally:
        hook.remove()
    x, keys, _, mask = captured[0]
    queries = attention.split_heads(attention.query(x))  # (1, h, T, d)
    scores = queries @ keys.transpose(-1, -2) / math.sqrt(queries.size(-1))  # (1, h, T, S)
    weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)[0]  # (h, T, S)
    if head is None:
        return weights.mean(dim=0), f"cross-attention, layer {layer}, mean of {weights.size(0)} heads"
    if not 0 <= head < weights.size(0):
        raise HonyakuError(f"--head must be between 0 and {weights.size(0) - 1}, got {head}")
    return weights[head], f"cross-attention, layer {layer}, head {head}"


def plot_attention(attention: AttentionMap, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (a Japanese font, so that target tokens are not empty boxes)

    rows, columns = attention.weights.shape
    figure, axes = plt.subplots(figsize=(max(4.0, 0.5 * columns + 2), max(3.0, 0.45 * rows + 1.5)))
    image = axes.imshow(attention.weights.numpy(), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(columns), attention.source, rotation=60, ha="right")
    axes.set_yticks(range(rows), attention.target)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    axes.set_title(attention.title)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise HonyakuError(f"{path}: cannot write the image: {error.strerror or error}") from None
    finally:
        plt.close(figure)
