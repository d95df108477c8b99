"""Atomic writes: a file or directory appears under its name complete, or not at all.

``tempfile`` creates its files readable by their owner alone (0600, directories 0700); what is renamed into place
gets the permissions that an ordinary ``open`` would have given it under the process's umask, so that a run, a
model or a corpus shared with other users stays readable by them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


UMASK = _read_umask()  # read once at import, before any thread could create a file in between


def give_default_permissions(path: Path) -> None:
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it is fsynced and renamed onto ``path``.
    An exception inside the block leaves ``path`` as it was."""
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        with temp.open("rb") as written:
            os.fsync(written.fileno())
        give_default_permissions(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as temp:
        temp.write_bytes(data)


def staging_directory(final: Path) -> Path:
    """An empty directory beside ``final`` to assemble it in, before one rename puts it in place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    give_default_permissions(staging)
    return staging


@contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """A staging directory to assemble ``final`` in; on success it replaces ``final`` (complete or not at all).
    An exception inside the block leaves ``final`` as it was."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_directory(final)
    try:
        yield staging
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


PARTIAL_SUFFIX = ".partial"


class LineOutput:
    """A file written line by line as ``NAME.partial``, in the open and flushed after each ``write``, and renamed to
    ``NAME`` once complete: an interrupted run leaves its finished lines there, a resumed one continues after them,
    and ``NAME`` appears complete or not at all."""

    def __init__(self, path: Path, resume: bool = False):
        self.path = path
        self.partial = path.with_name(path.name + PARTIAL_SUFFIX)
        self.done = self._finished_lines() if resume else 0
        self.file = self.partial.open("a" if resume else "w", encoding="utf-8")

    def _finished_lines(self) -> int:
        """The lines of the partial file that end with a line break; a line cut short is dropped."""
        if not self.partial.is_file():
            return 0
        data = self.partial.read_bytes()
        finished = data[: data.rfind(b"\n") + 1]
        if len(finished) < len(data):
            with self.partial.open("r+b") as file:
                file.truncate(len(finished))
        return finished.count(b"\n")

    def write(self, lines: list[str]) -> None:
        """``lines`` in one write (a signal comes between writes, never inside one), then flushed to the disk."""
        self.file.write("".join(f"{line}\n" for line in lines))
        self.file.flush()
        os.fsync(self.file.fileno())
        self.done += len(lines)

    def finish(self) -> None:
        self.file.close()
        give_default_permissions(self.partial)
        os.replace(self.partial, self.path)

    def close(self) -> None:
        """Stop without finishing: the partial file stays, for a resumed run, where it holds a line."""
        self.file.close()
        if not self.done:
            self.partial.unlink(missing_ok=True)
