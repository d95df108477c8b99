"""The training corpora streamed through worker processes a chunk of pairs at a time, so that memory holds a few
chunks whatever a corpus's size. Three passes: ``write_words`` reads each corpus strictly and writes its pairs as
words (raw text through each language's text processor), one sentence per line; ``count_pieces`` splits the
words into pieces, counts them (for the vocabularies) and measures each pair (for ``data.max_len``);
``encode_pieces`` encodes the pairs kept as ids, chunk by chunk, for the store. The passes read the words files
again rather than holding them."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from honyaku.core.config import DataConfig, SplitFiles
from honyaku.core.runtime import WORKER_CHUNK, chunked, imap_streamed, workers_for
from honyaku.data.corpus import TrainingSource, check_tokenized, count_lines, iter_lines, iter_pairs, tokenized_text
from honyaku.data.subwords import SentencePieceModel, Subwords, WordLevel, text_readers
from honyaku.data.text import processor_names
from honyaku.data.vocabulary import Vocabulary

CHUNK = WORKER_CHUNK  # pairs per task: large enough that a task outweighs sending it to a worker


def write_words(sources: list[TrainingSource], data: DataConfig, paths: tuple[Path, Path], workers: int) -> list[int]:
    """Pass 1: every corpus's pairs as words separated by spaces, source and target lines into ``paths``; gives
    each corpus's number of pairs. Tokenized corpora are checked not to look raw (``check_tokenized``)."""
    counts = []
    with paths[0].open("w", encoding="utf-8") as src_out, paths[1].open("w", encoding="utf-8") as tgt_out:
        for source in sources:
            chunks = chunked(itertools.islice(iter_pairs(source.files), source.limit), CHUNK)
            if source.files.format == "raw":
                tasks = ((processor_names(data), chunk) for chunk in chunks)
                words = imap_streamed(_raw_words, tasks, workers_for(_lines(source.files), workers))
            else:
                words = (_tokenized_words(chunk, source, data, first=i == 0) for i, chunk in enumerate(chunks))
            count = 0
            for src_lines, tgt_lines in words:
                src_out.writelines(line + "\n" for line in src_lines)
                tgt_out.writelines(line + "\n" for line in tgt_lines)
                count += len(src_lines)
            counts.append(count)
    return counts


def _lines(files: SplitFiles) -> int:
    return count_lines(files.tsv or files.src)


def _raw_words(task: tuple[tuple[str, str], list[tuple[str, str]]]) -> tuple[list[str], list[str]]:
    (src_processor, tgt_processor), pairs = task
    sources, targets = (list(side) for side in zip(*pairs))
    return tokenized_text(src_processor, sources), tokenized_text(tgt_processor, targets)


def _tokenized_words(
    pairs: list[tuple[str, str]], source: TrainingSource, data: DataConfig, first: bool
) -> tuple[list[str], list[str]]:
    sources, targets = ([" ".join(sentence.split()) for sentence in side] for side in zip(*pairs))
    if first:
        check_tokenized(source.files, source.setting, data, sources, targets)
    return sources, targets


def word_lines(paths: tuple[Path, Path]) -> Iterator[tuple[str, str]]:
    """The pairs of the words files, one at a time."""
    return zip(iter_lines(paths[0]), iter_lines(paths[1]))


def sample_texts(paths: tuple[Path, Path], pairs: int, data: DataConfig) -> tuple[list[str], list[str]]:
    """The texts that the source and target SentencePiece models learn from (a joint model: the first list, both
    sides): every sentence, or ``data.subwords.max_sentences`` of them drawn by ``random.Random(0)`` — the sample
    that ``train_subwords`` draws from the same sentences in memory — read from the words files."""
    joint, limit = data.subwords.joint, data.subwords.max_sentences
    src_text_of, tgt_text_of = text_readers(data)
    populations = [pairs * 2] if joint else [pairs, pairs]  # a joint model's: every source, then every target
    orders = [
        random.Random(0).sample(range(size), limit) if limit is not None and size > limit else range(size)
        for size in populations
    ]
    wanted = [set(order) if isinstance(order, list) else None for order in orders]  # None: every sentence
    found: list[dict[int, str]] = [{} for _ in populations]
    tgt_population, tgt_offset = (0, pairs) if joint else (1, 0)
    for i, (src_line, tgt_line) in enumerate(word_lines(paths)):
        for population, index, line, text_of in (
            (0, i, src_line, src_text_of),
            (tgt_population, tgt_offset + i, tgt_line, tgt_text_of),
        ):
            if wanted[population] is None or index in wanted[population]:
                found[population][index] = text_of(line.split())
    texts = [[found[p][i] for i in order] for p, order in enumerate(orders)]
    return (texts[0], texts[0]) if joint else (texts[0], texts[1])


@dataclass
class PieceCounts:
    """What pass 2 finds: which pairs ``data.max_len`` keeps, the kept pairs' lengths in ids (with ``<s>``,
    ``</s>`` and tags) and how often each piece occurs in them."""

    kept: list[np.ndarray] = field(default_factory=list)  # (chunk,) bool, per chunk
    src_lengths: list[np.ndarray] = field(default_factory=list)
    tgt_lengths: list[np.ndarray] = field(default_factory=list)
    src_pieces: Counter[str] = field(default_factory=Counter)
    tgt_pieces: Counter[str] = field(default_factory=Counter)
    kept_per_corpus: list[int] = field(default_factory=list)

    def tokens(self) -> tuple[int, int]:
        return int(sum(n.sum() for n in self.src_lengths)), int(sum(n.sum() for n in self.tgt_lengths))


