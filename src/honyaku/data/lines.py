"""Text files read line by line, strictly: UTF-8, and every error named by its file and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from honyaku.core.errors import HonyakuError


def _open_bytes(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise HonyakuError(f"{path}: file not found") from None
    except OSError as error:
        raise HonyakuError(f"{path}: cannot read: {error.strerror or error}") from None


def iter_lines(path: str | Path) -> Iterator[str]:
    """The lines of a UTF-8 text file, one at a time, without line endings; errors name the file and line."""
    path = Path(path)
    with _open_bytes(path) as file:
        for number, raw in enumerate(file, start=1):
            try:
                yield raw.rstrip(b"\n").decode("utf-8").rstrip("\r")
            except UnicodeDecodeError as error:
                raise HonyakuError(f"{path}:{number}: invalid UTF-8 at byte {error.start}") from None


def count_lines(path: str | Path) -> int:
    """How many lines ``iter_lines`` gives, counted without decoding (a progress bar's total)."""
    lines, last = 0, b"\n"
    with _open_bytes(Path(path)) as file:
        while block := file.read(1 << 20):
            lines, last = lines + block.count(b"\n"), block[-1:]
    return lines + (last != b"\n")


def read_lines(path: str | Path) -> list[str]:
    """All lines of a UTF-8 text file, without line endings; errors name the file and line."""
    lines = list(iter_lines(path))
    if not any(line.strip() for line in lines):
        raise HonyakuError(f"{path}: file is empty")
    return lines
