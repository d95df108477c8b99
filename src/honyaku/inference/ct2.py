"""CTranslate2's search engine over a model's conversion (``honyaku.inference.export.export_ctranslate2``), made
on first use and again whenever the weights change. Without PyTorch: a translator that searches with CTranslate2
imports none, unless it has to convert the model first."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from honyaku.core import openmp
from honyaku.core.config import Config, DecodingConfig
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_write_bytes
from honyaku.core.workers import thread_count
from honyaku.data.catalogue import cache_dir
from honyaku.data.vocabulary import EOS, output_tokens
from honyaku.inference.engine import Hypothesis, hypotheses_to_finish, normalized_score, output_caps
from honyaku.inference.pretrained import pretrained_root
from honyaku.modeldir import CTRANSLATE2_DIR, HASH_KEY, WEIGHTS_FILE, ModelDirectory, read_members, stored_weights

logger = logging.getLogger("honyaku")


def export_refusal(model_dir: Path, cfg: Config) -> str | None:
    """Why a model directory does not export to transformers (nor so to CTranslate2), or None where it does."""
    if read_members(model_dir):
        return "an ensemble does not export to one transformers model; export a member"
    if cfg.model.arch != "transformer":
        return f"only Transformer models export to transformers, not {cfg.model.arch!r}"
    if not cfg.model.share_vocab:
        return "M2M100 has one vocabulary for both sides; train with model.share_vocab: true"
    if not cfg.model.tie_embeddings:
        # measured: M2M100 (transformers 4.x) and its CTranslate2 conversion computed other scores than honyaku
        # for a model with its own output layer, so the export would translate differently
        return "only a model whose output layer is its embedding exports (train with model.tie_embeddings: true)"
    return None


def conversion_dir(run_dir: Path, weights_hash: str | None) -> Path:
    """Where a model's CTranslate2 conversion is kept: inside a run; for a pretrained model, whose directory is
    part of an installed package, or a directory the user cannot write, in the user cache under the weights'
    hash, unless the directory ships one of these weights (``honyaku bundle`` makes it)."""
    shipped = run_dir / CTRANSLATE2_DIR
    if weights_hash is not None and _marked(shipped) == weights_hash:
        return shipped
    if run_dir.resolve().is_relative_to(pretrained_root().resolve()) or not os.access(run_dir, os.W_OK):
        return cache_dir() / CTRANSLATE2_DIR / f"{run_dir.name}-{(weights_hash or 'unhashed')[:16]}"
    return run_dir / CTRANSLATE2_DIR


def _marked(converted: Path) -> str | None:
    """The weights' hash that a conversion was made of, or None where there is no conversion there."""
    try:
        return (converted / HASH_KEY).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def ctranslate2_device(name: str) -> tuple[str, int]:
    """CTranslate2's device and index for a device name (auto, cpu, cuda, cuda:N)."""
    import ctranslate2  # 0.1 s, for a translator that searches with CTranslate2 only

    kind, _, index = name.partition(":")
    if kind == "auto":
        return ("cuda", 0) if ctranslate2.get_cuda_device_count() > 0 else ("cpu", 0)
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
        raise HonyakuError(f"unknown device {name!r}: cpu, cuda, cuda:N or auto")
    if kind == "cuda" and ctranslate2.get_cuda_device_count() <= int(index or 0):
        raise HonyakuError(f"device {name!r} requested but CTranslate2 sees no such CUDA device")
    return kind, int(index or 0)


def load_ctranslate2(
    files: ModelDirectory, device: str, compute_type: str, convert: Callable[[Path, Path], object]
) -> CTranslate2Search:
    """CTranslate2's search over the model, converted by ``convert(model_dir, out_dir)`` (``honyaku.inference.export.
    export_ctranslate2``) the first time (see ``conversion_dir``) and again whenever its weights have changed since
    (the conversion records their content hash). ``device``: auto, cpu, cuda or cuda:N; ``compute_type``:
    float32, bfloat16, float16 or int8."""
    import ctranslate2

    run_dir = files.path
    weights_hash = stored_weights(run_dir / WEIGHTS_FILE).content_hash
    converted = conversion_dir(run_dir, weights_hash)
    if weights_hash is None or _marked(converted) != weights_hash:
        # stderr, through logging's last resort where nobody configured it: the first translation waits for this
        logger.warning(f"honyaku: converting {run_dir.name} for CTranslate2, once for these weights (a few seconds)")
        convert(run_dir, converted)
        atomic_write_bytes(converted / HASH_KEY, (weights_hash or "").encode())
    kind, index = ctranslate2_device(device)
    if kind == "cpu":
        openmp.warn_if_shared()
    on_device = {"device_index": index} if kind == "cuda" else {"intra_threads": thread_count()}
    try:
        translator = ctranslate2.Translator(str(converted), kind, compute_type=compute_type, **on_device)
    except ValueError as error:  # a compute type that this device or build does not support
        raise HonyakuError(f"CTranslate2 cannot compute in {compute_type} on {kind}: {error}") from None
    config = files.config
    engine = CTranslate2Search(translator, config.decoding, config.model.max_positions)
    engine.device = kind if kind == "cpu" else f"cuda:{index}"
    return engine


class CTranslate2Search:
    """The search engine (``honyaku.inference.engine.SearchEngine``) of a translator whose model CTranslate2 runs:
    the same beam search as honyaku's (``honyaku.inference.search.beam_search`` follows CTranslate2's), the same
    length normalisation, so that both find the same translations but for float rounding. One difference:
    CTranslate2 caps every output of a batch at the longest cap of the batch, not each at its own."""

    def __init__(self, translator, decoding: DecodingConfig, max_positions: int):
        self.translator = translator  # a ctranslate2.Translator
        self.decoding = decoding
        self.max_positions = max_positions
        self.device = "cpu"  # where it computes: cpu, or cuda:N

    def output_cap(self, token_lists: list[list[str]]) -> int:
        """The longest output of a batch of sources (tokens without ``</s>``): the longest of their caps."""
        lengths = [len(tokens) + 1 for tokens in token_lists]  # with </s>, as honyaku counts
        return max(output_caps(lengths, self.decoding, self.max_positions))

    def search(self, token_lists: list[list[str]], beam_size: int, n_best: int) -> list[list[Hypothesis]]:
        """CTranslate2's beam search without its length penalty, which stops once the best candidate and
        ``num_hypotheses`` (``hypotheses_to_finish``) have ended, its hypotheses then ranked by
        ``normalized_score`` (as ``honyaku.inference.search.beam_search`` does)."""
        if not token_lists:
            return []
        cap = self.output_cap(token_lists)
        alpha = self.decoding.length_penalty
        results = self.translator.translate_batch(
            [tokens + [EOS] for tokens in token_lists],
            beam_size=beam_size,
            num_hypotheses=hypotheses_to_finish(n_best, beam_size, alpha),
            length_penalty=0,
            max_decoding_length=cap,
            max_batch_size=self.decoding.batch_size,
            return_scores=True,
        )
        found = []
        for result in results:
            hypotheses = []
            for tokens, log_prob in zip(result.hypotheses, result.scores, strict=True):
                generated = len(tokens) + (len(tokens) < cap)  # </s> counted, where it ended with one
                hypotheses.append(
                    Hypothesis(output_tokens(tokens), normalized_score(log_prob, generated, alpha), log_prob)
                )
            found.append(sorted(hypotheses, key=lambda h: -h.score)[:n_best])
        return found
