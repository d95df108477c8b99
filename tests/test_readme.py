"""Every example of the README, read out of it and run as a user would on a fresh clone: its commands (a training
run at a test's size), its Python and its config fragments. What cannot run here is listed, with the reason and
the test that covers it, so that a new example is run, or listed, but never left out unnoticed."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from honyaku.core.config_files import config_from_dict

from .conftest import REPO, free_port, wait_until_up
from .test_cli import SLICE

README = REPO / "README.md"
NOT_RUN_HERE = {  # the start of a command → why a test cannot run it, and where it is covered
    "pip install": "installs: tests/test_install.py installs the wheel light into a fresh virtualenv",
    "make ": "sets up .venv and runs the suite or the demo: CI runs make test; make demo is the README's set-up",
    "torchrun ": "several machines: tests/test_distributed.py trains two processes on one",
    "honyaku evaluate -m hf:": "downloads a model (tests never do): tests/test_hub.py loads a local transformers model",
}
PYTHON_NOT_RUN_HERE = {
    'model="DIR"': "needs an export: tests/test_pretrained.py runs this code on the bundled model's export",
}


def fenced_blocks(text: str) -> list[tuple[int, str]]:
    """Each fenced code block of the README with the number of its first line."""
    blocks, lines, start = [], text.splitlines(), None
    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            if start is None:
                start = number + 1
            else:
                blocks.append((start, "\n".join(lines[start - 1 : number - 1])))
                start = None
    return blocks


def kind(block: str) -> str:
    if re.search(r"^(from|import) \w", block, re.M):
        return "python"
    if re.match(r"\s*(data|train):", block) or block.lstrip().startswith("train:"):
        return "yaml"
    return "shell"


def commands(block: str) -> list[str]:
    """The commands of a shell block, comments and continuation lines joined."""
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


BLOCKS = fenced_blocks(README.read_text(encoding="utf-8"))
SHELL = [(line, command) for line, block in BLOCKS if kind(block) == "shell" for command in commands(block)]


def test_every_block_of_the_readme_is_one_these_tests_know():
    assert {kind(block) for _, block in BLOCKS} == {"shell", "python", "yaml"}
    for line, command in SHELL:
        program = command.removeprefix(".venv/bin/")
        assert program.startswith("honyaku ") or any(program.startswith(start) for start in NOT_RUN_HERE), (
            f"README.md line {line}: {command!r} is neither run by tests/test_readme.py nor listed in NOT_RUN_HERE"
        )


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A directory laid out as a fresh clone is for the README's relative paths: configs/ and nothing else."""
    directory = tmp_path_factory.mktemp("clone")
    (directory / "configs").symlink_to(REPO / "configs")
    (directory / "paper.txt").write_text("I am Tom.\nHe is a good teacher.\nWhere is the station?\n", encoding="utf-8")
    return directory


def run_command(command: str, clone: Path) -> subprocess.CompletedProcess:
    """A README command, as ``python -m honyaku``; training at a test's size (SLICE)."""
    arguments = shlex.split(command.removeprefix(".venv/bin/"))[1:]
    if arguments[0] == "train":
        arguments += [*SLICE, "--overwrite"]
    return subprocess.run(
        [sys.executable, "-m", "honyaku", *arguments],
        cwd=clone,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_every_command_of_the_readme_runs_on_a_fresh_clone(clone):
    ran = []
    for line, command in SHELL:
        program = command.removeprefix(".venv/bin/")
        if any(program.startswith(start) for start in NOT_RUN_HERE):
            continue
        if program == "honyaku serve":
            serve_briefly(clone)
        else:
            done = run_command(command, clone)
            assert done.returncode == 0, f"README.md line {line}: {command}\n{done.stderr[-2000:]}"
        ran.append(program.split()[1])
    assert {"translate", "serve", "data", "train", "evaluate"} <= set(ran)
    assert (clone / "paper.ja.txt").read_text(encoding="utf-8").count("\n") == 3


def serve_briefly(clone: Path) -> None:
    """``honyaku serve`` as the README runs it, on a free port: up, the page, then stopped."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "honyaku", "serve", "--port", str(port)],
        cwd=clone,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        assert "<html" in urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(("line", "block"), [(line, b) for line, b in BLOCKS if kind(b) == "python"])
def test_every_python_example_of_the_readme_runs(line, block, clone):
    if reason := next((why for marker, why in PYTHON_NOT_RUN_HERE.items() if marker in block), None):
        pytest.skip(f"README.md line {line}: {reason}")
    done = subprocess.run([sys.executable, "-c", block], cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0, f"README.md line {line}:\n{done.stderr[-2000:]}"


@pytest.mark.parametrize(("line", "block"), [(line, b) for line, b in BLOCKS if kind(b) == "yaml"])
def test_every_config_fragment_of_the_readme_is_a_valid_config(line, block):
    fragment = yaml.safe_load(block)
    data = fragment.get("data", fragment)  # a fragment of data: beside the defaults (small_parallel_enja, en→ja)
    config_from_dict({"data": data}, source=f"README.md line {line}")
