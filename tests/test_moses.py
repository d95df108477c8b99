"""honyaku.data.moses against sacremoses, the port it follows: the same character tables, the same tokens and
the same text on the corpora and on generated input.

``python -m tests.test_moses`` rewrites ``src/honyaku/data/moses_tables.py`` from the installed sacremoses."""

import textwrap
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from honyaku.data import moses

from .conftest import hypothesis_examples

TABLES_FILE = Path(moses.__file__).with_name("moses_tables.py")


def code_point_ranges(chars) -> str:
    """Characters as inclusive code point ranges, ``"30-39 b2-b3 …"`` (hex)."""
    points = sorted({ord(char) for char in chars})
    ranges, start, end = [], points[0], points[0]
    for point in points[1:]:
        if point != end + 1:
            ranges.append((start, end))
            start = point
        end = point
    ranges.append((start, end))
    return " ".join(f"{a:x}" if a == b else f"{a:x}-{b:x}" for a, b in ranges)


def tables_source() -> str:
    """The text of moses_tables.py, made from sacremoses's tables."""
    import sacremoses
    from sacremoses.corpus import NonbreakingPrefixes, Perluniprops
    from sacremoses.indic import NUKTAS, VIRAMAS
    from sacremoses.util import CJKChars, is_cjk

    properties = Perluniprops()
    prefixes = [word.strip() for word in NonbreakingPrefixes().words("en")]
    numeric_only = [word.rpartition(" ")[0] for word in prefixes if " #NUMERIC_ONLY#" in word]
    # A prefix that splits never has a space, so the list's "No #NUMERIC_ONLY#" entries never match as such.
    always = sorted(set(prefixes) - set(numeric_only) - {word for word in prefixes if " " in word})

    cjk = CJKChars().ranges
    # is_cjk's ranges include both ends (sacremoses 0.1.1 left them out)
    assert all(is_cjk(chr(a)) and is_cjk(chr(b)) and not is_cjk(chr(a - 1)) for a, b in cjk)
    cjk_ranges = " ".join(f"{a:x}-{b:x}" for a, b in cjk)

    def constant(name: str, value: str, comment: str = "") -> list[str]:
        """``NAME = "value"``, or ``NAME = (`` the value in quoted lines of at most 100 characters ``)``."""
        if not comment and len(f'{name} = "{value}"') <= 120:
            return [f'{name} = "{value}"']
        lines = textwrap.wrap(value, 100, break_on_hyphens=False)
        quoted = [f'    "{line} "' for line in lines[:-1]] + [f'    "{lines[-1]}"']
        return [f"{name} = ({comment}", *quoted, ")"]

    def table(name: str) -> str:
        return code_point_ranges(properties.chars(name))

    version = sacremoses.__version__
    lines = [
        f'"""Moses\'s English tables, made by ``python -m tests.test_moses`` from sacremoses {version}: Perl\'s',
        "Unicode properties as inclusive code point ranges (hex), the CJK ranges of its detokenizer and its English",
        'nonbreaking prefixes. Do not edit."""',
        "",
        *constant("NUMBER", table("IsN")),
        *constant("ALPHA", table("IsAlpha")),
        *constant("ALNUM", table("IsAlnum")),
        *constant("LOWER", table("IsLower")),
        *constant("CURRENCY", table("IsSc")),
        *constant("INDIC_MARKS", code_point_ranges(VIRAMAS + NUKTAS), "  # viramas, nuktas: letters to the tokenizer"),
        *constant("CJK", cjk_ranges),
        *constant("NONBREAKING_PREFIXES", " ".join(always), "  # words, split at spaces"),
        *constant("NUMERIC_ONLY_PREFIXES", " ".join(sorted(set(numeric_only))), "  # before a number only: No. 5"),
        "",
    ]
    return "\n".join(lines)


def test_tables_are_sacremoses_tables():
    assert TABLES_FILE.read_text(encoding="utf-8") == tables_source(), "run python -m tests.test_moses"


@pytest.fixture(scope="module")
def sacremoses_english():
    from sacremoses import MosesDetokenizer, MosesTokenizer

    return MosesTokenizer(lang="en"), MosesDetokenizer(lang="en")


CASES = [
    'I am Tom. I don\'t know, "really" (5,300 $).',
    "Mr. Smith went to Washington... No. 5 is Art. 3, not pp. 7-9.",
    "It's the Joneses' house; 'tis 90's music, 1,000,000 yen.",
    "Hello,world ,'quoted' ''double'' `back` -- dash - e-mail: a@b.c #tag 100%",
    "Ё ё Ä ä ß İ ı Ω ω ½ ² ३ क्ष ক্ষ 東京 カタカナ 한국어 €5 ¥100 £2 ¿Qué? ¡Sí!",
    "U.S.A. e.g. i.e. etc. Dr. Who? St. Louis. A. B. c. d.",
    "The end.' ",
    "क्'s a्'् ক়.",  # a virama or nukta is a letter to the tokenizer
    "  \t multiple\u00a0 spaces\n and\x07 control \x1f characters ",
]


@pytest.mark.parametrize("text", CASES)
def test_tokens_are_sacremoses_tokens(text, sacremoses_english):
    tokenizer, detokenizer = sacremoses_english
    tokens = moses.tokenize(text)
    assert tokens == tokenizer.tokenize(text, escape=False)
    assert moses.detokenize(tokens) == detokenizer.detokenize(tokens)


def test_the_corpora_tokenize_and_detokenize_as_with_sacremoses(corpus_dir, tatoeba_dir, sacremoses_english):
    tokenizer, detokenizer = sacremoses_english
    tatoeba = [line.split("\t")[0] for line in (tatoeba_dir / "jpn.txt").read_text(encoding="utf-8").splitlines()]
    corpus = (corpus_dir / "test.en").read_text(encoding="utf-8").splitlines()
    for text in tatoeba[::15] + corpus:  # 3,000 everyday sentences, 500 of the corpus's tokens
        tokens = tokenizer.tokenize(text, escape=False)
        assert moses.tokenize(text) == tokens, text
        assert moses.detokenize(tokens) == detokenizer.detokenize(tokens), text


PIECES = st.one_of(
    st.sampled_from("aAzZ09 .,'\"`-;:!?()[]{}$€¥%&@#/\\|<>…“”„‘’¿¡\t়्"),
    st.sampled_from(["DOT", "MULTI", "No", "Mr", "pp", "s", "'s", "n't", "&amp;", " @-@ ", "&lt;", "&#124;"]),
    st.characters(codec="utf-8"),
)
TEXT = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=hypothesis_examples(600), deadline=None)
@given(text=TEXT)
@example(text="a..b... c.")
@example(text="No. 5. No. x")
def test_any_text_tokenizes_as_with_sacremoses(text, sacremoses_english):
    tokenizer, _ = sacremoses_english
    assert moses.tokenize(text) == tokenizer.tokenize(text, escape=False)


@settings(max_examples=hypothesis_examples(600), deadline=None)
@given(tokens=st.lists(st.lists(PIECES, min_size=1, max_size=3).map("".join), max_size=12))
@example(tokens=["'", "s", "'", "Jones", "'", "house", '"', "a", '"', "“", "b", "”"])
def test_any_tokens_detokenize_as_with_sacremoses(tokens, sacremoses_english):
    _, detokenizer = sacremoses_english
    assert moses.detokenize(tokens) == detokenizer.detokenize(tokens)


if __name__ == "__main__":
    TABLES_FILE.write_text(tables_source(), encoding="utf-8")
    print(f"wrote {TABLES_FILE}")
