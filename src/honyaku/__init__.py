"""honyaku (翻訳): train, evaluate and serve sequence-to-sequence neural machine translation models."""

from honyaku.core.errors import HonyakuError
from honyaku.prediction import TranslationPipeline, Translator, pipeline

__version__ = "0.1.0"
__all__ = ["HonyakuError", "TranslationPipeline", "Translator", "pipeline", "__version__"]
