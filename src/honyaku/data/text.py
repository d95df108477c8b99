"""Turning what a user types into the model's tokens, and the model's tokens into natural text.

Each language has a processor. The built-in corpus is tokenized the way these processors tokenize, so a
model trained on it reads raw text: "I don't know." → ``i don 't know .``, and writes natural text:
``私 は トム です 。`` → 「私はトムです。」. ``pretokenized`` reads and writes the corpus's own tokens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, cached_property
from typing import TYPE_CHECKING

from honyaku.core.errors import HonyakuError, needs_extra
from honyaku.data import moses

if TYPE_CHECKING:
    from honyaku.core.data_config import DataConfig

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text any tokenizer can take: lone surrogates become U+FFFD, every kind of white space (tabs, line
    separators, the Ogham space mark …) becomes a space, and other control and format characters (NUL, BEL,
    BOM, zero-width spaces) are dropped."""
    text = _SURROGATE.sub("\ufffd", text)
    return "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf")
    )


def split_tokens(sentence: str) -> list[str]:
    """Corpus tokens from pre-tokenized text (training data, references)."""
    return sentence.split()


def join_tokens(tokens: list[str]) -> str:
    """Tokens as pre-tokenized text: separated by spaces."""
    return " ".join(tokens)


class Pretokenized:
    """Text already tokenized like the corpus: tokens separated by whitespace."""

    name = "pretokenized"
    tokenize = staticmethod(split_tokens)
    detokenize = staticmethod(join_tokens)


# Typographic variants that NFKC leaves alone, and the ASCII forms the corpus uses (the export's tokenizer
# maps them too).
ENGLISH_PUNCTUATION = {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"}
_ENGLISH_PUNCTUATION = str.maketrans(ENGLISH_PUNCTUATION)
_SENTENCE_START = re.compile(r"(^\W*|[.!?]\s+\W*)([a-z])")  # past an opening quote or bracket
# Text already tokenized like the corpus ("don 't", "it 's") must tokenize to itself, so detached clitics
# are re-attached before Moses, which would otherwise read " 's" as a quote.
_DETACHED_CLITIC = re.compile(r"(?<=\w) '(s|m|re|ve|ll|d|t|clock)\b")
_PRONOUN_I = re.compile(r"\bi\b(?=$|[\s'.,!?;:])")


class English:
    """small_parallel_enja's English: Moses-style tokens ("don 't", "o 'clock", '' for quotes), lowercased."""

    name = "english"

    def __init__(self, casing: dict[str, str] | None = None) -> None:
        """``casing`` maps lowercased names to their written form (honyaku.data.casing)."""
        self.casing = casing or {}

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", clean(text)).translate(_ENGLISH_PUNCTUATION)
        text = _DETACHED_CLITIC.sub(r"'\1", text.replace("''", '"').replace("``", '"'))
        # Case decides sentence boundaries ("No. I'm" splits, "no. 5" does not), so lowercase afterwards.
        tokens = moses.tokenize(text)
        return ["''" if token == '"' else token.lower() for token in tokens]

    def detokenize(self, tokens: list[str]) -> str:
        tokens = ['"' if token == "''" else self.casing.get(token, token) for token in tokens]
        text = moses.detokenize(tokens)
        text = _PRONOUN_I.sub("I", text)
        return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


LATIN_OR_DIGIT = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"  # a regular expression class: Japanese keeps spaces between these
_LATIN_OR_DIGIT = re.compile(f"[{LATIN_OR_DIGIT}]")
# The corpus writes Latin letters, digits, ? and ! in their full-width forms (１０, ｃｄ, ？).
_FULL_WIDTH = str.maketrans(
    {c: chr(ord(c) + 0xFEE0) for c in "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ?!"}
)


class Japanese:
    """small_parallel_enja's Japanese: words separated by spaces, full-width digits, Latin and punctuation.

    Input is segmented with MeCab (fugashi) and UniDic-lite, the closest to the corpus's KyTea segmentation
    of the analysers that install from PyPI with their dictionary (token F1 0.794 on dev.ja; SudachiPy 0.788).
    """

    name = "japanese"

    @cached_property
    def _tagger(self):
        """MeCab, loaded on first use: a processor that only writes Japanese (en→ja output) never needs it."""
        with needs_extra("segmenting Japanese input into this model's words"):
            import fugashi
            import unidic_lite  # noqa: F401  (fugashi finds the dictionary through it)
        return fugashi.Tagger()

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", clean(text)).lower()
        return [word.surface.translate(_FULL_WIDTH) for word in self._tagger(text)]

    def proper_nouns(self, text: str) -> set[str]:
        """The words UniDic tags as proper nouns (固有名詞): names of people, places, organisations."""
        return {word.surface for word in self._tagger(clean(text)) if word.feature.pos2 == "固有名詞"}

    def detokenize(self, tokens: list[str]) -> str:
        """Join without spaces, except one between adjacent Latin words or numbers (「ｔｈａｎｋ ｙｏｕ」)."""
        text = ""
        for token in tokens:
            if text and _LATIN_OR_DIGIT.match(token[0]) and _LATIN_OR_DIGIT.match(text[-1]):
                text += " "
            text += token
        return text


class Text:
    """Text as people write it, for a model whose SentencePiece model does all the segmenting (the modern way,
    and the one that exports whole to transformers' tokenizers): Unicode's canonical form (NFC; full- and
    half-width forms stay as written, as references write them), control and format characters dropped, case
    and punctuation kept. Its words are what white space separates, and translations join them with single
    spaces: in Japanese, which has none, a sentence is one word. Needs neither MeCab nor Moses."""

    name = "text"

    def tokenize(self, text: str) -> list[str]:
        return unicodedata.normalize("NFC", clean(text)).split()

    detokenize = staticmethod(join_tokens)


PROCESSORS = {"pretokenized": Pretokenized, "english": English, "japanese": Japanese, "text": Text}
LANGUAGE_PROCESSORS = {"en": "english", "ja": "japanese"}


def processor_for(language: str) -> str:
    """The processor a language gets by default: its own where honyaku has one, else pretokenized text."""
    return LANGUAGE_PROCESSORS.get(language, "pretokenized")


def processor_names(data: DataConfig) -> tuple[str, str]:
    """The source and target processors of a data config: as given, else by language."""
    return data.src_processor or processor_for(data.src_lang), data.tgt_processor or processor_for(data.tgt_lang)


def dev_bleu_tokenizer(data: DataConfig) -> str:
    """How dev BLEU tokenizes (sacrebleu's name): not at all where the target's words are tokens (a corpus's, or
    a language processor's), with the target language's tokenizer where they are text as written (the ``text``
    processor, whose Japanese sentence is one word)."""
    from honyaku.core.metrics import natural_text_tokenizer  # sacrebleu (and NumPy): 0.2 s that translating never needs

    return natural_text_tokenizer(data.tgt_lang) if processor_names(data)[1] == "text" else "none"


@cache
def get_processor(name: str) -> Pretokenized | English | Japanese | Text:
    try:
        return PROCESSORS[name]()
    except KeyError:
        raise HonyakuError(f"unknown text processor {name!r}; known: {', '.join(PROCESSORS)}") from None
