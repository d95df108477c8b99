"""The tutorial's notebooks (docs/tutorial/ja and en) run from a clean state, every cell, at the reduced size that
HONYAKU_TUTORIAL_QUICK sets, and are stored with their outputs, so that they read on GitHub as they ran."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "docs" / "tutorial").glob("*/*.ipynb"))


def test_both_languages_have_the_same_chapters():
    chapters = {
        language: sorted(path.name for path in NOTEBOOKS if path.parent.name == language) for language in ("ja", "en")
    }
    assert chapters["ja"] == chapters["en"] and chapters["ja"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_notebook_is_stored_with_its_outputs_and_runs_from_a_clean_state(path, corpus_dir, monkeypatch):
    stored = nbformat.read(path, as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert all(cell.get("outputs") is not None and cell.execution_count for cell in code), "run it and keep outputs"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    monkeypatch.setenv("HONYAKU_TUTORIAL_QUICK", "1")
    monkeypatch.setenv("HONYAKU_DATA_DIR", os.environ.get("HONYAKU_DATA_DIR") or str(corpus_dir))
    fresh = nbformat.read(path, as_version=4)
    client = NotebookClient(
        fresh, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # a cell that fails raises CellExecutionError, with its traceback
