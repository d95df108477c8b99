"""Training and translating below float32: bfloat16 autocast learns what float32 learns, float16's loss scaler
resumes exactly and is never taken for divergence, GPU-shaped padding leaves every model's loss unchanged, and
half-precision translation agrees with float32. The CUDA tests run where there is a GPU (bench/gpu_check.py)."""

import csv
import functools

import numpy as np
import pytest
import safetensors.torch
import torch

from honyaku import Translator
from honyaku.apps.cli import main
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.core.metrics import bleu
from honyaku.data.batching import ParallelData, collate
from honyaku.modeldir import STATE_FILE
from honyaku.training.checkpoint import CheckpointStore, load_state
from honyaku.training.trainer import train

from .conftest import random_sequences, toy_config
from .test_model_and_search import PAD, VARIANTS, small_model

TRANSFORMER = {"arch": "transformer", "embed_dim": 64, "num_heads": 4, "ffn_size": 128, "num_layers": 2}
SCHEDULE = {"lr_schedule": "inverse_sqrt", "warmup_steps": 100, "learning_rate": 0.003, "patience": None}


def last_dev(run, column: str = "dev_loss") -> float:
    with (run / "metrics.csv").open(encoding="utf-8") as rows:
        return float(list(csv.DictReader(rows))[-1][column])


def dev_losses(run) -> list[float]:
    with (run / "metrics.csv").open(encoding="utf-8") as rows:
        return [float(row["dev_loss"]) for row in csv.DictReader(rows)]


def weights(run) -> dict[str, torch.Tensor]:
    """The weights of the run's newest checkpoint."""
    return safetensors.torch.load_file(CheckpointStore(run).latest() / "model.safetensors")


def test_bfloat16_autocast_learns_the_toy_task_as_float32_does(tmp_path):
    runs = {}
    for precision in ("float32", "bfloat16"):
        config = toy_config(tmp_path, model=TRANSFORMER, training={**SCHEDULE, "max_epochs": 4, "precision": precision})
        train(config, tmp_path / precision, progress_bar=False)
        runs[precision] = tmp_path / precision
    for precision, run in runs.items():  # learnt: the dev loss starts near log(vocabulary) = 2.8, BLEU near 0
        assert last_dev(run) < 0.3 and last_dev(run, "dev_bleu") > 80, precision
    # the same curve up to epoch 2; in epochs 3 and 4 the task is being solved, and a small difference in the step at
    # which it is solved is a large one in the loss (seen at epoch 3: float32 0.26, bfloat16 0.35 on one thread,
    # 0.25 and 0.40 on two; by epoch 4 both below 0.21 either way)
    full, half = (dev_losses(runs[p])[:2] for p in ("float32", "bfloat16"))
    assert all(abs(a - b) < 0.05 for a, b in zip(full, half)), (half, full)
    saved = weights(runs["bfloat16"])
    assert all(tensor.dtype == torch.float32 for tensor in saved.values())  # the weights themselves stay float32
    assert any(not saved[name].equal(tensor) for name, tensor in weights(runs["float32"]).items())  # autocast ran


def test_a_float16_run_resumes_exactly_with_its_loss_scaler(tmp_path):
    training = {**SCHEDULE, "precision": "float16", "eval_every_steps": 30}
    straight = train(toy_config(tmp_path, model=TRANSFORMER, training={**training, "max_steps": 60}), tmp_path / "a")
    config = toy_config(tmp_path, model=TRANSFORMER, training={**training, "max_steps": 30})
    train(config, tmp_path / "b", progress_bar=False)
    state = load_state(CheckpointStore(tmp_path / "b").latest() / STATE_FILE)
    assert state["scaler"]["scale"] > 0  # the scaler's state is in the checkpoint
    resumed = train(config, tmp_path / "b", resume=True, overrides=["training.max_steps=60"])
    assert resumed.step == straight.step == 60
    assert all(tensor.equal(weights(tmp_path / "b")[name]) for name, tensor in weights(tmp_path / "a").items())


def test_updates_that_the_loss_scaler_skips_are_not_taken_for_divergence(tmp_path, monkeypatch):
    # A scale of 2^40 overflows float16 gradients: the scaler skips those updates and halves the scale each
    # time, many more times in a row than max_nonfinite_steps allows non-finite steps, then trains.
    monkeypatch.setattr(torch.amp, "GradScaler", functools.partial(torch.amp.GradScaler, init_scale=2.0**40))
    training = {**SCHEDULE, "precision": "float16", "max_steps": 40, "max_nonfinite_steps": 3}
    progress = train(toy_config(tmp_path, model=TRANSFORMER, training=training), tmp_path / "run")
    assert progress.finished == "reached max_steps=40" and progress.skipped_steps == 0
    assert 10 <= progress.scaler_skipped_steps < 40
    assert "updates skipped by the float16 loss scaler" in (tmp_path / "run" / "train.log").read_text()


