"""Parallel text read strictly, a bad line reported by file and line number: the pairs of aligned files or of a
TSV, sentence keys (how two corpora's sentences are compared), and the check that text said to be tokenized is."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from honyaku.core.data_config import DataConfig, SplitFiles
from honyaku.core.errors import HonyakuError
from honyaku.data.lines import count_lines, iter_lines
from honyaku.data.text import get_processor, join_tokens

SPLITS = ("train", "dev", "test")


def iter_pairs(split: SplitFiles) -> Iterator[tuple[str, str]]:
    """The pairs of one split, one at a time, checked as they are read: a line that is not UTF-8, empty, without
    its partner or (TSV) without exactly two fields stops the reading with its file and line."""
    if split.tsv is not None:
        pairs = _tsv_pairs(Path(split.tsv))
        names = (f"{split.tsv} (source column)", f"{split.tsv} (target column)")
    else:
        pairs = _aligned_pairs(Path(split.src), Path(split.tgt))
        names = (str(split.src), str(split.tgt))
    number = 0
    for number, pair in enumerate(pairs, start=1):
        for name, sentence in zip(names, pair):
            if not sentence.strip():
                raise HonyakuError(f"{name}:{number}: empty sentence")
        yield pair
    if number == 0:
        raise HonyakuError(f"{split.tsv or split.src}: file is empty")


def _tsv_pairs(path: Path) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(iter_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise HonyakuError(f"{path}:{number}: expected 2 tab-separated fields, found {len(fields)}")
        yield fields[0], fields[1]


def _aligned_pairs(src: Path, tgt: Path) -> Iterator[tuple[str, str]]:
    for number, (source, target) in enumerate(itertools.zip_longest(iter_lines(src), iter_lines(tgt)), start=1):
        if source is None or target is None:
            raise HonyakuError(
                f"{src} has {count_lines(src)} lines but {tgt} has {count_lines(tgt)}: "
                f"the files must be aligned line by line (first unmatched line: {number})"
            )
        yield source, target


def read_parallel(split: SplitFiles) -> tuple[list[str], list[str]]:
    """Source and target sentences of one split, checked for alignment and empty lines."""
    sources, targets = [], []
    for source, target in iter_pairs(split):
        sources.append(source)
        targets.append(target)
    return sources, targets


def sentence_key(text: str) -> str:
    """A sentence as it is compared across corpora whatever their form: raw (「私はトムです。」, "I don't") or
    tokenized (「私 は トム です 。」, "i don 't"): NFKC, lowercased, without white space, quotes alike."""
    text = unicodedata.normalize("NFKC", text).lower().replace("''", '"').replace("``", '"')
    return "".join(text.split())


def sentence_keys(splits: list[SplitFiles]) -> set[str]:
    """The ``sentence_key`` of every sentence, either side, of ``splits``."""
    return {sentence_key(sentence) for files in splits for pair in iter_pairs(files) for sentence in pair}


def check_tokenized(files: SplitFiles, setting: str, data: DataConfig, sources: list[str], targets: list[str]) -> None:
    """Refuse tokenized data that looks like raw text: splitting it at spaces would make sentences into tokens."""
    for side, language, sentences in (("source", data.src_lang, sources), ("target", data.tgt_lang, targets)):
        if reason := looks_raw(sentences, language):
            path = files.tsv or (files.src if side == "source" else files.tgt)
            column = f" ({side} column)" if files.tsv else ""
            raise HonyakuError(
                f"{path}{column}: looks like raw text, not tokens separated by spaces ({reason}); "
                f"set {setting}.format: raw so that honyaku tokenizes it"
            )


def tokenized_text(processor: str, sentences: list[str]) -> list[str]:
    """Raw sentences as the tokens of a text processor, separated by spaces."""
    tokenize = get_processor(processor).tokenize
    return [join_tokens(tokenize(sentence)) for sentence in sentences]


SPACELESS_SCRIPTS = {"ja", "zh", "th"}  # languages written without spaces between words


_GLUED_PUNCTUATION = re.compile(r"\w[.,!?;:]$|\w'\w")  # "me." "tokens," "I'm": punctuation not split off


def looks_raw(sentences: list[str], language: str, sample: int = 1000) -> str | None:
    """Why the first ``sample`` sentences look like raw text rather than tokens, or None."""
    sentences = [s for s in sentences[:sample] if s.strip()]
    if not sentences:
        return None
    if language in SPACELESS_SCRIPTS:
        long = [s for s in sentences if len(s) >= 10]
        spaceless = sum(" " not in s for s in long)
        if long and spaceless > len(long) / 2:
            return f"{spaceless} of {len(long)} sentences of 10 characters or more have no space"
        return None
    glued = sum(any(_GLUED_PUNCTUATION.search(token) for token in s.split()) for s in sentences)
    if glued > len(sentences) / 2:
        return f'{glued} of {len(sentences)} sentences have punctuation joined to a word, as in "me." or "I\'m"'
    return None
