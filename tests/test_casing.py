import pytest

from honyaku.core.errors import HonyakuError
from honyaku.data.casing import learn_casing, load_casing, save_casing
from honyaku.data.text import English


def test_names_are_learned_from_the_japanese_side(corpus_dir):
    english = [line.split() for line in (corpus_dir / "train.en").read_text(encoding="utf-8").splitlines()[:10000]]
    japanese = [line.split() for line in (corpus_dir / "train.ja").read_text(encoding="utf-8").splitlines()[:10000]]
    table = learn_casing(english, japanese)
    for name in ("tom", "mary", "japan", "tokyo", "mr"):
        assert table[name] == name.capitalize()
    for word in ("the", "is", "pen", "in", "english", "book"):
        assert word not in table


def test_casing_applies_to_output():
    english = English({"tom": "Tom", "tokyo": "Tokyo", "mr": "Mr", "brown": "Brown"})
    assert english.detokenize("i 'm tom .".split()) == "I'm Tom."
    assert english.detokenize("mr brown lives in tokyo .".split()) == "Mr Brown lives in Tokyo."
    assert English().detokenize("i 'm tom .".split()) == "I'm tom."


def test_casing_file_round_trip_and_errors(tmp_path):
    save_casing({"tom": "Tom", "osaka": "Osaka"}, tmp_path / "casing.tsv")
    assert load_casing(tmp_path / "casing.tsv") == {"tom": "Tom", "osaka": "Osaka"}
    (tmp_path / "bad.tsv").write_text("tom\tTom\njohn Smith\n")
    with pytest.raises(HonyakuError, match=r"bad\.tsv:2: expected 'word<TAB>Word'"):
        load_casing(tmp_path / "bad.tsv")
