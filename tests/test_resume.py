"""A run killed with SIGKILL and resumed ends exactly where an uninterrupted run ends."""

import csv
import os
import random
import signal
import subprocess
import sys
import time

import safetensors.torch
import torch

from honyaku.training import train

from .conftest import toy_config

TRAINING = {
    "max_epochs": 3,  # 141 steps with eval mid-epoch, so that the data position inside an epoch matters
    "eval_every_steps": 40,
    "checkpoint_every_steps": 7,
    "patience": None,
}
MODEL = {
    "dropout": 0.3,
    "num_layers": 2,
    "reverse_source": True,
}  # dropout draws random numbers: the RNG state must be restored
# Subword sampling draws each epoch's segmentations: a resumed epoch must draw the same ones.
DATA = {"subwords": {"model": "unigram", "vocab_size": 24, "sampling": {"alpha": 0.1, "nbest_size": 8}}}


def weights(path):
    return safetensors.torch.load_file(str(path))


def metric_rows(run):
    with (run / "metrics.csv").open() as stream:
        return [
            {k: v for k, v in row.items() if k not in ("target_tokens_per_s", "train_seconds")}
            for row in csv.DictReader(stream)
        ]


def train_until_killed(config, run, kill_after_step, delay_s):
    command = [sys.executable, "-m", "honyaku", "train", str(config), "--out", str(run), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest = run / "checkpoints" / "latest"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if latest.is_file() and int(latest.read_text().split("-")[1]) >= kill_after_step:
                break
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.01)
        time.sleep(delay_s)  # so that the kill lands anywhere: inside a step, an evaluation or a checkpoint write
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL


def test_killed_and_resumed_run_equals_uninterrupted_run(tmp_path):
    config = toy_config(tmp_path, training=TRAINING, model=MODEL, data=DATA)
    reference = tmp_path / "uninterrupted"
    train(config, reference, progress_bar=False)
    final = reference / "checkpoints" / (reference / "checkpoints" / "latest").read_text()

    seed = int(os.environ.get("HONYAKU_KILL_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    # One kill in each third of the run; the last third ends early enough that the run is still going.
    for attempt, (first, last) in enumerate(((1, 46), (47, 93), (94, 126))):
        kill_after_step, delay_s = rng.randint(first, last), rng.uniform(0, 0.05)
        print(f"HONYAKU_KILL_SEED={seed}: kill {attempt} after step {kill_after_step} + {delay_s * 1000:.0f} ms")
        run = tmp_path / f"killed-{attempt}"
        train_until_killed(config, run, kill_after_step, delay_s)
        if attempt == 2:  # the newest checkpoint is damaged too: resume falls back to the one before
            newest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text()
            (newest / "model.safetensors").write_bytes(b"\x00" * 100)
        progress = train(config, run, resume=True, progress_bar=False)
        if attempt == 2:
            assert "skipping a damaged checkpoint" in (run / "train.log").read_text()
        assert progress.step == 141
        resumed_final = run / "checkpoints" / (run / "checkpoints" / "latest").read_text()
        for name, tensor in weights(final / "model.safetensors").items():
            assert torch.equal(tensor, weights(resumed_final / "model.safetensors")[name]), name
        for name, tensor in weights(reference / "model.safetensors").items():
            assert torch.equal(tensor, weights(run / "model.safetensors")[name]), name
        assert metric_rows(run) == metric_rows(reference)
