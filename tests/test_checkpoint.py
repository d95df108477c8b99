import pytest
import torch

from honyaku.checkpoint import CheckpointStore, load_state, load_weights, save_state, save_weights
from honyaku.errors import HonyakuError


def test_store_keeps_the_newest_checkpoints_and_points_at_the_last(tmp_path):
    model = torch.nn.Linear(3, 2)
    store = CheckpointStore(tmp_path, keep=2)
    for step in (5, 10, 15):
        with torch.no_grad():
            model.weight.fill_(step)
        store.save(model, {"step": step, "rng": torch.get_rng_state()}, step)
    assert sorted(p.name for p in store.directory.glob("step-*")) == ["step-00000010", "step-00000015"]
    assert not [p for p in store.directory.iterdir() if p.name.startswith(".")]  # no staging left behind
    fresh = torch.nn.Linear(3, 2)
    state = store.load_latest(fresh)
    assert state["step"] == 15 and torch.equal(fresh.weight, torch.full((2, 3), 15.0))


def test_weights_and_state_round_trip_and_damage_is_reported(tmp_path):
    model = torch.nn.Linear(3, 2)
    save_weights(model, tmp_path / "w.safetensors")
    other = torch.nn.Linear(3, 2)
    load_weights(other, tmp_path / "w.safetensors")
    assert torch.equal(other.weight, model.weight)
    with pytest.raises(HonyakuError, match=r"w\.safetensors: weights do not fit the model"):
        load_weights(torch.nn.Linear(4, 2), tmp_path / "w.safetensors")
    save_state({"betas": (0.9, 0.99), "n": 3}, tmp_path / "s.pt")
    assert load_state(tmp_path / "s.pt") == {"betas": (0.9, 0.99), "n": 3}


def test_state_loading_refuses_pickled_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Exploit()}, tmp_path / "evil.pt")
    with pytest.raises(HonyakuError, match=r"evil\.pt: corrupted or unreadable training state"):
        load_state(tmp_path / "evil.pt")
