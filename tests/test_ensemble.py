"""``honyaku ensemble``: a model directory whose members search together, used like any other model directory."""

import pytest
import yaml

from honyaku import HonyakuError, Translator
from honyaku.inference.export import export_huggingface
from honyaku.inference.heatmap import attention_map
from honyaku.inference.translator import tune_length_penalty
from honyaku.modeldir import CARD_FILE
from honyaku.tools.bundle import bundle
from honyaku.tools.ensembling import ensemble
from honyaku.training.trainer import train

from .conftest import random_sequences, toy_config
from .test_cli import assert_one_line_error, honyaku

SENTENCES = random_sequences(40, seed=7)


@pytest.fixture(scope="module")
def transformer_run(tmp_path_factory):
    """A toy Transformer of the attention run's task and vocabulary (the same toy data)."""
    tmp_path = tmp_path_factory.mktemp("ensemble-transformer")
    model = {"arch": "transformer", "num_heads": 2, "ffn_size": 64, "embed_dim": 32}
    config = toy_config(tmp_path, model=model, training={"max_epochs": 1, "learning_rate": 0.003})
    train(config, tmp_path / "run", progress_bar=False)
    return tmp_path / "run"


def test_an_ensemble_of_a_model_with_itself_translates_as_the_model(attention_run, tmp_path):
    ensemble([attention_run, attention_run], tmp_path / "twice")
    alone, twice = Translator.load(attention_run), Translator.load(tmp_path / "twice")
    for beam_size in (1, 3):
        expected = alone.translate_n_best(SENTENCES, n_best=beam_size, beam_size=beam_size)
        found = twice.translate_n_best(SENTENCES, n_best=beam_size, beam_size=beam_size)
        assert [[t.text for t in ts] for ts in found] == [[t.text for t in ts] for ts in expected]
        scores = [t.score for ts in found for t in ts]
        assert scores == pytest.approx([t.score for ts in expected for t in ts], abs=1e-4)


def test_an_ensemble_directory_is_tuned_and_bundled_like_a_model(attention_run, transformer_run, tmp_path):
    out = ensemble([attention_run, transformer_run], tmp_path / "pair")
    members = yaml.safe_load((out / "ensemble.yaml").read_text())["members"]
    assert [m["source"] for m in members] == [str(attention_run), str(transformer_run)]
    assert [m["model"]["arch"] for m in members] == ["attention", "transformer"]
    best, _ = tune_length_penalty(out, [0.0, 1.0], beam_size=3)
    assert Translator.load(out).config.decoding.length_penalty == best
    bundled = bundle(out, tmp_path / "bundled", half=True)
    card = (bundled / CARD_FILE).read_text()
    assert "An ensemble of 2 models" in card
    assert f"- Member 2, from `{transformer_run}`:\n  - 1 epochs" in card
    assert "  - Reproduce: `honyaku train configs/toy.yaml --out runs/toy`" in card  # the member's
    assert (
        "\n- The length penalty was chosen on dev by beam-search BLEU (corpus tokens): 0 → " in card
    )  # the ensemble's
    assert f"`honyaku ensemble -m {attention_run} -m {transformer_run} -o {out}`, then `honyaku tune -m {out}" in card
    texts = Translator.load(out).translate(SENTENCES)
    assert sum(a == b for a, b in zip(Translator.load(bundled).translate(SENTENCES), texts)) >= 0.9 * len(texts)
    again = (bundle(bundled, tmp_path / "again", half=True) / CARD_FILE).read_text()
    training = card.partition("## Training\n")[2].partition("\n## ")[0]
    assert again.partition("## Training\n")[2].partition("\n## ")[0] == training  # its record, not a new one's


def test_what_cannot_be_an_ensemble_or_be_done_with_one_is_refused(attention_run, shared_run, tmp_path):
    with pytest.raises(HonyakuError, match="at least two models"):
        ensemble([attention_run], tmp_path / "one")
    with pytest.raises(HonyakuError, match=f"{shared_run}: translates en→ja, {attention_run} xx→yy"):
        ensemble([attention_run, shared_run], tmp_path / "mixed")
    out = ensemble([attention_run, attention_run], tmp_path / "twice")
    with pytest.raises(HonyakuError, match="is an ensemble already"):
        ensemble([out, attention_run], tmp_path / "nested")
    with pytest.raises(HonyakuError, match="an ensemble does not export"):
        export_huggingface(out, tmp_path / "hf")
    with pytest.raises(HonyakuError, match="show one member's attention"):
        attention_map(Translator.load(out), SENTENCES[0])
    assert not (tmp_path / "one").exists() and not (tmp_path / "mixed").exists()


def test_members_of_other_vocabularies_and_a_damaged_description_give_one_line_errors(attention_run, tmp_path):
    other = tmp_path / "other"
    other_config = toy_config(tmp_path / "other-data", training={"max_epochs": 1}, data={"src_vocab": {"max_size": 8}})
    train(other_config, other, progress_bar=False)
    result = honyaku("ensemble", "-m", str(attention_run), "-m", str(other), "-o", str(tmp_path / "pair"))
    assert_one_line_error(result, f"{other}: its src_vocab.txt differs from {attention_run}'s; members must share it")
    result = honyaku("ensemble", "-m", str(attention_run), "-m", str(attention_run), "-o", str(tmp_path / "twice"))
    assert result.returncode == 0 and "an ensemble of" in result.stdout
    (tmp_path / "twice" / "ensemble.yaml").write_text("members:\n- {model: {arch: lstm}}\n- {model: {}}\n")
    result = honyaku("translate", "-m", str(tmp_path / "twice"), "w1 w2")
    assert_one_line_error(result, "ensemble.yaml: members[0]: model.arch: unknown architecture 'lstm'")
