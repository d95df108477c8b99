import copy
import os
import stat

import pytest
import torch

from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_path, atomic_write_bytes
from honyaku.modeldir import load_weights, save_weights
from honyaku.training.checkpoint import CheckpointStore, load_state, save_state
from honyaku.training.distributed import World
from honyaku.training.records import Progress, random_states, restore_random_states


def test_store_keeps_the_newest_checkpoints_and_points_at_the_last(tmp_path):
    model = torch.nn.Linear(3, 2)
    store = CheckpointStore(tmp_path, keep=2)
    for step in (5, 10, 15):
        with torch.no_grad():
            model.weight.fill_(step)
        store.save(model, {"step": step, "rng": torch.get_rng_state()}, step)
    assert sorted(p.name for p in store.directory.glob("step-*")) == ["step-00000010", "step-00000015"]
    assert not [p for p in store.directory.iterdir() if p.name.startswith(".")]  # no staging left behind
    umask = os.umask(0o022)
    os.umask(umask)
    written = [store.directory / "latest", *store.directory.glob("step-*"), *store.directory.glob("step-*/*")]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in written}
    expected = {path.name: (0o777 if path.is_dir() else 0o666) & ~umask for path in written}
    assert modes == expected  # as open() and mkdir() make them, not tempfile's owner-only 0600 / 0700
    fresh = torch.nn.Linear(3, 2)
    state, used, skipped = store.load_latest(fresh)
    assert state["step"] == 15 and used.name == "step-00000015" and skipped == []
    assert torch.equal(fresh.weight, torch.full((2, 3), 15.0))

    flip_a_byte(used / "model.safetensors")  # the newest is damaged: the one before serves
    state, used, skipped = store.load_latest(fresh)
    assert state["step"] == 10 and used.name == "step-00000010" and torch.equal(fresh.weight, torch.full((2, 3), 10.0))
    assert len(skipped) == 1 and "step-00000015/model.safetensors: corrupted checkpoint" in skipped[0]
    (used / "training_state.pt").write_bytes(b"")
    with pytest.raises(HonyakuError, match="no intact checkpoint to resume from"):
        store.load_latest(fresh)


def test_a_failed_atomic_write_keeps_the_file_as_it_was(tmp_path):
    path = tmp_path / "scores.tsv"
    atomic_write_bytes(path, b"old")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as temp:
        temp.write_bytes(b"half of the new")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of writing
    assert path.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [path]


def flip_a_byte(path, offset_from_end=5):
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_the_weights_is_caught_by_the_content_hash(tmp_path):
    model = torch.nn.Linear(30, 20)
    save_weights(model, tmp_path / "w.safetensors")
    flip_a_byte(tmp_path / "w.safetensors", offset_from_end=100)  # inside the tensor data: the header is intact
    with pytest.raises(HonyakuError, match="content does not match the hash it was saved with"):
        load_weights(torch.nn.Linear(30, 20), tmp_path / "w.safetensors")


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


def test_float16_weights_load_into_a_float32_model_and_are_hash_checked(tmp_path):
    model = torch.nn.Linear(30, 20)
    save_weights(copy.deepcopy(model).half(), tmp_path / "half.safetensors")
    loaded = torch.nn.Linear(30, 20)
    load_weights(loaded, tmp_path / "half.safetensors")
    assert loaded.weight.dtype == torch.float32
    assert torch.equal(loaded.weight, model.weight.half().float())
    flip_a_byte(tmp_path / "half.safetensors", offset_from_end=100)
    with pytest.raises(HonyakuError, match="content does not match the hash it was saved with"):
        load_weights(torch.nn.Linear(30, 20), tmp_path / "half.safetensors")


def test_a_checkpoint_holds_the_random_states_once_and_older_checkpoints_still_restore():
    world, cpu = World(), torch.device("cpu")
    torch.manual_seed(5)
    saved = random_states(world, cpu)
    expected = torch.rand(3)
    assert list(saved) == ["rng_by_rank"]  # not also as rng_cpu / rng_cuda
    restore_random_states(saved, world, cpu, reseed=0)
    assert torch.equal(torch.rand(3), expected)
    ((rng_cpu, rng_cuda),) = saved["rng_by_rank"]
    restore_random_states({"rng_cpu": rng_cpu, "rng_cuda": rng_cuda, "rng_by_rank": []}, world, cpu, reseed=0)
    assert torch.equal(torch.rand(3), expected)


def test_a_run_that_ran_out_of_budget_says_so_in_a_field_and_older_checkpoints_in_their_reason():
    saved = Progress(finished="reached max_epochs=3", budget_reached="max_epochs=3").to_dict()
    assert Progress.restored(saved).budget_reached == "max_epochs=3"
    older = Progress(finished="reached max_minutes=60").to_dict()
    del older["budget_reached"]
    assert Progress.restored(older).budget_reached == "max_minutes=60"
    stopped = Progress(finished="early stopping: dev bleu did not improve in 3 evaluations").to_dict()
    del stopped["budget_reached"]
    assert Progress.restored(stopped).budget_reached is None