# What every task of passes 2 and 3 needs, loaded once per worker process by _load.
_subwords: tuple[Subwords, Subwords] = (WordLevel(), WordLevel())
_vocabularies: tuple[Vocabulary, Vocabulary] | None = None
_max_len: int | None = None


def _load(
    data: DataConfig, models: tuple[bytes | None, bytes | None], vocabularies: tuple[list[str], list[str]] | None
) -> None:
    global _subwords, _vocabularies, _max_len
    _subwords = tuple(  # type: ignore[assignment]
        WordLevel() if model is None else SentencePieceModel(model, "a subword model", text_of)
        for model, text_of in zip(models, text_readers(data))
    )
    _vocabularies = None if vocabularies is None else (Vocabulary(vocabularies[0]), Vocabulary(vocabularies[1]))
    _max_len = data.max_len


def _chunks_by_corpus(
    paths: tuple[Path, Path], corpus_pairs: list[int], tags: list[int | None]
) -> Iterator[tuple[list[str], list[str], int | None]]:
    """The words files in chunks of one corpus each, with that corpus's tag."""
    lines = word_lines(paths)
    for count, tag in zip(corpus_pairs, tags):
        for chunk in chunked(itertools.islice(lines, count), CHUNK):
            sources, targets = (list(side) for side in zip(*chunk))
            yield sources, targets, tag


def _pieces(chunk: tuple[list[str], list[str], int | None]) -> tuple[list[list[str]], list[list[str]], np.ndarray]:
    """A chunk's pieces, and which of its pairs ``data.max_len`` keeps (counting ``<s>``, ``</s>`` and a tag)."""
    sources, targets, tag = chunk
    src = [_subwords[0].split(line.split()) for line in sources]
    tgt = [_subwords[1].split(line.split()) for line in targets]
    extra = 1 if tag is not None else 0
    kept = np.array(
        [_max_len is None or max(len(s) + extra, len(t)) + 2 <= _max_len for s, t in zip(src, tgt)], dtype=bool
    )
    return src, tgt, kept


def _count(
    chunk: tuple[list[str], list[str], int | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Counter, Counter]:
    src, tgt, kept = _pieces(chunk)
    extra = 1 if chunk[2] is not None else 0
    src_kept = [s for s, keep in zip(src, kept) if keep]
    tgt_kept = [t for t, keep in zip(tgt, kept) if keep]
    src_lengths = np.array([len(s) + 1 + extra for s in src_kept], dtype=np.int64)  # </s>, and the tag
    tgt_lengths = np.array([len(t) + 2 for t in tgt_kept], dtype=np.int64)  # <s> … </s>
    return kept, src_lengths, tgt_lengths, Counter(itertools.chain(*src_kept)), Counter(itertools.chain(*tgt_kept))


def count_pieces(
    paths: tuple[Path, Path],
    corpus_pairs: list[int],
    tags: list[str | None],
    data: DataConfig,
    models: tuple[bytes | None, bytes | None],
    workers: int,
) -> PieceCounts:
    """Pass 2, over the words files of ``write_words``."""
    counts = PieceCounts()
    flags = [None if tag is None else 0 for tag in tags]  # any id: here a tag only counts as one token
    chunks = _chunks_by_corpus(paths, corpus_pairs, flags)
    results = imap_streamed(_count, chunks, workers_for(sum(corpus_pairs), workers), _load, (data, models, None))
    ends = np.cumsum(corpus_pairs)
    for kept, src_lengths, tgt_lengths, src_pieces, tgt_pieces in results:
        counts.kept.append(kept)
        counts.src_lengths.append(src_lengths)
        counts.tgt_lengths.append(tgt_lengths)
        counts.src_pieces.update(src_pieces)
        counts.tgt_pieces.update(tgt_pieces)
    all_kept = np.concatenate(counts.kept) if counts.kept else np.zeros(0, dtype=bool)
    counts.kept_per_corpus = [int(all_kept[start:end].sum()) for start, end in zip((0, *ends[:-1]), ends)]
    return counts


def _encode(chunk: tuple[list[str], list[str], int | None]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    src, tgt, kept = _pieces(chunk)
    tag = chunk[2]
    src_vocab, tgt_vocab = _vocabularies  # type: ignore[misc]
    lead = [] if tag is None else [tag]
    src_ids = [lead + src_vocab.encode(s, add_eos=True) for s, keep in zip(src, kept) if keep]
    tgt_ids = [tgt_vocab.encode(t, add_bos=True, add_eos=True) for t, keep in zip(tgt, kept) if keep]
    return {
        side: (np.fromiter(itertools.chain(*ids), dtype=np.uint32), np.array([len(s) for s in ids], dtype=np.int64))
        for side, ids in (("src", src_ids), ("tgt", tgt_ids))
    }


def encode_pieces(
    paths: tuple[Path, Path],
    corpus_pairs: list[int],
    tag_ids: list[int | None],
    data: DataConfig,
    models: tuple[bytes | None, bytes | None],
    vocabularies: tuple[Vocabulary, Vocabulary],
    workers: int,
) -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Pass 3: the kept pairs as ids, a chunk at a time (for ``StoreWriter.append``)."""
    tokens = (vocabularies[0].tokens, vocabularies[1].tokens)
    chunks = _chunks_by_corpus(paths, corpus_pairs, tag_ids)
    return imap_streamed(_encode, chunks, workers_for(sum(corpus_pairs), workers), _load, (data, models, tokens))
