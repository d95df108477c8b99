"""The small-data training options: subword sampling, both directions, R-Drop, word and activation dropout."""

import pytest
import torch

from honyaku import Translator
from honyaku.core.config import ModelConfig
from honyaku.core.config_files import load_config
from honyaku.data.batching import BothDirections, collate, encode_pairs
from honyaku.data.vocabulary import Vocabulary
from honyaku.models.layers import WordDropout
from honyaku.models.transformer import Transformer
from honyaku.training.optimization import regularization_summary
from honyaku.training.trainer import Trainer, train

from .conftest import random_sequences, toy_config

SAMPLED_PIECES = {"subwords": {"model": "unigram", "vocab_size": 24, "sampling": {"alpha": 0.1, "nbest_size": 8}}}
SHARED_TRANSFORMER = {
    "arch": "transformer",
    "embed_dim": 32,
    "num_heads": 2,
    "ffn_size": 64,
    "tie_embeddings": True,
    "share_vocab": True,
}


def prepared(config, run, **settings):
    trainer = Trainer(load_config(config, [f"{k}={v}" for k, v in settings.items()]), run, progress_bar=False)
    trainer.set_up(resume=False)
    return trainer


def test_sampling_segments_training_pairs_afresh_each_epoch_and_nothing_else(tmp_path):
    config = toy_config(tmp_path, data=SAMPLED_PIECES, training={"max_steps": 15})
    trainer = prepared(config, tmp_path / "run")
    first, second = trainer.training_pairs.epoch(0), trainer.training_pairs.epoch(1)
    changed = sum(a != b for a, b in zip(first.src, second.src)) / len(first.src)
    assert changed > 0.5, f"only {changed:.0%} of the sources were segmented differently in the next epoch"
    src_vocab, tgt_vocab = trainer.src_vocab, trainer.tgt_vocab
    words, targets = trainer.training_pairs.words
    for pair in (0, 1, 2):  # a draw is still the same words
        assert trainer.src_subwords.join(src_vocab.decode(second.src[pair])) == words[pair]
        assert trainer.tgt_subwords.join(tgt_vocab.decode(second.tgt[pair])) == targets[pair]
    assert all(Vocabulary.unk_id not in ids for ids in first.src + second.src)  # every piece is in the vocabulary

    again = prepared(config, tmp_path / "again")  # the same (seed, epoch): the same draws, as a resume needs
    assert again.training_pairs.epoch(1) == second
    assert trainer.training_pairs.epoch(0) == first
    assert prepared(config, tmp_path / "seed", **{"training.seed": 4}).training_pairs.epoch(1) != second

    dev_words = [s.split() for s in (tmp_path / "dev" / "data.src").read_text().splitlines()]
    best = [trainer.src_subwords.split(w) for w in dev_words]
    assert trainer.dev.data.src == encode_pairs(best, best, src_vocab, src_vocab).src  # dev: the best segmentation

    train(config, tmp_path / "trained", progress_bar=False)
    translator = Translator.load(tmp_path / "trained", device="cpu")
    sentences = random_sequences(20, seed=5)
    assert [translator.source_tokens(s) for s in sentences] == [
        translator.src_subwords.split(s.split()) for s in sentences
    ]
    assert translator.translate(sentences) == translator.translate(sentences)


def test_bidirectional_epochs_train_both_ways_then_the_configs_direction(tmp_path):
    data = encode_pairs([["a", "b"]], [["x"]], *(Vocabulary(["<pad>", "<unk>", "<s>", "</s>", "a", "b", "x"]),) * 2)
    both = BothDirections(data)
    assert list(both.src) == [[4, 5, 3], [2, 6, 3]]  # the reversed pair's source starts with <s>
    assert list(both.tgt) == [[2, 6, 3], [2, 4, 5, 3]]
    assert [lengths.tolist() for lengths in both.lengths()] == [[3, 3], [3, 4]]

    config = toy_config(tmp_path, model=SHARED_TRANSFORMER)
    trainer = prepared(config, tmp_path / "run", **{"training.bidirectional_epochs": 2})
    pairs = trainer.training_pairs
    assert len(pairs.epoch(0)) == len(pairs.epoch(1)) == 2 * len(pairs.epoch(2)) == 2 * len(pairs)
    assert pairs.epoch(2) == pairs.fixed

    with pytest.raises(Exception, match="bidirectional_epochs: training both directions needs one vocabulary"):
        load_config(config, ["training.bidirectional_epochs=1", "model.share_vocab=false"])
    for epochs, said in ((1, "both directions for 1 epoch"), (2, "both directions for 2 epochs")):
        assert regularization_summary(load_config(config, [f"training.bidirectional_epochs={epochs}"])) == said


def test_rdrop_adds_the_divergence_of_two_dropout_masks(tmp_path):
    config = toy_config(tmp_path, model=SHARED_TRANSFORMER)
    trainer = prepared(config, tmp_path / "run", **{"training.rdrop_alpha": 5.0, "model.dropout": 0.0})
    trainer.model.train()
    batch = collate(trainer.train_data, list(range(16)), Vocabulary.pad_id)
    loss, cross_entropy = trainer.update.criterion(trainer.model, batch)
    assert torch.allclose(loss, cross_entropy)  # no dropout: both passes agree, no divergence

    trainer = prepared(config, tmp_path / "dropout", **{"training.rdrop_alpha": 5.0, "model.dropout": 0.3})
    trainer.model.train()
    loss, cross_entropy = trainer.update.criterion(trainer.model, batch)
    assert loss > cross_entropy > 0
    loss.backward()
    assert all(p.grad is not None for p in trainer.model.parameters() if p.requires_grad)


def test_word_dropout_drops_whole_tokens_in_training_only():
    torch.manual_seed(0)
    dropout = WordDropout(0.5)
    embeddings = torch.randn(8, 20, 6) + 3.0  # (B, T, E), no zeros of its own
    dropped = dropout(embeddings)
    zeroed = (dropped == 0).all(dim=-1)  # (B, T) whole vectors
    assert 0.3 < zeroed.float().mean() < 0.7
    assert torch.equal((dropped == 0), zeroed.unsqueeze(-1).expand_as(dropped))  # never part of a vector
    assert torch.allclose(dropped[~zeroed], embeddings[~zeroed] * 2)  # the kept ones scaled by 1/(1-p)
    assert torch.equal(dropout.eval()(embeddings), embeddings)


def test_activation_dropout_defaults_to_the_models_dropout():
    def inner_dropout(**settings):
        model = Transformer(ModelConfig(arch="transformer", embed_dim=8, num_heads=2, **settings), 10, 10, 0)
        return model.encoder_layers[0].feed_forward[2].p

    assert inner_dropout(dropout=0.3) == 0.3
    assert inner_dropout(dropout=0.3, activation_dropout=0.0) == 0.0
    assert inner_dropout(dropout=0.1, activation_dropout=0.2) == 0.2
