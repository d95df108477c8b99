"""Pretrained models: the ones shipped inside the package, found by direction. They live in
``honyaku/pretrained/<src>-<tgt>/``; ``$HONYAKU_PRETRAINED_DIR`` names another directory of that layout.
``honyaku bundle`` (honyaku.bundle) makes one from a run.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from honyaku.core.errors import HonyakuError
from honyaku.modeldir import WEIGHTS_FILE

DEFAULT_DIRECTION = ("en", "ja")
# Hiragana, katakana and CJK ideographs: text with any of them is read as Japanese.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


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
    """ja→en when the texts are mostly Japanese (kana or kanji), else en→ja."""
    japanese = sum(bool(JAPANESE.search(text)) for text in texts)
    return ("ja", "en") if japanese * 2 > len(texts) else ("en", "ja")
