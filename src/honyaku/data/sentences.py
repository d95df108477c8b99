"""Text of several sentences, translated a sentence at a time: split into lines and sentences before translation
(pysbd, which keeps a Japanese quotation 「…。」 with the sentence around it and English abbreviations such as
"Mr." and "e.g." inside theirs), joined after (Japanese and Chinese without spaces, other languages with one),
line breaks kept. A model trained on single sentences drops or merges the sentences of a paragraph otherwise."""

from __future__ import annotations

import functools
import re

import pysbd
import pysbd.languages

UNSPACED_LANGUAGES = ("ja", "zh")
# Sentence-final punctuation with more text after it: only such a line can hold more than one sentence.
_INNER_END = re.compile(r"[.!?。！？…][\"'”’」』)）]*\s*\S")


# Entries of pysbd's English abbreviations that are as often a word or a name ending a sentence ("My name is
# Ken. I work …", "That's me. Open …", "He is ill. He …"): their period ends a sentence. (US states' old
# abbreviations, most of them; titles such as Mr., Dr., St. and months stay.)
NOT_ABBREVIATIONS = frozenset(
    "ken is me ill man may miss mass art con cal del wash ore ida ind kan la mo pa ga ok tex dak bart ing".split()
)


def _english() -> type:
    """pysbd's English, less ``NOT_ABBREVIATIONS``."""
    english = pysbd.languages.English

    class Abbreviation(english.Abbreviation):
        ABBREVIATIONS = [a for a in english.Abbreviation.ABBREVIATIONS if a not in NOT_ABBREVIATIONS]

    return type("English", (english,), {"Abbreviation": Abbreviation})


@functools.cache
def _segmenter(language: str) -> pysbd.Segmenter | None:
    if language not in pysbd.languages.LANGUAGE_CODES:
        return None
    segmenter = pysbd.Segmenter(language=language, clean=False)
    if language == "en":
        segmenter.language_module = _english()
    return segmenter


# Emoji and other symbols that pysbd puts at the start of the next sentence ("Great job! 😀 See you"): they close
# the sentence before them.
EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u200d\ufe0f"
_LEADING_SYMBOLS = re.compile(f"^([{EMOJI}]+)\\s*(?=\\S)")
# A quotation that is a sentence of its own: 「走れ！」 before a new sentence, not before a particle that quotes it
# (と, って) or another quotation, where it is part of the sentence around it.
_QUOTED_SENTENCE = re.compile(r"(?<=[。！？!?][」』])(?=[^とっ「『」』、。！？\s])")


def _regrouped(sentences: list[str], language: str) -> list[str]:
    """pysbd's sentences with leading symbols moved to the sentence before, and (Japanese) a quotation that is a
    sentence of its own split from the next."""
    if language in UNSPACED_LANGUAGES:
        sentences = [part for sentence in sentences for part in _QUOTED_SENTENCE.split(sentence)]
    regrouped: list[str] = []
    for sentence in sentences:
        symbols = _LEADING_SYMBOLS.match(sentence)
        if regrouped and symbols:
            joiner = "" if language in UNSPACED_LANGUAGES else " "
            regrouped[-1] += joiner + symbols.group(1)
            sentence = sentence[symbols.end() :]
        regrouped.append(sentence)
    return regrouped


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines, whose other breaks the text processors make spaces


def split_sentences(text: str, language: str) -> list[list[str]]:
    """The sentences of each line of ``text``, stripped (a blank line between others has none; blank lines
    before the first and after the last are dropped). In a language that pysbd does not know, each non-blank
    line is one sentence."""
    segmenter = _segmenter(language)
    lines = []
    for line in _LINE_BREAK.split(text.strip()):
        line = line.strip()
        if not line:
            lines.append([])
        elif segmenter is None or not _INNER_END.search(line):
            lines.append([line])
        else:
            found = [sentence.strip() for sentence in segmenter.segment(line) if sentence.strip()]
            lines.append(_regrouped(found, language))
    return lines


_CLAUSE_END = re.compile(r"(?<=[、，,;；:：])\s*")


def parts_within(sentence: str, limit: int, language: str) -> list[str]:
    """``sentence`` in parts of at most ``limit`` characters that join back into it (as ``join_sentences`` joins a
    line's sentences): whole clauses (split after 、，,;: ) as many as fit, a clause longer than ``limit`` at its
    last space within it, or else at ``limit``."""
    if len(sentence) <= limit:
        return [sentence]
    joiner = "" if language in UNSPACED_LANGUAGES else " "
    pieces = []
    for clause in (c for c in _CLAUSE_END.split(sentence) if c):
        while len(clause) > limit:
            space = clause.rfind(" ", 1, limit + 1)
            cut = space if space > 0 else limit
            pieces.append(clause[:cut].strip())
            clause = clause[cut:].strip()
        pieces.append(clause)
    parts = [pieces[0]]
    for piece in pieces[1:]:
        if len(parts[-1]) + len(joiner) + len(piece) <= limit:
            parts[-1] += joiner + piece
        else:
            parts.append(piece)
    return [part for part in parts if part]


def join_sentences(lines: list[list[str]], language: str) -> str:
    """The translated sentences of each line joined as ``language`` writes them, the lines by line breaks. A line
    whose translation is empty (only characters that the text processors remove) is blank, and blank lines before
    the first and after the last are dropped, as ``split_sentences`` drops them."""
    joiner = "" if language in UNSPACED_LANGUAGES else " "
    return "\n".join(joiner.join(sentences) for sentences in lines).strip("\n")
