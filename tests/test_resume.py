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

from honyaku.training.evaluation import DevEvaluation
from honyaku.training.records import Progress
from honyaku.training.trainer import train

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


def test_a_run_stopped_between_evaluations_and_given_a_larger_budget_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    # Dev BLEU scripted by step, so that the evaluation a stop at step 60 makes (between the epoch ends 47 and 94)
    # scores best of all. Left standing, it would keep its weights as the best, evict the best checkpoint, and
    # count against patience and the plateau schedule at step 94: the continued run would stop early there.
    scores, last_step = {47: 10.0, 60: 50.0, 94: 20.0, 141: 15.0}, [0]
    add_step = Progress.add_step

    def counting_step(progress, *args):
        add_step(progress, *args)
        last_step[0] = progress.step

    monkeypatch.setattr(Progress, "add_step", counting_step)
    monkeypatch.setattr(DevEvaluation, "bleu", lambda self, model: scores[last_step[0]])
    training = {"max_epochs": 3, "patience": 1, "lr_decay_patience": 0, "keep_best_checkpoints": 1}
    config = toy_config(tmp_path, training=training, model=MODEL)
    reference = train(config, tmp_path / "whole", progress_bar=False)
    stopped = train(config, tmp_path / "parts", overrides=["training.max_steps=60"], progress_bar=False)
    assert stopped.finished == "reached max_steps=60" and stopped.best_score == 50.0
    assert [row["step"] for row in metric_rows(tmp_path / "parts")] == ["47", "60"]

    resumed = train(config, tmp_path / "parts", resume=True, overrides=["training.max_steps=null"], progress_bar=False)
    assert (resumed.step, resumed.best_score, resumed.finished) == (141, 20.0, reference.finished)
    assert "the evaluation made at that stop (step 60) is set aside" in (tmp_path / "parts" / "train.log").read_text()
    assert metric_rows(tmp_path / "parts") == metric_rows(tmp_path / "whole")
    for name in ("model.safetensors", "checkpoints/best/step-00000094.safetensors"):
        expected = weights(tmp_path / "whole" / name)
        assert all(torch.equal(tensor, weights(tmp_path / "parts" / name)[key]) for key, tensor in expected.items())
    assert sorted(p.name for p in (tmp_path / "parts" / "checkpoints").iterdir()) == sorted(
        p.name for p in (tmp_path / "whole" / "checkpoints").iterdir()
    )
