"""The training corpora streamed through worker processes a chunk of pairs at a time, so that memory holds a few
chunks whatever a corpus's size. Three passes: ``write_words`` reads each corpus strictly and writes its pairs as
words (raw text through each language's text processor), one sentence per line; ``segment_pairs`` splits the
words into pieces in the workers (once: SentencePiece is the costly part), keeps the pairs within
``data.max_len``, counts the pieces (for the vocabularies) and writes them to files as indices into one table;
``encode_segmented`` maps those indices to vocabulary ids and adds ``<s>``, ``</s>`` and tags, with numpy, a
chunk at a time, for the store. The passes read files rather than holding the corpus."""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from honyaku.core.data_config import DataConfig
from honyaku.core.workers import WORKER_CHUNK, WorkerPool, chunked
from honyaku.data.corpus import TrainingSource
from honyaku.data.lines import iter_lines
from honyaku.data.pairs import check_tokenized, iter_pairs, sentence_key, tokenized_text
from honyaku.data.subwords import SentencePieceModel, Subwords, WordLevel, text_readers
from honyaku.data.text import processor_names
from honyaku.data.vocabulary import Vocabulary

CHUNK = WORKER_CHUNK  # pairs per task: large enough that a task outweighs sending it to a worker


@dataclass
class CorpusCounts:
    """What pass 1 took from one corpus: pairs written, and pairs left out as held-out sentences or as pairs an
    earlier corpus (or this one, earlier) holds."""

    pairs: int = 0
    held_out: int = 0
    duplicates: int = 0


def write_words(
    sources: list[TrainingSource],
    data: DataConfig,
    paths: tuple[Path, Path],
    pool: WorkerPool,
    held_out: set[str] = frozenset(),
) -> list[CorpusCounts]:
    """Pass 1: every corpus's pairs as words separated by spaces, source and target lines into ``paths``, but the
    pairs with a side in ``held_out`` (``sentence_key``s) and, with ``data.deduplicate``, each pair seen before;
    gives each corpus's counts. Tokenized corpora are checked not to look raw (``check_tokenized``)."""
    counts = []
    seen: set[bytes] | None = set() if data.deduplicate else None
    with paths[0].open("w", encoding="utf-8") as src_out, paths[1].open("w", encoding="utf-8") as tgt_out:
        for source in sources:
            counted = CorpusCounts()
            pairs = itertools.islice(iter_pairs(source.files), source.limit)
            if held_out or seen is not None:
                pairs = _kept_pairs(pairs, held_out, seen, counted)
            chunks = chunked(pairs, CHUNK)
            if source.files.format == "raw":
                words = pool.imap(_raw_words, ((processor_names(data), chunk) for chunk in chunks))
            else:
                words = (_tokenized_words(chunk, source, data, first=i == 0) for i, chunk in enumerate(chunks))
            for src_lines, tgt_lines in words:
                src_out.writelines(line + "\n" for line in src_lines)
                tgt_out.writelines(line + "\n" for line in tgt_lines)
                counted.pairs += len(src_lines)
            counts.append(counted)
    return counts


def _kept_pairs(
    pairs: Iterator[tuple[str, str]], held_out: set[str], seen: set[bytes] | None, counted: CorpusCounts
) -> Iterator[tuple[str, str]]:
    for pair in pairs:
        keys = sentence_key(pair[0]), sentence_key(pair[1])
        if keys[0] in held_out or keys[1] in held_out:
            counted.held_out += 1
            continue
        if seen is not None:
            # 8 bytes a pair rather than its text: 40 MB of set for 5M pairs
            digest = hashlib.blake2b("\t".join(keys).encode(), digest_size=8).digest()
            if digest in seen:
                counted.duplicates += 1
                continue
            seen.add(digest)
        yield pair


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


def sample_texts(paths: tuple[Path, Path], pairs: int, data: DataConfig) -> list[list[str]]:
    """The texts that SentencePiece learns from, read from the words files: one list for a joint model (every
    source, then every target), else one per side; each every sentence, or ``data.subwords.max_sentences`` of
    them drawn by ``random.Random(0)`` — the same sample on every machine."""
    joint, limit = data.subwords.joint, data.subwords.max_sentences
    src_text_of, tgt_text_of = text_readers(data)
    populations = [pairs * 2] if joint else [pairs, pairs]
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
    return [[found[p][i] for i in order] for p, order in enumerate(orders)]


