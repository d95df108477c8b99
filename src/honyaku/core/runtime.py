"""Where PyTorch runs: the device a name stands for, the precision it computes in there, and how many CPU
threads it uses (``honyaku.core.workers.thread_count``)."""

from __future__ import annotations

import torch

from honyaku.core.errors import HonyakuError
from honyaku.core.workers import thread_count


def configure_threads() -> int:
    """Set PyTorch's intra-op threads to ``thread_count()``; returns the number."""
    threads = thread_count()
    torch.set_num_threads(threads)
    return threads


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise HonyakuError(f"unknown device {name!r}: cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise HonyakuError(f"device {name!r} requested but CUDA is not available")
    return device


PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def named_dtype(name: str) -> torch.dtype:
    """The dtype of PRECISIONS that ``name`` stands for (a translator's ``dtype``); an unknown name is refused."""
    if name not in PRECISIONS:
        raise HonyakuError(f"unknown dtype {name!r}: {', '.join(PRECISIONS)}")
    return PRECISIONS[name]


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """The dtype that ``name`` (``auto`` or a key of PRECISIONS) computes in on ``device``. ``auto``: bfloat16 on
    a CUDA device with bfloat16 arithmetic (Ampere and later), float16 on an older one, float32 on the CPU, so
    that CPU runs stay as they were."""
    if name == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16
    if name not in PRECISIONS:
        raise HonyakuError(f"unknown precision {name!r}: auto, {', '.join(PRECISIONS)}")
    return PRECISIONS[name]
