"""What every translator offers, whatever computes it (honyaku's own models, transformers models): n-best
translations of raw text in a direction, and from them the best one."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from honyaku.core.config import DecodingConfig
from honyaku.core.data_config import DataConfig
from honyaku.core.errors import HonyakuError
from honyaku.data.sentences import join_sentences, parts_within, split_sentences
from honyaku.inference.engine import beam_size_for

# Sentences translated together when streaming: enough to sort into batches of similar length, few enough that
# memory stays flat and output comes soon.
STREAM_CHUNK = 2000


@dataclass
class Translation:
    text: str
    score: float  # log-probability divided by the length penalty (see honyaku.inference.search)


class TranslatorBase(ABC):
    """What every translator offers: n-best translations, and from them the best one, in a direction."""

    name: str
    direction: tuple[str, str]  # source and target language codes
    decoding: DecodingConfig  # its search settings by default (beam size, batch size, length penalty)
    data: DataConfig  # where its dev and test sets are (honyaku evaluate)
    engine_choice: str  # which engine searches, and why ("CTranslate2: a Transformer that converts")

    def tagged(self, tag: str | None) -> TranslatorBase:
        """This translator with every source led by ``tag``, a corpus tag of its training data (``data.train``),
        as that corpus's pairs were in training; None: untagged, as translation input is."""
        if tag is not None:
            raise HonyakuError(f"{self.name}: reads no corpus tags (asked for {tag})")
        return self

    def translate(
        self,
        sentences: list[str] | str,
        beam_size: int | None = None,
        pretokenized: bool = False,
        split_sentences: bool = True,
    ) -> list[str]:
        """Translations in input order; an empty or blank text translates to an empty string.

        Texts are raw text, tokenized by the model's source processor, and translations come back as natural
        text; with ``pretokenized`` both are the corpus's space-separated tokens, one sentence each. A text of
        several sentences or lines is translated a sentence at a time and joined again (honyaku.data.sentences)
        unless ``split_sentences`` is False.
        """
        found = self.translate_n_best(sentences, 1, beam_size, pretokenized, split_sentences)
        return [best.text for (best,) in found]

    def translate_n_best(
        self,
        sentences: list[str] | str,
        n_best: int,
        beam_size: int | None = None,
        pretokenized: bool = False,
        split_sentences: bool = True,
        numbers: Sequence[int] | None = None,
    ) -> list[list[Translation]]:
        """The ``n_best`` translations of each text, best first. ``beam_size`` defaults to the model's
        (``decoding.beam_size``) and must be at least ``n_best``. For a text of several sentences, the k-th
        translation joins each sentence's k-th (or last) one, its score their sum. Errors name a text by its
        number in ``numbers`` (default: 1, 2, …), a file's line number, say."""
        sentences = [sentences] if isinstance(sentences, str) else sentences
        numbers = range(1, len(sentences) + 1) if numbers is None else numbers
        return self._checked(sentences, n_best, beam_size, pretokenized, split_sentences, numbers)

    def translate_stream(
        self,
        sentences: Iterable[str],
        n_best: int = 1,
        beam_size: int | None = None,
        pretokenized: bool = False,
        chunk_size: int = STREAM_CHUNK,
        split_sentences: bool = True,
    ) -> Iterator[list[Translation]]:
        """The ``n_best`` translations of each text of a stream (a file's lines, stdin), in order, read and
        translated ``chunk_size`` texts at a time: memory stays flat however long the stream is."""
        sentences = iter(sentences)
        first = 1
        while chunk := list(itertools.islice(sentences, chunk_size)):
            numbers = range(first, first + len(chunk))
            yield from self._checked(chunk, n_best, beam_size, pretokenized, split_sentences, numbers)
            first += len(chunk)

    def translate_stream_tagged(
        self, sentences: list[str], tags: list[str | None] | None, **options: Any
    ) -> Iterator[list[Translation]]:
        """``translate_stream`` of ``sentences``, each led by its tag in ``tags`` (None: none), a run of one
        tag at a time: the splits of several corpora, each translated as its corpus was trained."""
        for tag, run in itertools.groupby(zip(tags or [None] * len(sentences), sentences), key=lambda pair: pair[0]):
            yield from self.tagged(tag).translate_stream((sentence for _, sentence in run), **options)

    def _checked(
        self,
        texts: list[str],
        n_best: int,
        beam_size: int | None,
        pretokenized: bool,
        split: bool,
        numbers: Sequence[int],
    ) -> list[list[Translation]]:
        """``texts`` (numbered by ``numbers`` in errors) translated, a sentence at a time where ``split`` and a text
        holds several; a sentence longer than ``decoding.max_input_chars`` in parts, or refused (before any work)
        where ``decoding.long_sentences`` says so or the texts are not split."""
        beam_size = beam_size_for(n_best, beam_size, self.decoding)
        limit, source, target = self.decoding.max_input_chars, *self.direction
        if not split or pretokenized:
            check_input_lengths(texts, limit, numbers)
            return self._translate(texts, n_best, beam_size, pretokenized)
        split_texts = [split_sentences(text, source) for text in texts]
        if self.decoding.long_sentences == "refuse":
            for number, lines in zip(numbers, split_texts):
                sentences = [s for line in lines for s in line]
                check_input_lengths(sentences, limit, range(1, len(sentences) + 1), f"text {number:,}: ")
        split_texts = [
            [[p for s in line for p in parts_within(s, limit, source)] for line in lines] for lines in split_texts
        ]
        if all(len(lines) <= 1 and all(len(line) <= 1 for line in lines) for lines in split_texts):  # as given
            return self._translate(texts, n_best, beam_size, pretokenized)
        found = iter(
            self._translate([s for lines in split_texts for line in lines for s in line], n_best, beam_size, False)
        )
        return [joined_n_best([[next(found) for _ in line] for line in lines], n_best, target) for lines in split_texts]

    @abstractmethod
    def _translate(
        self, sentences: list[str], n_best: int, beam_size: int, pretokenized: bool
    ) -> list[list[Translation]]:
        """The ``n_best`` translations of each sentence, best first; lengths and beam size are checked."""


def joined_n_best(lines: list[list[list[Translation]]], n_best: int, language: str) -> list[Translation]:
    """The n-best translations of a text from those of its sentences (``lines``: each line's sentences' n-best
    lists): the k-th joins each sentence's k-th, or its last where it has fewer."""
    candidates = [found for line in lines for found in line]
    count = min(n_best, max((len(found) for found in candidates), default=1))
    return [
        Translation(
            join_sentences([[found[min(k, len(found) - 1)].text for found in line] for line in lines], language),
            sum(found[min(k, len(found) - 1)].score for found in candidates),
        )
        for k in range(count)
    ]


def check_input_lengths(sentences: list[str], limit: int, numbers: Sequence[int], where: str = "") -> None:
    """Refuse a sentence longer than ``limit`` characters, naming it by its number in ``numbers`` after ``where``."""
    for number, sentence in zip(numbers, sentences):
        if len(sentence) > limit:
            raise HonyakuError(
                f"{where}sentence {number:,} has {len(sentence):,} characters; "
                f"the limit is {limit:,} (decoding.max_input_chars)"
            )
