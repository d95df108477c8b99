"""Moses's English tokenizer and detokenizer (tokenizer.perl, detokenizer.perl) as sacremoses ports them, for
English alone: the same rules, the same results (tests/test_moses.py checks both against sacremoses).

Why not sacremoses itself: importing it compiles 160 regular expressions for every language it knows, over
character classes written out character by character (thousands each), and imports joblib and asyncio: 0.34 s,
half of ``honyaku translate``'s start-up. Here its English tables (moses_tables.py) are sets of characters; the
four regular expressions that still hold a table (the characters to pad, the digits around commas) hold it as
code point ranges.
"""

from __future__ import annotations

import re

from honyaku.data import moses_tables


def _code_points(*tables: str) -> list[tuple[int, int]]:
    """The inclusive code point ranges of ``tables`` ("30-39 b2 …")."""
    spans = (span.split("-") for table in tables for span in table.split())
    return [(int(span[0], 16), int(span[-1], 16)) for span in spans]


def _characters(*tables: str) -> frozenset[str]:
    return frozenset(chr(point) for first, last in _code_points(*tables) for point in range(first, last + 1))


def _character_class(*tables: str) -> str:
    """The body of a regular expression's ``[…]`` holding the characters of ``tables``, written as themselves,
    which the regular expression parser reads three times as fast as escapes."""
    member = {char: "\\" + char for char in "\\[]^-"}
    return "".join(
        member.get(chr(first), chr(first)) + ("" if first == last else "-" + member.get(chr(last), chr(last)))
        for first, last in _code_points(*tables)
    )


NUMBERS = _characters(moses_tables.NUMBER)
LETTERS = _characters(moses_tables.ALPHA)
WORD_LETTERS = LETTERS | _characters(moses_tables.INDIC_MARKS)  # the tokenizer's: viramas and nuktas too
LOWERCASE = _characters(moses_tables.LOWER)
CJK = _code_points(moses_tables.CJK)
OPENING = _characters(moses_tables.CURRENCY) | frozenset("([{¿¡")  # what the next word follows without a space

_SPACES = re.compile(r"\s+")
_ASCII_CONTROL = re.compile(r"[\000-\037]")
_NUMBER = _character_class(moses_tables.NUMBER)
_NOT_WORD = re.compile(rf"([^{_character_class(moses_tables.ALNUM, moses_tables.INDIC_MARKS)}\s.'`,\-])")
_DOTS = re.compile(r"\.{2,}")
_DOTS_MARKER = re.compile(r"(?:DOT)+MULTI")
_COMMAS = [
    (re.compile(rf"([^{_NUMBER}])[,]"), r"\1 , "),  # a comma splits, except between digits (5,300)
    (re.compile(rf"[,]([^{_NUMBER}])"), r" , \1"),
    (re.compile(rf"([{_NUMBER}])[,]$"), r"\1 , "),
]
# (the character before, the character after, what the apostrophe becomes), applied one after another
_APOSTROPHES = [
    (lambda c: c not in WORD_LETTERS, lambda c: c not in WORD_LETTERS, " ' "),
    (lambda c: c not in WORD_LETTERS and c not in NUMBERS, lambda c: c in WORD_LETTERS, " ' "),
    (lambda c: c in WORD_LETTERS, lambda c: c not in WORD_LETTERS, " ' "),
    (lambda c: c in WORD_LETTERS, lambda c: c in WORD_LETTERS, " '"),  # don't → don 't
    (lambda c: c in NUMBERS, lambda c: c == "s", " '"),  # 1990's → 1990 's
]
_ENDS_WITH_PERIOD = re.compile(r"^(\S+)\.$")
_STARTS_WITH_DIGITS = re.compile(r"^[0-9]+")
_TRAILING_PERIOD_QUOTE = re.compile(r"\.' ?$")
_NONBREAKING_PREFIXES = frozenset(moses_tables.NONBREAKING_PREFIXES.split())
_NUMERIC_ONLY_PREFIXES = frozenset(moses_tables.NUMERIC_ONLY_PREFIXES.split())


