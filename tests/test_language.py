"""Language identification: the language of a sentence, not of the word it quotes; romaji, other languages and
scripts told apart; at least 98% right on examples/languages.tsv."""

import pytest

from honyaku.data.language import identify

from .conftest import REPO


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I love 寿司 very much.", "en"),  # one kanji made a text Japanese
        ("Tokyo は大きい", "ja"),
        ("トイレはどこですか？", "ja"),
        ("Good night.", "en"),
        ("おやすみなさい。", "ja"),
        ("watashi wa gakusei desu", "ja-Latn"),
        ("안녕하세요", "ko"),
        ("我们是学生。", "zh"),
        ("Je suis étudiant et je parle français.", "und-Latn"),
        ("ＯＫ！", "ja"),
    ],
)
def test_a_text_reads_as_the_language_of_its_sentence(text, language):
    assert identify(text).code == language


def test_a_text_without_letters_reads_as_none():
    assert [identify(text) for text in ("123", "😀👍", "¥1,000", "", "   ")] == [None] * 5


def test_at_least_98_percent_of_the_examples_are_read_right(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from languages import identified, read_texts  # bench/languages.py measures the same for RESULTS.md

    texts = read_texts()
    assert len(texts) >= 200 and {"en", "ja", "ja-Latn", "none", "und-Latn", "zh", "ko"} <= {t[0] for t in texts}
    right = sum(identified(text) == language for language, text in texts)
    assert right / len(texts) >= 0.98, f"{right} of {len(texts)}"
