import pytest

from honyaku.core.errors import HonyakuError
from honyaku.data.vocabulary import SPECIALS, Vocabulary

SENTENCES = [["a", "b", "b", "c"], ["c", "b", "d"], ["e"]]


def test_build_orders_by_frequency_then_token_after_specials():
    vocab = Vocabulary.build(SENTENCES)
    assert vocab.tokens == [*SPECIALS, "b", "c", "a", "d", "e"]
    assert Vocabulary.build(SENTENCES, min_freq=2).tokens == [*SPECIALS, "b", "c"]
    assert Vocabulary.build(SENTENCES, max_size=3).tokens == [*SPECIALS, "b", "c", "a"]


def test_encode_decode():
    vocab = Vocabulary.build(SENTENCES)
    ids = vocab.encode(["a", "zzz", "b"], add_bos=True, add_eos=True)
    assert ids == [vocab.bos_id, 6, vocab.unk_id, 4, vocab.eos_id]
    assert vocab.decode(ids + [5, 5]) == ["a", "<unk>", "b"]  # stops at </s>
    assert vocab.decode([vocab.pad_id, 4]) == ["b"]


def test_save_load_round_trip_and_errors(tmp_path):
    vocab = Vocabulary.build(SENTENCES + [["日本語", "<s>"]])
    vocab.save(tmp_path / "v.txt")
    assert Vocabulary.load(tmp_path / "v.txt").tokens == vocab.tokens
    (tmp_path / "bad.txt").write_text("a\nb\n")
    with pytest.raises(HonyakuError, match=r"bad\.txt: a vocabulary must start with <pad> <unk> <s> </s>"):
        Vocabulary.load(tmp_path / "bad.txt")
    with pytest.raises(HonyakuError, match="vocabulary file not found"):
        Vocabulary.load(tmp_path / "none.txt")
