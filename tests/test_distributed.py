"""Data-parallel training: 2 processes with gloo on 127.0.0.1 follow one process's loss curve, and resume."""

import contextlib
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import safetensors.torch
import torch

from honyaku.core.workers import descendant_processes
from honyaku.training.distributed import World, torchrun_command
from honyaku.training.trainer import train

from .conftest import toy_config

TRAINING = {"max_epochs": 2, "eval_every_steps": 8, "batch_size": 64}
DATA = {"train_limit": 1000}  # 16 global batches an epoch: quick, yet enough steps for curves to drift apart


def train_in_processes(config, run, nproc, *extra):
    command = [sys.executable, "-m", "honyaku", "train", str(config), "--out", str(run), "--no-progress"]
    return run_torchrun([*command, "--nproc", str(nproc), *extra])


def run_torchrun(command, timeout=180):
    """COMMAND's stdout: torchrun, or a command that becomes it. After TIMEOUT seconds, the test fails with each
    rank's Python stack, and no process of the run is left: torchrun starts every rank in a session of its own,
    where killing torchrun does not reach them, and left running they slow every later test into a timeout. Three
    timed-out runs of one test end within pytest-timeout's 600 s: interrupted by it, Popen's exit would wait on."""
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,  # not pipes: a rank outliving torchrun would hold them open
        subprocess.Popen(command, stdout=out, stderr=err, env={**os.environ, "PYTHONFAULTHANDLER": "1"}) as process,
    ):
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            ranks = descendant_processes(process.pid)
            signal_all(ranks, signal.SIGABRT)  # faulthandler writes the rank's stacks to stderr
            time.sleep(5)
            signal_all([process.pid, *ranks], signal.SIGKILL)
            process.wait()
            pytest.fail(f"still running after {timeout} s:\n{tail(err, 12000)}")
        assert process.returncode == 0, tail(err, 3000)
        out.seek(0)
        return out.read()


def signal_all(pids, signum):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def tail(stream, characters):
    stream.seek(0)
    return stream.read()[-characters:]


def rank_lines(tmp_path, script, *args):
    """The lines starting with "rank" that SCRIPT, run in two processes with ARGS, writes, sorted."""
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    stdout = run_torchrun([*torchrun_command(2), str(path), *map(str, args)], timeout=120)
    return sorted(line for line in stdout.splitlines() if line.startswith("rank"))


def curve(run):
    with (run / "metrics.csv").open() as stream:
        return [(int(r["step"]), float(r["train_loss"]), float(r["dev_loss"])) for r in csv.DictReader(stream)]


def test_a_rank_gets_an_interleaved_share_and_never_nothing():
    assert World(rank=1, size=2).share([4, 5, 6, 7, 8]) == ([5, 7], True)
    assert World(rank=0, size=2).share([4, 5, 6, 7, 8]) == ([4, 6, 8], True)
    assert World(rank=1, size=2).share([9]) == ([9], False)  # runs, but its loss counts for nothing


def test_two_processes_follow_the_loss_curve_of_one_with_the_same_global_batch(tmp_path):
    config = toy_config(tmp_path, data=DATA, training=TRAINING, model={"dropout": 0.0})
    train(config, tmp_path / "one", progress_bar=False)
    stdout = train_in_processes(config, tmp_path / "two", 2)

    one, two = curve(tmp_path / "one"), curve(tmp_path / "two")
    assert [step for step, *_ in two] == [step for step, *_ in one] and len(one) >= 4
    # The same global batches, split over two ranks: only float summation order differs.
    for (_, train_one, dev_one), (_, train_two, dev_two) in zip(one, two, strict=True):
        assert train_two == pytest.approx(train_one, rel=1e-3)
        assert dev_two == pytest.approx(dev_one, rel=1e-3)
    assert one[-1][2] < 0.85 * one[0][2]  # and it did learn
    log = (tmp_path / "two" / "train.log").read_text()
    assert log.count("training finished") == 1 and "× 2 processes" in log  # rank 0 alone writes
    assert stdout.count("training finished") == 0 and stdout.count(str(tmp_path / "two")) == 1


def test_a_resumed_two_process_run_equals_an_uninterrupted_one(tmp_path):
    training = {**TRAINING, "eval_every_steps": None}  # evaluations at epoch ends: where the first part stops
    config = toy_config(tmp_path, data=DATA, training=training, model={"dropout": 0.3})  # per-rank dropout streams
    train_in_processes(config, tmp_path / "whole", 2)
    train_in_processes(config, tmp_path / "parts", 2, "--set", "training.max_epochs=1")
    train_in_processes(config, tmp_path / "parts", 2, "--resume")  # the run had reached max_epochs=1

    assert "continuing a run that had reached max_epochs=1" in (tmp_path / "parts" / "train.log").read_text()
    whole = safetensors.torch.load_file(str(tmp_path / "whole" / "model.safetensors"))
    parts = safetensors.torch.load_file(str(tmp_path / "parts" / "model.safetensors"))
    for name, tensor in whole.items():
        assert torch.equal(tensor, parts[name]), name
    assert curve(tmp_path / "parts") == curve(tmp_path / "whole")


LEAVE_WORLD_SCRIPT = """
import os
import sys
from honyaku.training.distributed import join_world, leave_world
import torch
from torch import nn

def threads():
    return len(os.listdir("/proc/self/task"))

model = nn.Linear(4, 4)
model(torch.randn(3, 4)).sum().backward()  # the threads that computing starts, before counting
before = threads()
world, device = join_world("cpu")
wrapped = world.wrap(model, torch.device(device), seed=1)
wrapped(torch.randn(3, 4)).sum().backward()
world.barrier()
del wrapped
leave_world()
sys.stdout.write(f"rank {world.rank}: {threads() - before} threads left\\n")  # one write: ranks share the pipe
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_leaving_the_world_ends_its_threads(tmp_path):
    """A process group that outlives leave_world is freed while the interpreter shuts down, where gloo's threads
    now and then abort the process; its threads tell whether it is gone."""
    assert rank_lines(tmp_path, LEAVE_WORLD_SCRIPT) == [
        "rank 0: 0 threads left",
        "rank 1: 0 threads left",
    ]


TRAIN_SCRIPT = """
import gc
import os
import sys
from torch.nn.parallel import DistributedDataParallel
from honyaku.training.trainer import train

gc.disable()  # only where honyaku collects
train(sys.argv[1], sys.argv[2], progress_bar=False)
left = sum(isinstance(thing, DistributedDataParallel) for thing in gc.get_objects())
sys.stdout.write(f"rank {os.environ['RANK']}: models left {left}\\n")
"""


def test_training_frees_its_distributed_model_before_leaving_the_world(tmp_path):
    """The trainer's DistributedDataParallel model sits in reference cycles: left to the garbage collector, it was
    freed after its process group, at any moment, and now and then hung the rank there (a CI timeout)."""
    config = toy_config(tmp_path, data={"train_limit": 200}, training={"max_epochs": 1, "batch_size": 64})
    assert rank_lines(tmp_path, TRAIN_SCRIPT, config, tmp_path / "run") == [
        "rank 0: models left 0",
        "rank 1: models left 0",
    ]
