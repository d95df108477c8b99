"""Raw text ↔ corpus tokens, measured against small_parallel_enja itself."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honyaku import HonyakuError
from honyaku.core.data_config import DataConfig
from honyaku.data.text import dev_bleu_tokenizer, get_processor, processor_for

from .conftest import hypothesis_examples

ENGLISH = get_processor("english")
JAPANESE = get_processor("japanese")
TEXT = get_processor("text")


def corpus_lines(corpus_dir, *names):
    return [line for name in names for line in (corpus_dir / name).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("I am Tom.", "i am tom ."),
        ("Hello, how are you?", "hello , how are you ?"),
        ("I don’t know what “o’clock” means!", "i don 't know what '' o 'clock '' means !"),
        ("No. I'm sorry, I've got to go.", "no . i 'm sorry , i 've got to go ."),
        ("It's 5 miles — an out-of-the-way village...", "it 's 5 miles - an out-of-the-way village ..."),
        ("  ", ""),
    ],
)
def test_english_input_is_tokenized_like_the_corpus(raw, tokens):
    assert ENGLISH.tokenize(raw) == tokens.split()


def test_english_tokens_tokenize_to_themselves(corpus_dir):
    lines = corpus_lines(corpus_dir, "dev.en", "test.en")
    assert [ENGLISH.tokenize(line) for line in lines] == [line.split() for line in lines]


def test_english_output_reads_naturally():
    assert (
        ENGLISH.detokenize("i don 't think so . he said , '' stop . ''".split())
        == 'I don\'t think so. He said, "stop."'
    )
    assert ENGLISH.detokenize("it 's nine o 'clock .".split()) == "It's nine o'clock."


def test_english_round_trip_keeps_the_corpus_tokens(corpus_dir):
    """Natural text made from dev/test tokens normalises back to exactly those tokens (issue target ≥ 98%)."""
    lines = corpus_lines(corpus_dir, "dev.en", "test.en")
    exact = sum(ENGLISH.tokenize(ENGLISH.detokenize(line.split())) == line.split() for line in lines)
    assert exact / len(lines) >= 0.98, f"{exact}/{len(lines)}"


def test_japanese_output_is_joined_like_natural_text():
    assert JAPANESE.detokenize("私 は トム です 。".split()) == "私はトムです。"
    assert (
        JAPANESE.detokenize("日本 語 で 「 ｔｈａｎｋ ｙｏｕ 」 を 言 う 。".split())
        == "日本語で「ｔｈａｎｋ ｙｏｕ」を言う。"
    )
    assert JAPANESE.detokenize("１０ 時 に ｃｄ を 買 う".split()) == "１０時にｃｄを買う"
    assert JAPANESE.detokenize([]) == ""


def test_japanese_input_takes_the_corpus_forms():
    assert JAPANESE.tokenize("私はトムです。") == ["私", "は", "トム", "です", "。"]
    assert JAPANESE.tokenize("CDを10枚買った?") == ["ｃｄ", "を", "１０", "枚", "買っ", "た", "？"]
    assert JAPANESE.tokenize(" ") == []


def test_japanese_segmentation_is_close_to_the_corpus(corpus_dir):
    """Token F1 of the segmentation of de-spaced dev.ja against the corpus's own (KyTea) segmentation."""

    def spans(tokens):
        ends, position = set(), 0
        for token in tokens:
            ends.add((position, position + len(token)))
            position += len(token)
        return ends

    matched = predicted = gold = 0
    for line in corpus_lines(corpus_dir, "dev.ja"):
        reference, ours = spans(line.split()), spans(JAPANESE.tokenize(line.replace(" ", "")))
        matched, predicted, gold = matched + len(reference & ours), predicted + len(ours), gold + len(reference)
    f1 = 2 * matched / (predicted + gold)
    assert f1 >= 0.79, f"token F1 {f1:.3f}"


def test_the_text_processor_keeps_text_as_written_for_sentencepiece():
    assert TEXT.tokenize("Hello,  how are you?\u3000I'm Ｔｏｍ.") == ["Hello,", "how", "are", "you?", "I'm", "Ｔｏｍ."]
    assert TEXT.tokenize("私は１０時に起きます。") == [
        "私は１０時に起きます。"
    ]  # full-width kept: references write it so
    assert TEXT.tokenize("か\u3099") == ["が"]  # but one form of a character that Unicode composes
    assert (
        TEXT.detokenize(["私はトムです。"]) == "私はトムです。" and TEXT.detokenize(["I", "am", "Tom."]) == "I am Tom."
    )


def test_dev_bleu_tokenizes_text_as_written_and_leaves_tokens_alone():
    assert dev_bleu_tokenizer(DataConfig(src_processor="text", tgt_processor="text")) == "ja-mecab"
    assert dev_bleu_tokenizer(DataConfig(src_lang="ja", tgt_lang="en", tgt_processor="text")) == "13a"
    assert dev_bleu_tokenizer(DataConfig()) == "none"


def test_processors_by_language_and_unknown_names():
    assert (processor_for("en"), processor_for("ja"), processor_for("de")) == ("english", "japanese", "pretokenized")
    with pytest.raises(HonyakuError, match="unknown text processor 'klingon'"):
        get_processor("klingon")


@settings(max_examples=hypothesis_examples(300), deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=80))
def test_any_text_tokenizes_without_error(text):
    """Control characters, surrogates, emoji, RTL and mixed scripts: tokens, never an exception."""
    for processor in (ENGLISH, JAPANESE, TEXT):
        tokens = processor.tokenize(text)
        assert all(token and not any(char.isspace() for char in token) for token in tokens)
        assert isinstance(processor.detokenize(tokens), str)


@pytest.mark.parametrize("processor", [ENGLISH, JAPANESE, TEXT], ids=["english", "japanese", "text"])
def test_hostile_characters_are_cleaned(processor):
    assert processor.tokenize("\x00\u200b\ufeff\t\r\n") == []
    assert processor.tokenize("\ud800") == ["\ufffd"]
    assert len(processor.tokenize("a\u1680b\u2028c")) == 3  # white space that NFKC leaves alone splits too
    assert len(processor.tokenize("a" * 10_000)) >= 1  # longer input is refused by the Translator