def tokenize(text: str) -> list[str]:
    """Moses's English tokens of ``text``, without XML escapes: "I don't know." → I don 't know ."""
    text = _ASCII_CONTROL.sub("", _SPACES.sub(" ", text)).strip()
    text = _NOT_WORD.sub(r" \1 ", text)
    text = _DOTS.sub(lambda m: f" {'DOT' * len(m.group())}MULTI ", text)  # a marker the period rules leave alone
    for pattern, replacement in _COMMAS:
        text = pattern.sub(replacement, text)
    for before, after, apostrophe in _APOSTROPHES:
        text = _split_apostrophes(text, before, after, apostrophe)
    text = _SPACES.sub(" ", _split_final_periods(text)).strip()
    text = _TRAILING_PERIOD_QUOTE.sub(" . ' ", text)
    text = _DOTS_MARKER.sub(lambda m: "." * ((len(m.group()) - 5) // 3), text)
    return text.split()


def _split_apostrophes(text: str, before, after, apostrophe: str) -> str:
    """``re.sub(r"(B)'(A)", r"\\1" + apostrophe + r"\\2", text)`` for B the characters ``before`` accepts and A
    those ``after`` accepts: each match, left to right, starts past the end of the one before."""
    pieces, start = [], 0
    at = text.find("'", 1)
    while 0 < at < len(text) - 1:
        if before(text[at - 1]) and after(text[at + 1]):
            pieces += [text[start:at], apostrophe, text[at + 1]]
            start = at + 2
            at = text.find("'", start + 1)
        else:
            at = text.find("'", at + 1)
    return "".join(pieces) + text[start:]


def _split_final_periods(text: str) -> str:
    """A word's final period becomes a token of its own, unless it ends an abbreviation (Mr., U.S.), a prefix
    before a number (No. 5), or a word that a lowercase word follows."""
    words = text.split()
    for i, word in enumerate(words):
        ends_with_period = _ENDS_WITH_PERIOD.search(word)
        if not ends_with_period:
            continue
        prefix = ends_with_period.group(1)
        following = words[i + 1] if i + 1 < len(words) else ""
        keeps_period = (
            ("." in prefix and any(char in WORD_LETTERS for char in prefix))
            or prefix in _NONBREAKING_PREFIXES
            or (following and following[0] in LOWERCASE)
            or (prefix in _NUMERIC_ONLY_PREFIXES and _STARTS_WITH_DIGITS.search(following))
        )
        if not keeps_period:
            words[i] = prefix + " ."
    return " ".join(words)


_JOINED_HYPHEN = re.compile(r" @-@ ")
_XML_ESCAPES = [
    ("&bar;", "|"),
    ("&#124;", "|"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&bra;", "["),
    ("&ket;", "]"),
    ("&quot;", '"'),
    ("&apos;", "'"),
    ("&#91;", "["),
    ("&#93;", "]"),
    ("&amp;", "&"),
]
_CLOSING_PUNCTUATION = re.compile(r"^[,.?!:;\\%}\])]+$")
_QUOTE = re.compile(r"^['\"„“`]+$")
_DOUBLE_QUOTES = re.compile(r"^[„“”]+$")
_ONE_SPACE = re.compile(r" {2,}")


def _is_cjk(char: str) -> bool:
    point = ord(char)
    return point >= CJK[0][0] and any(first <= point <= last for first, last in CJK)


def detokenize(tokens: list[str]) -> str:
    """Moses's English text from tokens: I don 't know . → "I don't know."; quotes alternately open and close."""
    text = _JOINED_HYPHEN.sub("-", f" {' '.join(tokens)} ")
    for escape, character in _XML_ESCAPES:
        text = text.replace(escape, character)
    words = text.split()
    quotes_seen: dict[str, int] = {}
    out, space = "", " "  # space: what goes before the next word
    for i, word in enumerate(words):
        if _is_cjk(word[0]):
            out += word if i > 0 and _is_cjk(words[i - 1][-1]) else space + word
            space = " "
        elif all(char in OPENING for char in word):
            out, space = out + space + word, ""
        elif _CLOSING_PUNCTUATION.search(word) or (i > 0 and word[0] == "'" and word[1:2] in LETTERS):  # 's
            out, space = out + word, " "
        elif _QUOTE.search(word):
            quote = '"' if _DOUBLE_QUOTES.search(word) else word
            seen = quotes_seen.get(quote, 0)
            if seen % 2 == 1:  # a closing quote
                out, space = out + word, " "
                quotes_seen[quote] = seen + 1
            elif word == "'" and i > 0 and words[i - 1].endswith("s"):  # the Joneses' house
                out, space = out + word, " "
            else:
                out, space = out + space + word, ""
                quotes_seen[quote] = seen + 1
        else:
            out, space = out + space + word, " "
    return _ONE_SPACE.sub(" ", out).strip()
