"""Subword units: SentencePiece models trained with the run, between the word tokens and the model.

Words come from a text processor (or the corpus); a subword model splits them into pieces for the model and
joins the model's pieces back into words. Without subwords, words are the model's tokens.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Callable
from pathlib import Path

import sentencepiece

from honyaku.core.data_config import DataConfig, SubwordConfig, SubwordSampling
from honyaku.core.errors import HonyakuError
from honyaku.data.text import get_processor, join_tokens, processor_names, split_tokens


class WordLevel:
    """No subwords: the model reads and writes words."""

    def split(self, words: list[str]) -> list[str]:
        return words

    def sample(self, words: list[str], sampling: SubwordSampling, generator: random.Random) -> list[str]:
        return words

    def pieces(self) -> list[str]:
        return []

    def join(self, pieces: list[str]) -> list[str]:
        return pieces


class SentencePieceModel:
    def __init__(self, model: bytes, origin: str, text_of: Callable[[list[str]], str] = join_tokens):
        """``text_of`` turns words into the text that SentencePiece reads: by default the words with spaces
        between them, so that the pieces join back into the same words."""
        self.text_of = text_of
        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(model)
        except RuntimeError as error:
            raise HonyakuError(f"{origin}: not a SentencePiece model ({error})") from None

    @functools.cached_property
    def piece_log_probs(self) -> list[float]:
        """Each piece's log-probability, by id: read once, by training with sampling only."""
        return [self.processor.get_score(i) for i in range(self.processor.get_piece_size())]

    def split(self, words: list[str]) -> list[str]:
        return self.processor.encode(self.text_of(words), out_type=str) if words else []

    def sample(self, words: list[str], sampling: SubwordSampling, generator: random.Random) -> list[str]:
        """A segmentation drawn at random (subword regularization): Kudo's l-best sampling, one of the
        ``nbest_size`` best segmentations, with probability ∝ P(segmentation) ** alpha. Drawn from ``generator``
        rather than by SentencePiece, whose own generator its set_random_generator_seed did not fix (sentencepiece
        0.2.3: other draws in every process), so that a resumed run draws what the uninterrupted one drew."""
        if not words:
            return []
        best = self.processor.nbest_encode(self.text_of(words), nbest_size=sampling.nbest_size)  # ids, best first
        log_probs = [sum(self.piece_log_probs[i] for i in ids) for ids in best]
        weights = [math.exp(sampling.alpha * (log_prob - log_probs[0])) for log_prob in log_probs]
        (drawn,) = generator.choices(best, weights)
        return [self.processor.id_to_piece(i) for i in drawn]

    def pieces(self) -> list[str]:
        """Every piece that a segmentation may hold, <unk> aside."""
        return [
            self.processor.id_to_piece(i)
            for i in range(self.processor.get_piece_size())
            if not self.processor.is_unknown(i)
        ]

    def join(self, pieces: list[str]) -> list[str]:
        return split_tokens(self.processor.decode_pieces(pieces))


Subwords = WordLevel | SentencePieceModel


SENTENCEPIECE_THREADS = 4  # 1.2× faster than one on this 2-core machine (small_parallel_enja × 4)


def train_subwords(sentences: list[str], cfg: SubwordConfig) -> bytes:
    """A serialized SentencePiece model of ``sentences`` (as SentencePieceModel.split reads them)."""
    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=model,
            model_type=cfg.model,
            vocab_size=cfg.vocab_size,
            character_coverage=cfg.character_coverage,
            # honyaku's vocabulary owns <pad> <s> </s>; SentencePiece keeps only its unknown piece.
            unk_piece="<unk>",
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            normalization_rule_name="identity",  # keep the corpus forms (NFKC would turn ５ into 5)
            hard_vocab_limit=False,  # vocab_size is an upper bound: small data may not fill it
            # A fixed count, not the machine's: SentencePiece's result depends on how many threads share the work
            # (each count gives its own, always the same), so every machine learns the same model.
            num_threads=SENTENCEPIECE_THREADS,
            minloglevel=2,
        )
    except RuntimeError as error:
        raise HonyakuError(f"data.subwords: SentencePiece training failed: {error}") from None
    return model.getvalue()


def learn_subwords(data: DataConfig, paths: tuple[Path, Path], samples: list[list[str]]) -> tuple[bytes, bytes]:
    """The source and target SentencePiece models, learned from ``samples`` (texts as ``text_readers`` makes
    them: one list for a joint model, else the source's and the target's) and written to ``paths``."""
    models = [train_subwords(texts, data.subwords) for texts in samples]
    src_model, tgt_model = (models[0], models[0]) if data.subwords.joint else models
    for model, path in zip((src_model, tgt_model), paths):
        path.write_bytes(model)
    return src_model, tgt_model


def text_readers(data: DataConfig) -> tuple[Callable[[list[str]], str], Callable[[list[str]], str]]:
    """How the source and target subword models turn words into the text they read."""
    if data.subwords is not None and data.subwords.source_as_text:
        return get_processor(processor_names(data)[0]).detokenize, join_tokens
    return join_tokens, join_tokens


def load_subwords(data: DataConfig, paths: tuple[Path, Path]) -> tuple[Subwords, Subwords]:
    if data.subwords is None:
        return WordLevel(), WordLevel()
    models = []
    for path, text_of in zip(paths, text_readers(data)):
        if not path.is_file():
            raise HonyakuError(f"{path}: subword model not found (the config asks for data.subwords)")
        models.append(SentencePieceModel(path.read_bytes(), str(path), text_of))
    return models[0], models[1]
