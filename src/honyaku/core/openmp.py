"""CTranslate2 loaded before PyTorch. Each brings its own OpenMP runtime (libgomp), and PyTorch loads its own for
the whole process: a CTranslate2 loaded after it runs on PyTorch's, and once PyTorch has computed, CTranslate2's
searches wait on that runtime's threads (the bundled en→ja model: 110 against 25 ms a sentence in a process that
also ran the PyTorch ja→en model, as `honyaku serve` does). Loaded first, CTranslate2 keeps its own runtime.
``import honyaku`` imports this module first."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import sys

CTRANSLATE2_AFTER_TORCH = "torch" in sys.modules and "ctranslate2" not in sys.modules
if not CTRANSLATE2_AFTER_TORCH and importlib.util.find_spec("ctranslate2") is not None:
    with contextlib.suppress(ImportError, OSError):  # a broken install is reported where CTranslate2 is used
        import ctranslate2  # noqa: F401


@functools.cache
def warn_if_shared() -> None:
    """Say, once, where PyTorch came first: CTranslate2 then shares its runtime."""
    if CTRANSLATE2_AFTER_TORCH:
        logging.getLogger("honyaku").warning(
            "PyTorch was imported before honyaku, so CTranslate2 runs on PyTorch's OpenMP runtime and searches up "
            "to 4× slower once PyTorch has computed: import honyaku before torch"
        )
