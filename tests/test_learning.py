"""The whole chain — data, batching, model, loss, optimiser, greedy search — learns a task end to end."""

import random

from honyaku import Translator
from honyaku.training import train

from .conftest import toy_config


def test_seq2seq_learns_to_copy_sequences(tmp_path):
    config = toy_config(tmp_path)
    progress = train(config, tmp_path / "run", progress_bar=False)
    assert progress.finished == "reached max_epochs=12"

    rng = random.Random(99)  # sequences never seen in training
    held_out = [" ".join(f"w{rng.randrange(12)}" for _ in range(rng.randint(3, 8))) for _ in range(200)]
    translations = Translator.load(tmp_path / "run", device="cpu").translate(held_out)
    exact = sum(t == s for t, s in zip(translations, held_out)) / len(held_out)
    assert exact >= 0.95, f"exact match {exact:.1%}"
