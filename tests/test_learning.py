"""The whole chain — data, batching, model, loss, optimiser, search — learns a task end to end."""

import pytest
import torch

from honyaku import Translator
from honyaku.apps.cli import main
from honyaku.inference.heatmap import attention_map
from honyaku.training.trainer import train

from .conftest import random_sequences, reverse_words, toy_config

WORD_PIECES = {"subwords": {"model": "bpe", "vocab_size": 16}}  # the toy words in pieces: "▁w", "3"

TASKS = {
    # Sutskever's trick: reading the source backwards puts each target word's source next to it.
    "seq2seq-copy": ({"arch": "seq2seq", "reverse_source": True}, {}, False, {}),
    "attention-reverse": ({"arch": "attention", "attention": "general"}, {}, True, {}),
    "attention-subwords-copy": ({"arch": "attention", "attention": "dot"}, {}, False, WORD_PIECES),
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
        # 15 epochs: at 12, int8 copies of the one-thread run (make test's workers) fell just short of 90 %
        {
            "lr_schedule": "inverse_sqrt",
            "warmup_steps": 100,
            "learning_rate": 0.003,
            "label_smoothing": 0.1,
            "max_epochs": 15,
        },
        True,
        {},
    ),
}


@pytest.mark.parametrize(("model", "training", "reverse", "data"), list(TASKS.values()), ids=list(TASKS))
def test_model_learns_a_synthetic_task(tmp_path, model, training, reverse, data):
    config = toy_config(tmp_path, reverse=reverse, model=model, training=training, data=data)
    progress = train(config, tmp_path / "run", progress_bar=False)
    assert progress.finished == f"reached max_epochs={training.get('max_epochs', 12)}"

    held_out = random_sequences(200, seed=99)  # sequences never seen in training
    expected = [reverse_words(s) for s in held_out] if reverse else held_out
    translator = Translator.load(tmp_path / "run", device="cpu")
    for beam_size in (1, 4):
        translations = translator.translate(held_out, beam_size=beam_size)
        exact = sum(t == e for t, e in zip(translations, expected)) / len(held_out)
        assert exact >= 0.95, f"beam {beam_size}: exact match {exact:.1%}"
    int8 = Translator.load(tmp_path / "run", device="cpu", int8=True).translate(held_out)
    exact = sum(t == e for t, e in zip(int8, expected)) / len(held_out)
    assert exact >= 0.9, f"int8: exact match {exact:.1%}"
    if model["arch"] != "seq2seq" and not data:
        check_attention_follows_the_alignment(tmp_path, translator, held_out[:20])


def check_attention_follows_the_alignment(tmp_path, translator, sentences):
    """Reversing a sequence, output token i comes from source token n-1-i: attention should say so."""
    aligned = total = 0
    for sentence in sentences:
        found = attention_map(translator, sentence)
        n = len(sentence.split())
        assert found.source[:-1] == sentence.split() and found.weights.shape == (len(found.target), n + 1)
        assert torch.allclose(found.weights.sum(dim=1), torch.ones(len(found.target)), atol=1e-5)
        peaks = found.weights[:n, :n].argmax(dim=1).tolist()
        aligned += sum(peak == n - 1 - i for i, peak in enumerate(peaks))
        total += n
    assert aligned / total >= 0.8, f"attention peaks on the aligned source token {aligned / total:.0%} of the time"
    assert main(["attention", "-m", str(tmp_path / "run"), sentences[0], "-o", str(tmp_path / "map.png")]) == 0
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"


def test_weight_decay_leaves_biases_norms_and_embeddings_alone():
    from honyaku.core.config import ModelConfig
    from honyaku.models.factory import build_model
    from honyaku.training.optimization import parameter_groups

    model = build_model(ModelConfig(arch="transformer", embed_dim=8, num_heads=2, tie_embeddings=True), 12, 12, 0)
    decayed, kept = parameter_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and kept["weight_decay"] == 0.0
    names = {id(p): name for name, p in model.named_parameters()}
    assert {names[id(p)] for p in decayed["params"]} == {
        name for name, p in model.named_parameters() if p.dim() == 2 and "embed" not in name
    }
    assert "tgt_embed.weight" in {names[id(p)] for p in kept["params"]}  # the tied output layer too
    assert len(decayed["params"]) + len(kept["params"]) == len(list(model.parameters()))
    (everything,) = parameter_groups(model, 0.0)  # no decay: one group, as older checkpoints hold
    assert len(everything["params"]) == len(list(model.parameters()))
