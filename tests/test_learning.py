"""The whole chain — data, batching, model, loss, optimiser, search — learns a task end to end."""

import pytest

from honyaku import Translator
from honyaku.training import train

from .conftest import random_sequences, reverse_words, toy_config

TASKS = {
    # Sutskever's trick: reading the source backwards puts each target word's source next to it.
    "seq2seq-copy": ({"arch": "seq2seq", "reverse_source": True}, {}, False),
    "attention-reverse": ({"arch": "attention", "attention": "general"}, {}, True),
    "transformer-reverse": (
        {
            "arch": "transformer",
            "embed_dim": 64,
            "num_heads": 4,
            "ffn_size": 128,
            "num_layers": 2,
            "tie_embeddings": True,
            "share_vocab": True,
        },
        {"lr_schedule": "inverse_sqrt", "warmup_steps": 100, "learning_rate": 0.003, "label_smoothing": 0.1},
        True,
    ),
}


@pytest.mark.parametrize(("model", "training", "reverse"), list(TASKS.values()), ids=list(TASKS))
def test_model_learns_a_synthetic_task(tmp_path, model, training, reverse):
    config = toy_config(tmp_path, reverse=reverse, model=model, training=training)
    progress = train(config, tmp_path / "run", progress_bar=False)
    assert progress.finished == "reached max_epochs=12"

    held_out = random_sequences(200, seed=99)  # sequences never seen in training
    expected = [reverse_words(s) for s in held_out] if reverse else held_out
    translator = Translator.load(tmp_path / "run", device="cpu")
    for beam_size in (1, 4):
        translations = translator.translate(held_out, beam_size=beam_size)
        exact = sum(t == e for t, e in zip(translations, expected)) / len(held_out)
        assert exact >= 0.95, f"beam {beam_size}: exact match {exact:.1%}"
