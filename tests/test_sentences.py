"""Texts of several sentences and lines are translated a sentence at a time and joined as the target language
writes them: by the Python API, the pipeline, the CLI and the server, unless told not to."""

import pytest

from honyaku import Translator, pipeline
from honyaku.apps.cli import main
from honyaku.data.sentences import join_sentences, split_sentences
from honyaku.inference.pretrained import pretrained_model

from .conftest import REPO, running

PARAGRAPH_EN = "I am Tom. I live in Tokyo. I like cats very much, and my sister likes dogs."
PARAGRAPH_JA = "私はトムです。東京に住んでいます。猫がとても好きです。"


def test_english_and_japanese_text_splits_into_its_sentences_and_lines():
    english = 'Mr. Smith paid $3.50 for it, e.g. a pen! Really?  "Yes." He left.\n\nThanks.'
    assert split_sentences(english, "en") == [
        ["Mr. Smith paid $3.50 for it, e.g. a pen!", "Really?", '"Yes."', "He left."],
        [],
        ["Thanks."],
    ]
    japanese = "私はトムです。東京に住んでいます！本当？「こんにちは。元気？」と彼は言った。猫が好き"
    assert split_sentences(japanese, "ja") == [
        ["私はトムです。", "東京に住んでいます！", "本当？", "「こんにちは。元気？」と彼は言った。", "猫が好き"]
    ]
    assert split_sentences("w1 . w2 .", "xx") == [["w1 . w2 ."]]  # a language pysbd does not know: whole
    assert split_sentences("", "en") == split_sentences("\r \n", "en") == [[]]
    assert split_sentences("\nHi.\r\n\u2028Bye. Now.\n\n", "en") == [["Hi."], ["Bye.", "Now."]]


def test_translated_sentences_are_joined_as_the_target_language_writes():
    assert join_sentences([["私はトムです。", "猫が好きです。"], [], ["ありがとう。"]], "ja") == (
        "私はトムです。猫が好きです。\n\nありがとう。"
    )
    assert join_sentences([["I am Tom.", "I like cats."]], "en") == "I am Tom. I like cats."
    assert join_sentences([[""], ["Thanks."], [""]], "en") == "Thanks."  # lines that translated to nothing
    assert join_sentences([[""], [""]], "ja") == ""


def test_the_bundled_models_keep_every_sentence_of_a_paragraph():
    en_ja = Translator.load(pretrained_model(("en", "ja")), device="cpu")
    (japanese,) = en_ja.translate([PARAGRAPH_EN])
    assert japanese.count("。") == 3 and "\n" not in japanese and " " not in japanese
    assert japanese.startswith(en_ja.translate(["I am Tom."])[0])
    assert en_ja.translate(["Hello!\nThank you."])[0].count("\n") == 1  # line breaks kept
    ja_en = Translator.load(pretrained_model(("ja", "en")), device="cpu")
    (english,) = ja_en.translate([PARAGRAPH_JA])
    assert english.count(". ") == 2 and english.endswith(".")


def test_the_n_best_of_a_paragraph_join_its_sentences_n_best():
    en_ja = Translator.load(pretrained_model(("en", "ja")), device="cpu")
    sentences = PARAGRAPH_EN.split(". ")
    sentences = [s if s.endswith(".") else s + "." for s in sentences]
    each = en_ja.translate_n_best(sentences, n_best=2, beam_size=4)
    joined = en_ja.translate_n_best([PARAGRAPH_EN], n_best=2, beam_size=4)[0]
    for k in range(2):
        assert joined[k].text == "".join(found[k].text for found in each)
        assert joined[k].score == pytest.approx(sum(found[k].score for found in each))


def test_the_pipeline_the_cli_and_the_server_split_unless_told_not_to(shared_run, capsys):
    translator = Translator.load(shared_run, device="cpu")
    split, whole = (translator.translate([PARAGRAPH_EN], split_sentences=flag)[0] for flag in (True, False))
    assert split != whole  # the tiny model translates the paragraph differently from its sentences
    translate = pipeline("translation", model=shared_run, device="cpu")
    assert translate(PARAGRAPH_EN) == [{"translation_text": split}]
    assert translate(PARAGRAPH_EN, split_sentences=False) == [{"translation_text": whole}]
    for flags, expected in (([], split), (["--no-split"], whole)):
        main(["translate", "-m", str(shared_run), "--device", "cpu", *flags, PARAGRAPH_EN])
        assert capsys.readouterr().out == f"{expected}\n"

    from honyaku.apps.serve import Limits, create_app

    with running(create_app([translator], Limits())) as client:
        for flag, expected in ((True, split), (False, whole)):
            body = {"text": PARAGRAPH_EN, "split_sentences": flag}
            assert client.post("/translate", json=body).json()["translations"][0]["translation"] == expected


@pytest.mark.parametrize(
    ("text", "language", "sentences"),
    [
        ("My name is Ken. I work at a bank in Tokyo.", "en", ["My name is Ken.", "I work at a bank in Tokyo."]),
        ("He is ill. He can't come.", "en", ["He is ill.", "He can't come."]),
        ("Mr. Smith is here. He waits.", "en", ["Mr. Smith is here.", "He waits."]),  # titles stay abbreviations
        ("Great job! 😀 See you.", "en", ["Great job! 😀", "See you."]),
        ("Great! $5 is cheap.", "en", ["Great!", "$5 is cheap."]),
        ("「走れ！」誰も聞かなかった。", "ja", ["「走れ！」", "誰も聞かなかった。"]),
        ("彼は「ありがとう」と言った。それから帰った。", "ja", ["彼は「ありがとう」と言った。", "それから帰った。"]),
    ],
)
def test_names_emoji_and_quotations_split_where_sentences_end(text, language, sentences):
    assert split_sentences(text, language) == [sentences]


def test_at_least_97_percent_of_the_example_texts_split_exactly_right(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from sentences import read_texts, text_of  # bench/sentences.py measures the same for RESULTS.md

    texts = read_texts()
    assert len(texts) >= 200 and {language for language, _ in texts} == {"en", "ja"}
    right = sum(split_sentences(text_of(language, found), language) == [found] for language, found in texts)
    assert right / len(texts) >= 0.97, f"{right} of {len(texts)}"
