import random

import pytest

from honyaku.core.data_config import DataConfig, SubwordConfig
from honyaku.core.errors import HonyakuError
from honyaku.data.encoding import sample_texts
from honyaku.data.subwords import SentencePieceModel, learn_subwords, load_subwords, text_readers, train_subwords
from honyaku.data.text import get_processor
from honyaku.modeldir import subword_paths


def corpus_words(corpus_dir, name, limit=None):
    lines = (corpus_dir / name).read_text(encoding="utf-8").splitlines()[:limit]
    return [line.split() for line in lines]


@pytest.mark.parametrize("model", ["unigram", "bpe"])
def test_pieces_join_back_to_the_words(corpus_dir, model):
    subwords = SentencePieceModel(
        train_subwords(
            [" ".join(words) for words in corpus_words(corpus_dir, "train.ja", 5000)],
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
    trained = learn_subwords(data, subword_paths(tmp_path), [[" ".join(words) for words in src + tgt]])
    loaded = load_subwords(data, subword_paths(tmp_path))
    assert (tmp_path / "src.spm.model").read_bytes() == (tmp_path / "tgt.spm.model").read_bytes()  # joint
    trained = [SentencePieceModel(model, "trained") for model in trained]
    assert [m.split(src[0] + tgt[0]) for m in trained] == [m.split(src[0] + tgt[0]) for m in loaded]
    (tmp_path / "tgt.spm.model").write_bytes(b"garbage")
    with pytest.raises(HonyakuError, match=r"tgt\.spm\.model: not a SentencePiece model"):
        load_subwords(data, subword_paths(tmp_path))
    (tmp_path / "src.spm.model").unlink()
    with pytest.raises(HonyakuError, match=r"src\.spm\.model: subword model not found"):
        load_subwords(data, subword_paths(tmp_path))


def test_a_source_read_as_text_ignores_how_its_words_were_segmented(corpus_dir, tmp_path):
    data = DataConfig(
        src_lang="ja",
        tgt_lang="en",
        subwords=SubwordConfig(vocab_size=1500, character_coverage=0.9995, source_as_text=True),
    )
    src, tgt = corpus_words(corpus_dir, "train.ja", 2000), corpus_words(corpus_dir, "train.en", 2000)
    src_text_of, tgt_text_of = text_readers(data)
    learn_subwords(data, subword_paths(tmp_path), [list(map(src_text_of, src)), list(map(tgt_text_of, tgt))])
    source, target = load_subwords(data, subword_paths(tmp_path))
    japanese = get_processor("japanese")
    dev = corpus_words(corpus_dir, "dev.ja")
    # What a user types, segmented by MeCab: it differs from the corpus's KyTea words in most sentences.
    mecab = [japanese.tokenize(japanese.detokenize(words)) for words in dev]
    assert sum(ours != corpus for ours, corpus in zip(mecab, dev)) > len(dev) / 2
    assert [source.split(words) for words in mecab] == [source.split(words) for words in dev]
    english = corpus_words(corpus_dir, "dev.en")
    assert [target.join(target.split(words)) for words in english] == english  # the target side keeps its words


def test_sentencepiece_learns_from_a_fixed_sample_of_a_large_corpus(corpus_dir, tmp_path):
    english, japanese = ((corpus_dir / f"train.{lang}").read_text().splitlines()[:3000] for lang in ("en", "ja"))
    words = (tmp_path / "words.src", tmp_path / "words.tgt")
    for path, lines in zip(words, (english, japanese)):
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def samples(**settings):
        return sample_texts(words, 3000, DataConfig(subwords=SubwordConfig(**settings)))

    assert samples(joint=True, max_sentences=500) == [random.Random(0).sample(english + japanese, 500)]
    assert samples(max_sentences=500) == [random.Random(0).sample(side, 500) for side in (english, japanese)]
    assert samples(joint=True, max_sentences=None) == [english + japanese]
    sampled = samples(max_sentences=500)[0]
    assert train_subwords(sampled, SubwordConfig(vocab_size=300)) == train_subwords(
        sampled, SubwordConfig(vocab_size=300)
    )
