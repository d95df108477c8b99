"""honyaku (翻訳): train, evaluate and serve sequence-to-sequence neural machine translation models."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from honyaku.core import openmp  # noqa: F401  (before anything can import PyTorch)
from honyaku.core.errors import HonyakuError

if TYPE_CHECKING:
    from honyaku.inference.pretrained import pretrained_model
    from honyaku.inference.translator import TranslationPipeline, Translator, pipeline

__version__ = "0.1.0"
__all__ = ["HonyakuError", "TranslationPipeline", "Translator", "pipeline", "pretrained_model", "__version__"]


def __getattr__(name: str):
    """``Translator``, ``TranslationPipeline`` and ``pipeline`` (honyaku.inference.translator) and
    ``pretrained_model`` (honyaku.inference.pretrained), imported when first asked for: ``import honyaku`` (and
    the command line, which needs its version) stays light."""
    if name in ("Translator", "TranslationPipeline", "pipeline"):
        return getattr(importlib.import_module("honyaku.inference.translator"), name)
    if name == "pretrained_model":
        return importlib.import_module("honyaku.inference.pretrained").pretrained_model
    raise AttributeError(f"module 'honyaku' has no attribute {name!r}")
