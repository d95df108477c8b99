"""Translating text in whichever language it comes: each text goes to the model that reads its language
(``honyaku.inference.pretrained.route``), the models loaded when first needed; a text that no model here reads is
left as it is, with a warning, never translated into nonsense. The command line and the server translate through it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from honyaku.data.text import clean
from honyaku.inference.pretrained import Routing, route
from honyaku.inference.translation import Translation, TranslatorBase


@dataclass
class RoutedTranslation:
    """A text's translations (n-best, best first) and how it was routed."""

    translations: list[Translation]
    routing: Routing

    @property
    def translated(self) -> bool:
        return self.routing.direction is not None


class LanguageRouter:
    """Translators by direction: the one the user chose (``pinned``: then nothing else is loaded), or one per
    direction of ``directions``, each made by ``load`` when a text first needs it."""

    def __init__(
        self,
        load: Callable[[tuple[str, str]], TranslatorBase] | None,
        directions: list[tuple[str, str]],
        pinned: TranslatorBase | None = None,
    ):
        self.load = load
        self.loaded: dict[tuple[str, str], TranslatorBase] = {}
        self.pinned = pinned.direction if pinned is not None else None
        if pinned is not None:
            self.loaded[pinned.direction] = pinned
        self.directions = [self.pinned] if pinned is not None else directions

    def translator(self, direction: tuple[str, str]) -> TranslatorBase:
        if direction not in self.loaded:
            self.loaded[direction] = self.load(direction)
        return self.loaded[direction]

    def translate(self, texts: list[str], n_best: int = 1, first: int = 1, **options) -> list[RoutedTranslation]:
        """Each text's translations, in order, and its routing; ``options`` are ``translate_n_best``'s, and the
        texts are numbered from ``first`` in errors. A text no model reads comes back as it is, cleaned
        (``honyaku.data.text.clean``: a lone surrogate, say, cannot be written out)."""
        routings = [route(text, self.directions, self.pinned) for text in texts]
        found: list[list[Translation] | None] = [None] * len(texts)
        for direction in dict.fromkeys(routing.direction for routing in routings if routing.direction):
            chosen = [i for i, routing in enumerate(routings) if routing.direction == direction]
            numbers = [first + i for i in chosen]
            translated = self.translator(direction).translate_n_best(
                [texts[i] for i in chosen], n_best, numbers=numbers, **options
            )
            for i, translations in zip(chosen, translated):
                found[i] = translations
        return [
            RoutedTranslation(translations or [Translation(clean(text), 0.0)], routing)
            for text, translations, routing in zip(texts, found, routings)
        ]
