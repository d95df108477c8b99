"""transformers models behind honyaku's Translator: a tiny Marian model built here from a config, offline."""

import json

import pytest

from honyaku import Translator, pipeline
from honyaku.apps.cli import main
from honyaku.core.errors import HonyakuError
from honyaku.inference.hub import TransformersTranslator, direction_of

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory, corpus_dir):
    """An untrained OPUS-MT-shaped Marian model (named like opus-mt-en-jap) with its SentencePiece tokenizer."""
    import sentencepiece
    import torch

    directory = tmp_path_factory.mktemp("hub") / "tiny-opus-mt-en-jap"
    directory.mkdir()
    for side, lang in (("source", "en"), ("target", "ja")):
        lines = (corpus_dir / f"train.{lang}").read_text(encoding="utf-8").splitlines()[:2000]
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_prefix=str(directory / side),
            vocab_size=600,
            minloglevel=2,
            character_coverage=0.98,
            hard_vocab_limit=False,
        )
        (directory / f"{side}.model").rename(directory / f"{side}.spm")
    pieces = ["</s>", "<unk>"]
    for side in ("source", "target"):
        processor = sentencepiece.SentencePieceProcessor(model_file=str(directory / f"{side}.spm"))
        pieces += [p for p in map(processor.id_to_piece, range(processor.get_piece_size())) if p not in pieces]
    vocab = {piece: i for i, piece in enumerate([p for p in pieces if p != "<s>"] + ["<pad>"])}
    (directory / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    pad = vocab["<pad>"]
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.MarianMTModel(config)
    model.generation_config.max_length = 12  # an untrained model rarely stops by itself
    model.save_pretrained(directory)
    tokenizer = transformers.MarianTokenizer(
        source_spm=str(directory / "source.spm"), target_spm=str(directory / "target.spm"),
        vocab=str(directory / "vocab.json"), source_lang="en", target_lang="ja",
    )  # fmt: skip
    tokenizer.save_pretrained(directory)
    return directory


def test_a_transformers_directory_loads_behind_the_translator_interface(marian_dir):
    sentences = ["I am Tom.", "Hello, how are you?", ""]
    translator = Translator.load(marian_dir, device="cpu")
    assert isinstance(translator, TransformersTranslator) and translator.direction == ("en", "ja")
    theirs = transformers.pipeline("translation", model=str(marian_dir), device="cpu")
    expected = [t["translation_text"] for t in theirs(sentences[:2], num_beams=1)]
    assert translator.translate(sentences, beam_size=1) == expected + [""]
    assert pipeline("translation_en_to_ja", model=marian_dir)(sentences[0])[0]["translation_text"] == expected[0]
    n_best = translator.translate_n_best(sentences[:1], 3, beam_size=3)[0]
    assert len(n_best) == 3 and [c.score for c in n_best] == sorted((c.score for c in n_best), reverse=True)
    with pytest.raises(HonyakuError, match="reads and writes natural text"):
        translator.translate(sentences, pretokenized=True)


def test_evaluate_scores_a_transformers_model_on_natural_text(marian_dir, corpus_dir, capsys, tmp_path):
    hypotheses = tmp_path / "test.hyp"
    model = f"hf:{marian_dir}"  # the hub form, which takes a local directory too
    arguments = ["evaluate", "-m", model, "--split", "test", "--data-dir", str(corpus_dir)]
    assert main([*arguments, "--hyp-out", str(hypotheses)]) == 0
    printed = capsys.readouterr().out
    assert "500 sentences (test), greedy search" in printed and "sacrebleu tokenize=ja-mecab" in printed
    assert "tok:ja-mecab" in printed and "chrF2" in printed
    assert len(hypotheses.read_text(encoding="utf-8").splitlines()) == 500


def test_directions_from_names_and_a_clear_error_offline(monkeypatch):
    assert direction_of("Helsinki-NLP/opus-mt-en-jap", None) == ("en", "ja")
    assert direction_of("Helsinki-NLP/opus-mt-ja-en", None) == ("ja", "en")
    assert direction_of("facebook/m2m100_418M", None) is None
    # Offline as a machine without network is, but at once: both libraries read HF_HUB_OFFLINE at import.
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("transformers.utils.hub._is_offline_mode", True)
    with pytest.raises(HonyakuError, match=r"hf:nobody/opus-mt-en-ja: cannot load a transformers seq2seq model"):
        Translator.load("hf:nobody/opus-mt-en-ja")