@pytest.mark.parametrize("variant", list(VARIANTS.values()), ids=list(VARIANTS))
def test_padding_batches_to_a_multiple_of_8_leaves_every_models_loss_unchanged(variant):
    torch.manual_seed(0)
    model = small_model(variant) if isinstance(variant, dict) else small_model(variant[0])
    rng = np.random.default_rng(0)
    sentences = [rng.integers(4, 20, size=rng.integers(1, 12)).tolist() + [3] for _ in range(16)]
    data = ParallelData(src=sentences, tgt=[[2, *s] for s in reversed(sentences)])
    losses = []
    for multiple in (1, 8):
        batch = collate(data, range(16), PAD, multiple)
        if multiple == 8:
            assert batch.src.size(1) % 8 == 0 and batch.tgt_in.size(1) % 8 == 0
        logits = model(batch.src, batch.src_lengths, batch.tgt_in)
        losses.append(
            torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD, reduction="sum"
            )
        )
    torch.testing.assert_close(losses[0], losses[1])


def sentences_for(run_name: str, request) -> list[str]:
    """Sentences in the run's source language: the toy task's, or the corpus's test sentences."""
    if run_name == "attention_run":
        return random_sequences(100, seed=5)
    corpus_dir = request.getfixturevalue("corpus_dir")
    return (corpus_dir / "test.en").read_text(encoding="utf-8").splitlines()[:100]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("run_name", ["attention_run", "shared_run"])
def test_half_precision_translation_agrees_with_float32(request, run_name, dtype):
    run, sentences = request.getfixturevalue(run_name), sentences_for(run_name, request)
    full = Translator.load(run, device="cpu").translate(sentences, pretokenized=True)
    half = Translator.load(run, device="cpu", dtype=dtype)
    assert {parameter.dtype for parameter in half.model.parameters()} == {getattr(torch, dtype)}
    # Which near-ties flip below float32 depends on the CPU's kernels (with or without native bfloat16) and on
    # the thread count: exact agreement per sentence does not hold everywhere (76% to 100% seen), closeness does.
    # BLEU of the half-precision translations against float32's: 100 where all agree, about 70 where one in four
    # differs by a flipped near-tie, far below where the arithmetic breaks the search.
    closeness = bleu(half.translate(sentences, pretokenized=True), full).score
    assert closeness >= 50, f"{dtype}: BLEU {closeness:.1f} against float32's translations"


def test_the_cli_translates_in_the_precision_it_is_given(attention_run, capsys):
    sentences = random_sequences(5, seed=7)
    main(
        ["translate", "-m", str(attention_run), "--device", "cpu", "--dtype", "bfloat16", "--pretokenized", *sentences]
    )
    expected = Translator.load(attention_run, device="cpu", dtype="bfloat16").translate(sentences, pretokenized=True)
    assert capsys.readouterr().out.splitlines() == expected


def test_precision_settings_are_checked(tmp_path, attention_run):
    with pytest.raises(HonyakuError, match=r"training\.precision: must be one of auto, float32, bfloat16, float16"):
        load_config(toy_config(tmp_path, training={"precision": "fp8"}))
    with pytest.raises(HonyakuError, match="int8 and dtype bfloat16 exclude each other"):
        Translator.load(attention_run, device="cpu", int8=True, dtype="bfloat16")
    with pytest.raises(HonyakuError, match="unknown dtype 'half'"):
        Translator.load(attention_run, device="cpu", dtype="half")


@pytest.mark.cuda
def test_cuda_training_in_auto_precision_learns_and_resumes_exactly(tmp_path):
    training = {**SCHEDULE, "device": "cuda", "eval_every_steps": 20}
    straight = train(toy_config(tmp_path, model=TRANSFORMER, training={**training, "max_epochs": 4}), tmp_path / "a")
    config = toy_config(tmp_path, model=TRANSFORMER, training={**training, "max_epochs": 2})
    train(config, tmp_path / "b", progress_bar=False)
    resumed = train(config, tmp_path / "b", resume=True, overrides=["training.max_epochs=4"])
    assert resumed.step == straight.step and last_dev(tmp_path / "a") < 0.3
    for name, tensor in weights(tmp_path / "a").items():
        torch.testing.assert_close(tensor, weights(tmp_path / "b")[name], rtol=0, atol=0)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("run_name", ["attention_run", "shared_run"])
def test_cuda_translation_agrees_with_the_cpu(request, run_name, dtype):
    run, sentences = request.getfixturevalue(run_name), sentences_for(run_name, request)
    on_cpu = Translator.load(run, device="cpu").translate(sentences, beam_size=5, pretokenized=True)
    translator = Translator.load(run, device="cuda", dtype=dtype)
    assert next(translator.model.parameters()).is_cuda
    found = translator.translate(sentences, beam_size=5, pretokenized=True)
    agree = sum(a == b for a, b in zip(on_cpu, found)) / len(sentences)
    assert agree >= (0.95 if dtype == "float32" else 0.8), f"{dtype}: {agree:.0%}"
