"""Pretrained models: the ones shipped inside the package, found by direction. They live in
``honyaku/pretrained/<src>-<tgt>/``; ``$HONYAKU_PRETRAINED_DIR`` names another directory of that layout.
``honyaku bundle`` (honyaku.tools.bundle) makes one from a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from honyaku.core.errors import HonyakuError
from honyaku.data.language import IDENTIFIED, Language, identify
from honyaku.modeldir import WEIGHTS_FILE

DEFAULT_DIRECTION = ("en", "ja")


def pretrained_root() -> Path:
    return Path(os.environ.get("HONYAKU_PRETRAINED_DIR") or str(resources.files("honyaku") / "pretrained"))


def pretrained_model(direction: tuple[str, str] = DEFAULT_DIRECTION) -> Path:
    """The bundled model directory for ``direction``."""
    root = pretrained_root()
    path = root / "-".join(direction)
    if not (path / WEIGHTS_FILE).is_file():
        bundled = sorted(p.name for p in root.iterdir() if (p / WEIGHTS_FILE).is_file()) if root.is_dir() else []
        raise HonyakuError(
            f"no pretrained {'→'.join(direction)} model in {root} (there: {', '.join(bundled) or 'none'}); "
            "give a model directory (-m RUN, or model=RUN)"
        )
    return path


def pretrained_models() -> list[Path]:
    """Every bundled model directory."""
    root = pretrained_root()
    found = sorted(path for path in root.iterdir() if (path / WEIGHTS_FILE).is_file()) if root.is_dir() else []
    if not found:
        raise HonyakuError(f"no pretrained models in {root}; give model directories (-m RUN)")
    return found


def detect_direction(texts: list[str]) -> tuple[str, str]:
    """ja→en when more of the texts read as Japanese than as English (``honyaku.data.language``), else en→ja."""
    languages = [language.code for text in texts if (language := identify(text)) is not None]
    return ("ja", "en") if languages.count("ja") > languages.count("en") else ("en", "ja")


@dataclass(frozen=True)
class Routing:
    """Which model translates a text: the direction (None: no model here reads it, and it is left as it is), the
    language it reads as (None: it has no letters), and what to tell the user where it is not as asked."""

    direction: tuple[str, str] | None
    language: Language | None
    warning: str | None = None


def route(text: str, directions: list[tuple[str, str]], pinned: tuple[str, str] | None = None) -> Routing:
    """The model of ``directions`` that reads the language of ``text``; with ``pinned`` (a model, or a source
    language, the user chose), that one, with a warning where the text reads as another language. A text with
    something to read but no letters (numbers, emoji, symbols) is no language's: it is left as it is, since models
    trained on sentences make words up for it ("123" → 「１年に１１年になります。」)."""
    language = identify(text)
    if language is None and text.strip():
        return Routing(None, None)
    if pinned is not None:
        if language is None or language.code == pinned[0] or pinned[0] not in IDENTIFIED:
            return Routing(pinned, language)  # (a model of a language that identify never names: no judgement)
        warning = f"reads as {language.name}, but the model translates {'→'.join(pinned)}: translated anyway"
        return Routing(pinned, language, warning)
    if language is None:  # blank: translated to blank by any model
        return Routing(DEFAULT_DIRECTION if DEFAULT_DIRECTION in directions else directions[0], None)
    found = next((direction for direction in directions if direction[0] == language.code), None)
    if found is None:
        return Routing(None, language, f"reads as {language.name}, which no model here translates: left as it is")
    return Routing(found, language)