@dataclass(frozen=True)
class Segmenter:
    """What a task of pass 2 needs besides its pairs: sent with each task (a few hundred kilobytes beside its
    megabytes of text) and loaded once in each worker process (``_subwords_of``)."""

    data: DataConfig
    models: tuple[bytes | None, bytes | None]  # the SentencePiece models, serialized; None: words


_loaded: tuple[Segmenter, tuple[Subwords, Subwords]] | None = None


def _subwords_of(segmenter: Segmenter) -> tuple[Subwords, Subwords]:
    global _loaded
    if _loaded is None or _loaded[0] != segmenter:
        subwords = tuple(
            WordLevel() if model is None else SentencePieceModel(model, "a subword model", text_of)
            for model, text_of in zip(segmenter.models, text_readers(segmenter.data))
        )
        _loaded = (segmenter, subwords)  # type: ignore[assignment]
    return _loaded[1]  # type: ignore[index]


Task = tuple[Segmenter, list[str], list[str], bool]  # a chunk of one corpus, and whether its sources get a tag


def _tasks(
    paths: tuple[Path, Path], corpus_pairs: list[int], tagged: list[bool], segmenter: Segmenter
) -> Iterator[Task]:
    """The words files in chunks of one corpus each."""
    lines = word_lines(paths)
    for count, tag in zip(corpus_pairs, tagged):
        for chunk in chunked(itertools.islice(lines, count), CHUNK):
            sources, targets = (list(side) for side in zip(*chunk))
            yield segmenter, sources, targets, tag


def _segment(task: Task) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, list[str]]]]:
    """A chunk's pairs as pieces: which pairs ``data.max_len`` keeps (counting ``<s>``, ``</s>`` and a tag), and
    for each side, the kept sentences' pieces end to end as indices into a table of the chunk's pieces, their
    lengths, and that table."""
    segmenter, sources, targets, tagged = task
    src_subwords, tgt_subwords = _subwords_of(segmenter)
    src = [src_subwords.split(line.split()) for line in sources]
    tgt = [tgt_subwords.split(line.split()) for line in targets]
    extra, max_len = int(tagged), segmenter.data.max_len
    kept = np.array([max_len is None or max(len(s) + extra, len(t)) + 2 <= max_len for s, t in zip(src, tgt)])
    sides = []
    for sentences in (src, tgt):
        table: dict[str, int] = {}
        kept_sentences = list(itertools.compress(sentences, kept))
        indices = np.fromiter(
            (table.setdefault(piece, len(table)) for piece in itertools.chain.from_iterable(kept_sentences)),
            dtype=np.uint32,
        )
        sides.append((indices, np.array([len(s) for s in kept_sentences], dtype=np.int32), list(table)))
    return kept, sides


SIDES = ("src", "tgt")


@dataclass
class Segmented:
    """Pass 2's result: every kept pair's pieces, as indices into ``pieces`` (one table of both sides), in files
    (``{side}.pieces``, ``{side}.lengths``: raw arrays, appended chunk by chunk), with each piece's count per
    side, and how many pairs of each corpus ``data.max_len`` kept."""

    directory: Path
    pieces: list[str] = field(default_factory=list)
    counts: dict[str, np.ndarray] = field(default_factory=lambda: {side: np.zeros(0, np.int64) for side in SIDES})
    kept: list[np.ndarray] = field(default_factory=list)  # (chunk,) bool, per chunk
    kept_per_corpus: list[int] = field(default_factory=list)

    def piece_counts(self, side: str) -> Counter[str]:
        counts = self.counts[side]
        return Counter({self.pieces[i]: int(counts[i]) for i in np.flatnonzero(counts)})

    def store_tokens(self, tagged: list[bool]) -> tuple[int, int]:
        """The ids of each side in the store: the pieces (as counted), ``</s>`` and tags (sources), ``<s>``,
        ``</s>`` (targets)."""
        kept = sum(self.kept_per_corpus)
        tags = sum(pairs for pairs, tag in zip(self.kept_per_corpus, tagged) if tag)
        return int(self.counts["src"].sum()) + kept + tags, int(self.counts["tgt"].sum()) + 2 * kept

    def lengths(self, side: str) -> np.ndarray:
        return np.fromfile(self.directory / f"{side}.lengths", dtype=np.int32)

    def read_pieces(self, side: str, start: int, count: int) -> np.ndarray:
        """``count`` piece indices of ``side`` from the ``start``-th on (read, not mapped: see ``_ArrayFile``)."""
        return np.fromfile(self.directory / f"{side}.pieces", dtype=np.uint32, count=count, offset=4 * start)

    def files(self) -> list[Path]:
        return [self.directory / f"{side}.{kind}" for side in SIDES for kind in ("pieces", "lengths")]


