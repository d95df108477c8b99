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


@functools.cache
def _segmenter(language: str) -> pysbd.Segmenter | None:
    if language not in pysbd.languages.LANGUAGE_CODES:
        return None
    return pysbd.Segmenter(language=language, clean=False)


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
            lines.append([sentence.strip() for sentence in segmenter.segment(line) if sentence.strip()])
    return lines


def join_sentences(lines: list[list[str]], language: str) -> str:
    """The translated sentences of each line joined as ``language`` writes them, the lines by line breaks. A line
    whose translation is empty (only characters that the text processors remove) is blank, and blank lines before
    the first and after the last are dropped, as ``split_sentences`` drops them."""
    joiner = "" if language in UNSPACED_LANGUAGES else " "
    return "\n".join(joiner.join(sentences) for sentences in lines).strip("\n")
