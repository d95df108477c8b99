"""Any text a user can send reaches a translation, an empty string, or one clear error — in Python and over HTTP.

Each property runs a CI-sized number of generated inputs; ``HONYAKU_HYPOTHESIS_SCALE=N`` multiplies them all
(the long run in the README: N=20 gives 11,000 inputs in one run of the suite).
"""

import copy
import dataclasses
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from honyaku import Translator
from honyaku.core.errors import HonyakuError
from honyaku.data.language import identify
from honyaku.data.sentences import parts_within
from honyaku.data.text import clean
from honyaku.training.trainer import train

from .conftest import hypothesis_examples, toy_config

# Every code point, lone surrogates included; plus runs of the troublesome kinds, so that they meet often.
ANY_CHARACTER = st.characters(codec=None)
TROUBLE = st.sampled_from(
    ["\x00", "\u200b", "\ufeff", "\u202e", "\u0301", "😀", "👩\u200d👩\u200d👧", "\ud800", "مرحبا", "\t\r\n", " "]
)
TEXT = st.lists(st.one_of(st.text(ANY_CHARACTER, max_size=20), TROUBLE), max_size=12).map("".join)


@pytest.fixture(scope="module")
def english_translator(tmp_path_factory):
    """A tiny model reading raw English and writing Japanese-style text: the real processors on both sides."""
    tmp_path = tmp_path_factory.mktemp("english")
    config = toy_config(
        tmp_path,
        data={"src_processor": "english", "tgt_processor": "japanese", "train_limit": 300},
        model={"arch": "attention", "embed_dim": 16, "hidden_size": 32},
        training={"max_epochs": 1},
    )
    train(config, tmp_path / "run", progress_bar=False)
    return Translator.load(tmp_path / "run", device="cpu")


@settings(max_examples=hypothesis_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
@example(texts=["\x1b\r\x08"])  # two lines of what cleaning removes: once translated to a line break
def test_the_translator_takes_any_text(english_translator, texts):
    translations = english_translator.translate(texts, beam_size=2)
    assert len(translations) == len(texts) and all(isinstance(t, str) for t in translations)
    for text, translation in zip(texts, translations, strict=True):
        if not english_translator.source_tokens(text, pretokenized=False):
            assert translation == ""  # nothing to translate once cleaned: empty in, empty out


def test_an_over_long_sentence_is_translated_in_parts_unless_refusing_is_asked_for(english_translator):
    long = "fine, " * 300 + "and " + "good " * 200 + "end."  # one sentence of 2,808 characters
    parts = parts_within(long, 1000, "en")
    assert all(len(part) <= 1000 for part in parts) and " ".join(parts) == long
    assert parts[0].endswith("fine,") and len(parts[0]) > 990  # after as many clauses as fit
    assert parts[-2].startswith("and good") and parts[-1] == "good end."  # a longer clause, at its last space
    assert english_translator.translate(["fine", long])[1] == " ".join(english_translator.translate(parts))
    assert parts_within("x" * 2500, 1000, "ja") == ["x" * 1000, "x" * 1000, "x" * 500]  # no clause, no space
    refusing = copy.copy(english_translator)
    refusing.config = dataclasses.replace(
        english_translator.config, decoding=dataclasses.replace(english_translator.decoding, long_sentences="refuse")
    )
    with pytest.raises(HonyakuError, match=r"^text 2: sentence 1 has 2,808 characters; the limit is 1,000"):
        refusing.translate(["fine", long])
    with pytest.raises(HonyakuError, match=r"^sentence 2 has 100,000 characters; the limit is 1,000"):
        english_translator.translate(["fine", "x" * 100_000], split_sentences=False)


@settings(max_examples=hypothesis_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(TEXT, st.text(ANY_CHARACTER, min_size=40, max_size=80)))
def test_the_api_answers_any_text_with_200_or_413(server, text):
    client, translator, _ = server
    body = json.dumps({"text": text})  # lone surrogates travel as \\ud800 escapes
    response = client.post("/translate", content=body, headers={"content-type": "application/json"})
    if len(text) > 50:
        assert response.status_code == 413 and "the limit is 50" in response.json()["detail"]
    else:
        assert response.status_code == 200, response.text
        answer = response.json()["translations"][0]
        # a text with letters is translated; one of numbers, emoji or symbols alone is no language's, left as it is
        assert answer["translation"] == (translator.translate([text])[0] if "direction" in answer else clean(text))
        assert ("direction" in answer) == (identify(text) is not None or not text.strip())


@settings(max_examples=hypothesis_examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=60))
def test_the_api_answers_any_bytes_with_a_4xx_or_a_translation(server, body):
    client, _, _ = server
    response = client.post("/translate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200 or (400 <= response.status_code < 500 and response.json()["detail"])
