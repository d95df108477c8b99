import pytest

from honyaku.config import DataConfig, SubwordConfig
from honyaku.errors import HonyakuError
from honyaku.subwords import SentencePieceModel, load_subwords, prepare_subwords, train_subwords


def corpus_words(corpus_dir, name, limit=None):
    lines = (corpus_dir / name).read_text(encoding="utf-8").splitlines()[:limit]
    return [line.split() for line in lines]


@pytest.mark.parametrize("model", ["unigram", "bpe"])
def test_pieces_join_back_to_the_words(corpus_dir, model):
    subwords = SentencePieceModel(
        train_subwords(
            corpus_words(corpus_dir, "train.ja", 5000),
            SubwordConfig(model=model, vocab_size=1500, character_coverage=0.9995),
        ),
        "test",
    )
    dev = corpus_words(corpus_dir, "dev.ja")
    pieces = [subwords.split(words) for words in dev]
    assert [subwords.join(p) for p in pieces] == dev  # lossless, unseen words included
    assert sum(map(len, pieces)) > sum(map(len, dev))  # rarer words come in several pieces
    assert subwords.split([]) == [] and subwords.join([]) == []


def test_run_directory_keeps_its_subword_models(corpus_dir, tmp_path):
    data = DataConfig(subwords=SubwordConfig(vocab_size=1500, joint=True, character_coverage=0.9995))
    src, tgt = corpus_words(corpus_dir, "train.en", 2000), corpus_words(corpus_dir, "train.ja", 2000)
    trained = prepare_subwords(data, tmp_path, src, tgt, resume=False)
    loaded = load_subwords(data, tmp_path)
    assert (tmp_path / "src.spm.model").read_bytes() == (tmp_path / "tgt.spm.model").read_bytes()  # joint
    assert [m.split(src[0] + tgt[0]) for m in trained] == [m.split(src[0] + tgt[0]) for m in loaded]
    (tmp_path / "tgt.spm.model").write_bytes(b"garbage")
    with pytest.raises(HonyakuError, match=r"tgt\.spm\.model: not a SentencePiece model"):
        load_subwords(data, tmp_path)
    (tmp_path / "src.spm.model").unlink()
    with pytest.raises(HonyakuError, match=r"src\.spm\.model: subword model not found"):
        load_subwords(data, tmp_path)
