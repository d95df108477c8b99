"""``honyaku translate`` on a terminal (a pseudo-terminal here): a prompt and a translation as each line is typed,
and a progress bar that moves a chunk of lines at a time, with what the command says written above it."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

TERMINAL_SIZE = struct.pack("HHHH", 30, 100, 0, 0)  # rows, columns: tqdm draws nothing on a terminal 0 wide


class Terminal:
    """A command run with its stdin, stdout and stderr on one pseudo-terminal, as typed in a shell."""

    def __init__(self, *arguments: str):
        self.controller, terminal = os.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, TERMINAL_SIZE)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "honyaku", *arguments], stdin=terminal, stdout=terminal, stderr=terminal
        )
        os.close(terminal)
        self.seen = ""

    def type(self, text: str) -> None:
        os.write(self.controller, text.encode())

    def wait_for(self, pattern: str, timeout: float = 120) -> str:
        """What the terminal showed until ``pattern`` (a regular expression) appeared."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.seen):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{pattern!r} did not appear; the terminal showed:\n{self.seen}"
            if select.select([self.controller], [], [], remaining)[0]:
                try:
                    self.seen += os.read(self.controller, 65536).decode(errors="replace")
                except OSError:  # the command ended and closed the terminal
                    assert re.search(pattern, self.seen), f"{pattern!r} never appeared:\n{self.seen}"
        return self.seen

    def finish(self, timeout: float = 120) -> int:
        """The command's exit status, once it has ended; everything it showed is in ``seen``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([self.controller], [], [], 0.2)[0]:
                try:
                    self.seen += os.read(self.controller, 65536).decode(errors="replace")
                    continue
                except OSError:  # ended: the terminal is closed
                    break
            if self.process.poll() is not None:
                break
        code = self.process.wait(timeout=10)
        os.close(self.controller)
        return code


def test_on_a_terminal_each_typed_line_is_translated_at_once_after_a_prompt():
    terminal = Terminal("translate")
    try:
        terminal.wait_for(r"type a sentence, Ctrl-D to quit\r?\n> ")
        terminal.type("I am Tom.\n")
        terminal.wait_for(r"私はトムです。\r?\n> ")  # before the input ends, a line at a time, and a prompt again
        terminal.type("トイレはどこですか？\n")
        terminal.wait_for(r"[Tt]oilet.*\r?\n> ")  # each line from its own language
        terminal.type("\x04")  # Ctrl-D
        assert terminal.finish() == 0
    finally:
        terminal.process.kill()


def test_the_progress_bar_moves_a_chunk_at_a_time_with_the_announcement_above_it(corpus_dir, tmp_path):
    lines = 300
    source = (corpus_dir / "test.en").read_text(encoding="utf-8").splitlines()[:lines]
    (tmp_path / "in.en").write_text("".join(f"{line}\n" for line in source), encoding="utf-8")
    terminal = Terminal("translate", "-f", str(tmp_path / "in.en"), "-o", str(tmp_path / "out.ja"))
    try:
        assert terminal.finish() == 0
    finally:
        terminal.process.kill()
    shown = [line.strip() for line in re.split(r"[\r\n]+", terminal.seen) if line.strip()]
    counts = [int(found[1]) for line in shown if (found := re.search(rf"\| *(\d+)/{lines} \[", line))]
    assert counts[0] == 0 and counts[-1] == lines and {128, 256} <= set(counts)  # LINES_PER_CHUNK at a time
    assert "honyaku: en→ja, searching with CTranslate2: a Transformer that converts" in shown  # a line of its own
    assert len((tmp_path / "out.ja").read_text(encoding="utf-8").splitlines()) == lines
