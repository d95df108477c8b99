"""What every translator offers, whatever computes it (honyaku's own models, transformers models): n-best
translations of raw text in a direction, and from them the best one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from honyaku.core.config import DataConfig, DecodingConfig


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

    @abstractmethod
    def translate_n_best(
        self, sentences: list[str] | str, n_best: int, beam_size: int | None = None, pretokenized: bool = False
    ) -> list[list[Translation]]:
        """The ``n_best`` translations of each sentence, best first."""
