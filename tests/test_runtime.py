"""Thread settings: physical cores by default, HONYAKU_THREADS or OMP_NUM_THREADS when set."""

import os

import pytest
import torch

from honyaku.core.errors import HonyakuError
from honyaku.core.runtime import configure_threads
from honyaku.core.workers import physical_cores


@pytest.fixture(autouse=True)
def restore_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.delenv("HONYAKU_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    yield
    torch.set_num_threads(before)


def test_physical_cores_by_default():
    assert 1 <= physical_cores() <= os.cpu_count()
    assert configure_threads() == physical_cores() == torch.get_num_threads()


@pytest.mark.parametrize("variable", ["HONYAKU_THREADS", "OMP_NUM_THREADS"])
def test_the_environment_overrides(monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    assert configure_threads() == 1 == torch.get_num_threads()


def test_honyaku_threads_wins_and_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("HONYAKU_THREADS", "2")
    assert configure_threads() == 2
    monkeypatch.setenv("HONYAKU_THREADS", "two")
    with pytest.raises(HonyakuError, match=r"\$HONYAKU_THREADS must be a whole number ≥ 1, got 'two'"):
        configure_threads()
