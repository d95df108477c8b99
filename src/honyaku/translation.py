"""What every translator offers, whatever computes it (honyaku's own models, transformers models): n-best
translations of raw text in a direction, and from them the best one."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from honyaku.core.config import DataConfig, DecodingConfig
from honyaku.core.errors import HonyakuError
from honyaku.search import beam_size_for

# Sentences translated together when streaming: enough to sort into batches of similar length, few enough that
# memory stays flat and output comes soon.
STREAM_CHUNK = 2000


@dataclass
class Translation:
    text: str
    score: float  # log-probability divided by the length penalty (see honyaku.search)


class TranslatorBase(ABC):
    """What every translator offers: n-best translations, and from them the best one, in a direction."""

    name: str
    direction: tuple[str, str]  # source and target language codes
    decoding: DecodingConfig  # its search settings by default (beam size, batch size, length penalty)
    data: DataConfig  # where its dev and test sets are (honyaku evaluate)

    def translate(
        self, sentences: list[str] | str, beam_size: int | None = None, pretokenized: bool = False
    ) -> list[str]:
        """Translations in input order; an empty or blank sentence translates to an empty string.

        Sentences are raw text, tokenized by the model's source processor, and translations come back as
        natural text; with ``pretokenized`` both are the corpus's space-separated tokens.
        """
        found = self.translate_n_best(sentences, n_best=1, beam_size=beam_size, pretokenized=pretokenized)
        return [best.text for (best,) in found]

    def translate_n_best(
        self, sentences: list[str] | str, n_best: int, beam_size: int | None = None, pretokenized: bool = False
    ) -> list[list[Translation]]:
        """The ``n_best`` translations of each sentence, best first. ``beam_size`` defaults to the model's
        (``decoding.beam_size``) and must be at least ``n_best``."""
        sentences = [sentences] if isinstance(sentences, str) else sentences
        return self._checked(sentences, n_best, beam_size, pretokenized, first=1)

    def translate_stream(
        self,
        sentences: Iterable[str],
        n_best: int = 1,
        beam_size: int | None = None,
        pretokenized: bool = False,
        chunk_size: int = STREAM_CHUNK,
    ) -> Iterator[list[Translation]]:
        """The ``n_best`` translations of each sentence of a stream (a file's lines, stdin), in order, read and
        translated ``chunk_size`` sentences at a time: memory stays flat however long the stream is."""
        sentences = iter(sentences)
        first = 1
        while chunk := list(itertools.islice(sentences, chunk_size)):
            yield from self._checked(chunk, n_best, beam_size, pretokenized, first)
            first += len(chunk)

    def _checked(
        self, sentences: list[str], n_best: int, beam_size: int | None, pretokenized: bool, first: int
    ) -> list[list[Translation]]:
        """``sentences`` (numbered from ``first`` in errors) checked for length, then translated."""
        check_input_lengths(sentences, self.decoding.max_input_chars, first)
        return self._translate(sentences, n_best, beam_size_for(n_best, beam_size, self.decoding), pretokenized)

    @abstractmethod
    def _translate(
        self, sentences: list[str], n_best: int, beam_size: int, pretokenized: bool
    ) -> list[list[Translation]]:
        """The ``n_best`` translations of each sentence, best first; lengths and beam size are checked."""


def check_input_lengths(sentences: list[str], limit: int, first: int = 1) -> None:
    """Refuse a sentence longer than ``limit`` characters, naming it by its number (the first is ``first``)."""
    for number, sentence in enumerate(sentences, start=first):
        if len(sentence) > limit:
            raise HonyakuError(
                f"sentence {number:,} has {len(sentence):,} characters; "
                f"the limit is {limit:,} (decoding.max_input_chars)"
            )