def segment_pairs(
    paths: tuple[Path, Path],
    corpus_pairs: list[int],
    tagged: list[bool],
    data: DataConfig,
    models: tuple[bytes | None, bytes | None],
    pool: WorkerPool,
    directory: Path,
) -> Segmented:
    """Pass 2, over the words files of ``write_words``: each pair split into pieces once, in the workers; here,
    each chunk's pieces mapped into one table and appended to ``directory``'s files."""
    result = Segmented(directory)
    index: dict[str, int] = {}
    files = {
        side: ((directory / f"{side}.pieces").open("wb"), (directory / f"{side}.lengths").open("wb")) for side in SIDES
    }
    try:
        for kept, sides in pool.imap(_segment, _tasks(paths, corpus_pairs, tagged, Segmenter(data, models))):
            result.kept.append(kept)
            for side, (indices, lengths, table) in zip(SIDES, sides):
                mapping = np.array([index.setdefault(piece, len(index)) for piece in table], dtype=np.uint32)
                pieces = mapping[indices] if len(indices) else indices
                counts = result.counts[side]
                if len(counts) < len(index):
                    result.counts[side] = counts = np.concatenate(
                        [counts, np.zeros(len(index) - len(counts), np.int64)]
                    )
                counts += np.bincount(pieces, minlength=len(counts))
                pieces.tofile(files[side][0])
                lengths.tofile(files[side][1])
    finally:
        for handles in files.values():
            for handle in handles:
                handle.close()
    result.pieces = list(index)
    every_kept = np.concatenate(result.kept) if result.kept else np.zeros(0, dtype=bool)
    ends = np.cumsum(corpus_pairs)
    result.kept_per_corpus = [int(every_kept[start:end].sum()) for start, end in zip((0, *ends[:-1]), ends)]
    return result


def encode_segmented(
    segmented: Segmented,
    vocabularies: tuple[Vocabulary, Vocabulary],
    tag_ids: list[int | None],
) -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Pass 3: the kept pairs as ids with ``</s>`` (sources, led by their corpus's tag) or ``<s> … </s>``
    (targets), a chunk at a time (for ``StoreWriter.append``); numpy array operations, no Python per token."""
    lookups = {
        side: np.array([vocabulary.index.get(piece, Vocabulary.unk_id) for piece in segmented.pieces], np.uint32)
        for side, vocabulary in zip(SIDES, vocabularies)
    }
    lengths = {side: segmented.lengths(side) for side in SIDES}
    read = {side: 0 for side in SIDES}  # pieces read so far
    start = 0
    for pairs, tag in zip(segmented.kept_per_corpus, tag_ids):
        for chunk_start in range(start, start + pairs, CHUNK):
            chunk_end = min(chunk_start + CHUNK, start + pairs)
            chunk = {}
            for side in SIDES:
                side_lengths = lengths[side][chunk_start:chunk_end]
                count = int(side_lengths.sum())
                ids = lookups[side][segmented.read_pieces(side, read[side], count)]
                read[side] += count
                lead = ([] if tag is None else [tag]) if side == "src" else [Vocabulary.bos_id]
                chunk[side] = with_specials(ids, side_lengths, lead, Vocabulary.eos_id)
            yield chunk
        start += pairs


def with_specials(ids: np.ndarray, lengths: np.ndarray, lead: list[int], end: int) -> tuple[np.ndarray, np.ndarray]:
    """Sentences given end to end (``ids``, ``lengths``), each led by ``lead`` and ended by ``end``."""
    extra = len(lead) + 1
    out_lengths = lengths.astype(np.int64) + extra
    starts = np.cumsum(out_lengths) - out_lengths
    out = np.empty(int(out_lengths.sum()), dtype=np.uint32)
    body_starts = starts + len(lead) - (np.cumsum(lengths) - lengths)  # where each sentence's pieces move to
    out[np.repeat(body_starts, lengths) + np.arange(len(ids))] = ids
    for offset, token in enumerate(lead):
        out[starts + offset] = token
    out[starts + out_lengths - 1] = end
    return out, out_lengths
