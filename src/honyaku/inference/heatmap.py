"""Attention heatmaps: which source tokens each output token attended to.

The weights come from a teacher-forced pass over the translation that search found, through the model's
``attention_weights`` (``honyaku.models.factory.AttentionModel``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from honyaku.core.errors import HonyakuError
from honyaku.data.vocabulary import EOS, Vocabulary
from honyaku.inference.translator import Translator
from honyaku.models.factory import AttentionModel


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
    translator = translator.with_pytorch()  # the network itself, whichever engine translates
    model = translator.model
    if not isinstance(model, AttentionModel):
        raise HonyakuError(f"a {translator.config.model.arch} model has no attention to show")
    tokens = translator.source_tokens(sentence, pretokenized)
    if not tokens:
        raise HonyakuError("nothing to translate: the sentence is empty")
    beam_size = max(beam_size or translator.config.decoding.beam_size, rank + 1)
    candidates = translator.search([tokens], beam_size, n_best=rank + 1)[0]
    if rank >= len(candidates):
        raise HonyakuError(f"the search found {len(candidates)} translations, not {rank + 1}")
    src_ids = translator.src_vocab.encode(tokens, add_eos=True)
    tgt_ids = [Vocabulary.bos_id, *translator.tgt_vocab.encode(candidates[rank].tokens)]
    src = torch.tensor([src_ids], device=translator.device)
    tgt_in = torch.tensor([tgt_ids], device=translator.device)  # <s> y1 … yn: predicts y1 … yn </s>
    weights, title = model.attention_weights(src, torch.tensor([len(src_ids)]), tgt_in, layer, head)
    source = [translator.src_vocab.tokens[i] for i in src_ids]
    target = [translator.tgt_vocab.tokens[i] for i in tgt_ids[1:]] + [EOS]
    return AttentionMap(source, target, weights.cpu(), title)


def plot_attention(attention: AttentionMap, path: str | Path) -> None:
    import matplotlib  # slow to import (0.3 s), and only needed here

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
