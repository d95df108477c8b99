"""The data a run trains on, prepared from its config: the corpora read and tokenized, the casing table and
subword models learned, the vocabularies built, the training pairs encoded into a store of numpy arrays.

Prepared data is kept in a directory of its own, named by a hash of what it is made from (the config's data
section but its dev and test splits, ``model.share_vocab`` and each training file's path, size and modification
time), under a root that runs share (``DataPlaces.prepared_dir``). A run copies the vocabularies, subword
models and casing table into its directory (they are part of the model) and links the store; a second run with
the same training data finds the directory and prepares nothing. Preparation streams the corpora through
worker processes (honyaku.data.encoding), so that its memory does not grow with the corpus beyond the
SentencePiece sample, and writes the directory atomically: an interrupted preparation leaves nothing a later run
would take for it.
``Trainer`` receives the result and never reads a corpus itself."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from honyaku.core.config import Config
from honyaku.core.data_config import DataConfig, SplitFiles
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.core.wording import counted
from honyaku.core.workers import WorkerPool, workers_for
from honyaku.data.batching import CorpusRange, ParallelData, TrainingPairs, encode_pairs, tokenized
from honyaku.data.casing import learn_casing, save_casing
from honyaku.data.catalogue import DataPlaces
from honyaku.data.corpus import TrainingSource, held_out_splits, read_split_tagged, training_sources
from honyaku.data.encoding import (
    CorpusCounts,
    Segmented,
    encode_segmented,
    sample_texts,
    segment_pairs,
    word_lines,
    write_words,
)
from honyaku.data.lines import count_lines
from honyaku.data.pairs import sentence_keys
from honyaku.data.store import WORDS_FILES, StoredPairs, StoreWriter, store_info
from honyaku.data.subwords import Subwords, learn_subwords, load_subwords
from honyaku.data.text import join_tokens, processor_names
from honyaku.data.vocabulary import Vocabulary
from honyaku.modeldir import (
    CASING_FILE,
    PREPARED_INFO,
    SUBWORD_FILES,
    TRAINING_STORE,
    VOCABULARY_FILES,
    InitialModel,
    read_vocabularies,
    remove_store,
    subword_paths,
    write_vocabularies,
)
from honyaku.training.distributed import World

logger = logging.getLogger(__name__)

PREPARED_FORMAT = 1  # part of the hash: a new format prepares afresh
# pass 1's output, while the directory is being prepared (not the store's WORDS_FILES, which sampling keeps)
PASS_ONE_FILES = ("pass1.src", "pass1.tgt")


@dataclass
class PreparedData:
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    src_subwords: Subwords
    tgt_subwords: Subwords
    training_pairs: TrainingPairs
    dev_data: ParallelData
    dev_references: list[str]  # the dev targets as the corpus's tokens, which dev BLEU is computed on


def run_data(config: Config, run_dir: Path, places: DataPlaces, resume: bool, world: World) -> PreparedData:
    """The run's data; with several processes, rank 0 prepares it and the others read it.

    A new run takes its data from the prepared directory of its config (``link_prepared``); a resumed run (or
    one that ``honyaku prepare`` prepared) keeps its own vocabularies and subword models and reads its store,
    linking it again only where the store is gone."""
    data = config.data
    sampling = data.subwords.sampling if data.subwords is not None else None
    store = run_dir / TRAINING_STORE
    # A store of an earlier honyaku may lack the words that sampling segments: such a run links them anew.
    complete = store_info(store) is not None and (sampling is None or (store / WORDS_FILES[0]).is_file())
    with world.main_first():
        if world.is_main and not (resume and complete):
            link_prepared(config, run_dir, places, resume)
    src_subwords, tgt_subwords = load_subwords(data, subword_paths(run_dir))
    src_vocab, tgt_vocab = read_vocabularies(run_dir)
    stored = StoredPairs(store)
    every_pair = [{"pairs": len(stored), "weight": 1.0, "tag": None}]  # a store of an earlier honyaku: one corpus
    training_pairs = TrainingPairs(
        stored.words() if sampling is not None else None,
        stored,
        (src_subwords, tgt_subwords),
        (src_vocab, tgt_vocab),
        sampling,
        config.training.seed,
        config.training.bidirectional_epochs,
        [
            CorpusRange(corpus["pairs"], corpus["weight"], corpus["tag"] and src_vocab.index[corpus["tag"]])
            for corpus in stored.info.get("corpora", every_pair)
        ],
    )
    dev_src, dev_tgt, dev_tags = read_split_tagged(data, "dev", places.data_dir)
    dev_src, dev_tgt = tokenized((dev_src, dev_tgt))
    dev_tag_ids = [None if tag is None else src_vocab.index[tag] for tag in dev_tags]  # as in its training pairs
    dev_data = encode_pairs(
        split(src_subwords, dev_src), split(tgt_subwords, dev_tgt), src_vocab, tgt_vocab, dev_tag_ids
    )
    references = [join_tokens(t) for t in dev_tgt]
    return PreparedData(src_vocab, tgt_vocab, src_subwords, tgt_subwords, training_pairs, dev_data, references)


def link_prepared(config: Config, run_dir: Path, places: DataPlaces, resume: bool) -> None:
    """Put the config's prepared data into the run, preparing it first where no run has: the model's files are
    copied (a resumed run keeps its own, which must agree), the store is linked."""
    sources = training_sources(config.data, places.data_dir)
    held_out = held_out_splits(config.data, places.data_dir) if config.data.exclude_held_out else []
    inherited = inherited_files(config)
    directory = places.prepared_root() / data_key(config, sources, held_out, inherited)
    if (directory / PREPARED_INFO).is_file():
        logger.info(f"prepared data: {directory} (made before, reused)")
    else:
        write_prepared(config, sources, directory, places.workers, sentence_keys(held_out), inherited)
        logger.info(f"prepared data: {directory}")
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in (*VOCABULARY_FILES, *SUBWORD_FILES, CASING_FILE):
        prepared, ours = directory / name, run_dir / name
        if not prepared.is_file():
            ours.unlink(missing_ok=True)
        elif not resume:
            shutil.copyfile(prepared, ours)
        elif not ours.is_file() or ours.read_bytes() != prepared.read_bytes():
            raise HonyakuError(
                f"{run_dir}: its {name} is not the one its data prepares ({prepared}); "
                "the data changed since the run started: start a new run"
            )
    remove_store(run_dir)
    (run_dir / TRAINING_STORE).symlink_to((directory / TRAINING_STORE).resolve(), target_is_directory=True)


def data_key(
    config: Config,
    sources: list[TrainingSource],
    held_out: list[SplitFiles] = (),
    inherited: dict[str, Path] | None = None,
) -> str:
    """The name of a config's prepared data: a hash of everything that it is made from (the files of the
    held-out splits too, where their sentences are left out of training)."""
    inputs = []
    every = [(source.files, source.setting) for source in sources] + [
        (files, "data.exclude_held_out") for files in held_out
    ]
    for files, setting in every:
        for path in (files.tsv,) if files.tsv is not None else (files.src, files.tgt):
            try:
                status = Path(path).stat()
            except OSError as error:
                raise HonyakuError(f"{path} ({setting}): cannot read: {error.strerror or error}") from None
            inputs.append([str(Path(path).resolve()), status.st_size, status.st_mtime_ns])
    data = {key: value for key, value in config.to_dict()["data"].items() if key not in ("dev", "test")}
    made_from = {
        "format": PREPARED_FORMAT,
        "data": data,  # the training data's settings: dev and test are read by each run
        "share_vocab": config.model.share_vocab,
        "inputs": inputs,
    }
    if inherited:  # the pieces and vocabularies of training.init_from (inherited_files), by content
        made_from["inherited"] = {
            name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in inherited.items()
        }
        if config.training.grow_vocabulary:
            made_from["grow_vocabulary"] = True
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:16]


def write_prepared(
    config: Config,
    sources: list[TrainingSource],
    directory: Path,
    workers: int | None,
    held_out: set[str] = frozenset(),
    inherited: dict[str, Path] | None = None,
) -> None:
    """Prepare the data of ``config`` into ``directory``, atomically: words (pass 1), casing, subword models,
    piece counts and vocabularies (pass 2), the store (pass 3); one pool of workers serves the three passes.
    Training pairs with a side in ``held_out`` (``sentence_key``s) are left out; ``inherited`` files
    (``inherited_files``) stand for the subword models and vocabularies it would learn."""
    data = config.data
    lines = sum(min(count_lines(s.files.tsv or s.files.src), s.limit or sys.maxsize) for s in sources)
    with atomic_directory(directory) as staging, WorkerPool(workers_for(lines, workers)) as pool:
        clock = time.perf_counter()
        words = (staging / PASS_ONE_FILES[0], staging / PASS_ONE_FILES[1])
        written = write_words(sources, data, words, pool, held_out)
        corpus_pairs = [counts.pairs for counts in written]
        for source, counts in zip(sources, written):
            if held_out:
                logger.info(f"{source.name}: {counts.held_out:,} training pairs left out, their sentences held out")
            if data.deduplicate:
                logger.info(f"{source.name}: {counts.duplicates:,} training pairs left out, seen before")
        corpora = counted(len(sources), "corpus", "corpora")
        clock = _logged_pass(clock, f"read {sum(corpus_pairs):,} pairs from {corpora} as words")
        if processor_names(data) == ("japanese", "english"):
            english = (target.split() for _, target in word_lines(words))
            japanese = (source.split() for source, _ in word_lines(words))
            save_casing(learn_casing(english, japanese), staging / CASING_FILE)
            clock = _logged_pass(clock, "learned the casing of English names")
        models, clock = _subword_models(data, staging, inherited or {}, words, sum(corpus_pairs), clock)
        tags = [source.tag for source in sources]
        tagged = [tag is not None for tag in tags]
        segmented = segment_pairs(words, corpus_pairs, tagged, data, models, pool, staging)
        kept = sum(segmented.kept_per_corpus)
        if not kept:
            raise HonyakuError(f"data.max_len={data.max_len} leaves no training pairs")
        counts = segmented.piece_counts("src"), segmented.piece_counts("tgt")
        if inherited:
            vocabularies = _inherited_vocabularies(config, read_vocabularies(staging), counts, staging, tags)
        else:
            vocabularies = _build_vocabularies(config, *counts, staging, tags)
            write_vocabularies(staging, *vocabularies)
        clock = _logged_pass(
            clock,
            f"split into pieces: {kept:,} pairs kept (data.max_len), vocabularies of {len(vocabularies[0]):,} and "
            f"{len(vocabularies[1]):,}",
        )
        corpora = _write_store(staging / TRAINING_STORE, segmented, vocabularies, sources, written, config.name)
        if data.subwords is not None and data.subwords.sampling is not None:
            _keep_words(words, np.concatenate(segmented.kept), staging / TRAINING_STORE)
        _logged_pass(clock, "encoded the pairs into the store")
        for path in (*words, *segmented.files()):
            path.unlink()
        made = {"data": config.to_dict()["data"], "share_vocab": config.model.share_vocab, "corpora": corpora}
        (staging / PREPARED_INFO).write_text(json.dumps(made, indent=1, ensure_ascii=False), encoding="utf-8")


def _subword_models(
    data: DataConfig, staging: Path, inherited: dict[str, Path], words: tuple[Path, Path], pairs: int, clock: float
) -> tuple[tuple[bytes | None, bytes | None], float]:
    """The inherited files put in place, and the subword models: the inherited ones, those learned from the words
    (pass 2's first part), or none where the model reads words; with the clock after it."""
    for name, path in inherited.items():
        shutil.copyfile(path, staging / name)
    if data.subwords is None:
        return (None, None), clock
    if inherited:
        return tuple(path.read_bytes() for path in subword_paths(staging)), clock
    models = learn_subwords(data, subword_paths(staging), sample_texts(words, pairs, data))
    return models, _logged_pass(clock, "learned the SentencePiece models")


def _write_store(
    store: Path,
    segmented: Segmented,
    vocabularies: tuple[Vocabulary, Vocabulary],
    sources: list[TrainingSource],
    written: list[CorpusCounts],
    name: str,
) -> list[dict[str, Any]]:
    """Pass 3: the kept pairs encoded into the store; what each corpus gave, as the store's info records it."""
    tags = [source.tag for source in sources]
    tag_ids = [None if tag is None else vocabularies[0].index[tag] for tag in tags]
    store.mkdir()
    sizes = (len(vocabularies[0]), len(vocabularies[1]))
    writer = StoreWriter(
        store, sum(segmented.kept_per_corpus), segmented.store_tokens([t is not None for t in tags]), sizes
    )
    for chunk in encode_segmented(segmented, vocabularies, tag_ids):
        writer.append(chunk)
    corpora = [
        {
            "name": source.name,
            "pairs": pairs,
            "read": counts.pairs,
            "held_out": counts.held_out,
            "duplicates": counts.duplicates,
            "weight": source.weight,
            "tag": source.tag,
        }
        for source, pairs, counts in zip(sources, segmented.kept_per_corpus, written)
    ]
    writer.close({"config": name, "corpora": corpora})
    return corpora


def inherited_files(config: Config) -> dict[str, Path]:
    """The vocabularies and subword models that a fine-tuning run takes from ``training.init_from``, by the
    names they have in the run; none without it."""
    if config.training.init_from is None:
        return {}
    return InitialModel.find(config.training.init_from).files_for(config)


def _logged_pass(started: float, what: str) -> float:
    now = time.perf_counter()
    logger.info(f"{what} ({now - started:.1f} s)")
    return now


def _build_vocabularies(
    config: Config, src_pieces: Counter[str], tgt_pieces: Counter[str], directory: Path, tags: list[str | None]
) -> tuple[Vocabulary, Vocabulary]:
    """The vocabularies of the pieces counted (tags first, after the special tokens, in the source's)."""
    data = config.data
    reserved = [tag for tag in tags if tag is not None]
    if data.subwords is not None and data.subwords.sampling is not None:
        # Sampled segmentations may hold any piece of the subword models, not only the best segmentations' pieces.
        src_subwords, tgt_subwords = load_subwords(data, subword_paths(directory))
        src_pieces.update(src_subwords.pieces())
        tgt_pieces.update(tgt_subwords.pieces())
    if config.model.share_vocab:  # one vocabulary of both sides, limited by data.src_vocab
        shared = Vocabulary.from_counts(
            src_pieces + tgt_pieces, data.src_vocab.min_freq, data.src_vocab.max_size, reserved
        )
        return shared, shared
    return (
        Vocabulary.from_counts(src_pieces, data.src_vocab.min_freq, data.src_vocab.max_size, reserved),
        Vocabulary.from_counts(tgt_pieces, data.tgt_vocab.min_freq, data.tgt_vocab.max_size),
    )


def _inherited_vocabularies(
    config: Config,
    inherited: tuple[Vocabulary, Vocabulary],
    counts: tuple[Counter[str], Counter[str]],
    directory: Path,
    tags: list[str | None],
) -> tuple[Vocabulary, Vocabulary]:
    """training.init_from's vocabularies, as they are or grown (training.grow_vocabulary) by the tokens that
    vocabularies of this run's data would have and they lack, appended; those grown are written over theirs."""
    if not config.training.grow_vocabulary:
        if missing := [tag for tag in tags if tag is not None and tag not in inherited[0].index]:
            raise HonyakuError(
                f"data.train: the tag {missing[0]} is not in training.init_from's vocabulary "
                "(training.grow_vocabulary: true adds it)"
            )
        for side, vocabulary, pieces in zip(("source", "target"), inherited, counts):
            if unknown := sum(n for token, n in pieces.items() if token not in vocabulary.index):
                logger.info(
                    f"{unknown:,} of the {sum(pieces.values()):,} {side} tokens of the training data are not in "
                    "training.init_from's vocabulary and read as <unk> (training.grow_vocabulary: true adds them)"
                )
        return inherited
    wanted = _build_vocabularies(config, *counts, directory, tags)
    grown = tuple(vocabulary.extended(more.tokens) for vocabulary, more in zip(inherited, wanted))
    if config.model.share_vocab:
        grown = (grown[0], grown[0])
    write_vocabularies(directory, *grown)
    added = [len(new) - len(old) for new, old in zip(grown, inherited)]
    logger.info(f"grew training.init_from's vocabularies by {added[0]:,} (source) and {added[1]:,} (target) tokens")
    return grown


def _keep_words(words: tuple[Path, Path], kept: np.ndarray, store: Path) -> None:
    """The kept pairs' words, beside the store: subword sampling segments them afresh each epoch."""
    with (
        (store / WORDS_FILES[0]).open("w", encoding="utf-8") as src,
        (store / WORDS_FILES[1]).open("w", encoding="utf-8") as tgt,
    ):
        for keep, (src_line, tgt_line) in zip(kept.tolist(), word_lines(words)):
            if keep:
                src.write(src_line + "\n")
                tgt.write(tgt_line + "\n")


def split(subwords: Subwords, sentences: list[list[str]]) -> list[list[str]]:
    return [subwords.split(words) for words in sentences]
