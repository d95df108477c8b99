"""The data a run trains on, prepared from its config: the corpora read and tokenized, the casing table and
subword models learned, the vocabularies built, the training pairs encoded into a memory-mapped store.

Prepared data is kept in a directory of its own, named by a hash of what it is made from (the config's data
section, ``model.share_vocab`` and each training file's path, size and modification time), under a root that
runs share (``DataPlaces.prepared_dir``). A run copies the vocabularies, subword models and casing table into
its directory (they are part of the model) and links the store; a second run with the same data finds the
directory and prepares nothing. Preparation streams the corpora through worker processes
(honyaku.data.encoding), so that its memory does not grow with the corpus beyond the SentencePiece sample, and
writes the directory atomically: an interrupted preparation leaves nothing a later run would take for it.
``Trainer`` receives the result and never reads a corpus itself."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from honyaku.core.config import Config
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.core.runtime import usable_cpus
from honyaku.data.batching import CorpusRange, ParallelData, TrainingPairs, encode_pairs, tokenized
from honyaku.data.casing import learn_casing, save_casing
from honyaku.data.corpus import TrainingSource, cache_dir, read_split, training_sources
from honyaku.data.encoding import count_pieces, encode_pieces, sample_texts, word_lines, write_words
from honyaku.data.store import WORDS_FILES, StoredPairs, StoreWriter, store_info
from honyaku.data.subwords import Subwords, load_subwords, train_subwords
from honyaku.data.text import detokenize, processor_names
from honyaku.data.vocabulary import Vocabulary
from honyaku.distributed import World
from honyaku.modeldir import (
    CASING_FILE,
    PREPARED_INFO,
    SUBWORD_FILES,
    TRAINING_STORE,
    VOCABULARY_FILES,
    read_vocabularies,
    remove_store,
    subword_paths,
    write_vocabularies,
)

logger = logging.getLogger("honyaku.training")

PREPARED_DIR_ENV = "HONYAKU_PREPARED_DIR"
PREPARED_FORMAT = 1  # part of the hash: a new format prepares afresh
WORDS = ("words.src", "words.tgt")  # pass 1's output, while the directory is being prepared


@dataclass(frozen=True)
class DataPlaces:
    """Where a run's data comes from and goes: the built-in corpus's directory (else ``$HONYAKU_DATA_DIR`` or
    the cache), the root of prepared data that runs share (else ``$HONYAKU_PREPARED_DIR``, else the cache's
    ``prepared/``), and how many worker processes prepare it (default: every CPU the process may use)."""

    data_dir: str | None = None
    prepared_dir: str | None = None
    workers: int | None = None

    def prepared_root(self) -> Path:
        return Path(self.prepared_dir or os.environ.get(PREPARED_DIR_ENV) or cache_dir() / "prepared")


@dataclass
class PreparedData:
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    src_subwords: Subwords
    tgt_subwords: Subwords
    training_pairs: TrainingPairs
    dev_data: ParallelData
    dev_references: list[str]  # the dev targets as the corpus's tokens, which dev BLEU is computed on


def prepare_data(config: Config, run_dir: Path, places: DataPlaces, resume: bool, world: World) -> PreparedData:
    """The run's data; with several processes, rank 0 prepares it and the others read it.

    A new run takes its data from the prepared directory of its config (``link_prepared``); a resumed run (or
    one that ``honyaku prepare`` prepared) keeps its own vocabularies and subword models and reads its store,
    linking it again only where the store is gone."""
    data = config.data
    with world.main_first():
        if world.is_main and not (resume and store_info(run_dir / TRAINING_STORE) is not None):
            link_prepared(config, run_dir, places, resume)
    src_subwords, tgt_subwords = load_subwords(data, subword_paths(run_dir))
    src_vocab, tgt_vocab = read_vocabularies(run_dir)
    stored = StoredPairs(run_dir / TRAINING_STORE)
    sampling = data.subwords.sampling if data.subwords is not None else None
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
            for corpus in stored.info["corpora"]
        ],
    )
    dev_src, dev_tgt = tokenized(read_split(data, "dev", places.data_dir))
    dev_data = encode_pairs(split(src_subwords, dev_src), split(tgt_subwords, dev_tgt), src_vocab, tgt_vocab)
    references = [detokenize(t) for t in dev_tgt]
    return PreparedData(src_vocab, tgt_vocab, src_subwords, tgt_subwords, training_pairs, dev_data, references)


def link_prepared(config: Config, run_dir: Path, places: DataPlaces, resume: bool) -> Path:
    """Put the config's prepared data into the run, preparing it first where no run has: the model's files are
    copied (a resumed run keeps its own, which must agree), the store is linked. Gives the prepared directory."""
    sources = training_sources(config.data, places.data_dir)
    directory = places.prepared_root() / data_key(config, sources)
    if (directory / PREPARED_INFO).is_file():
        logger.info(f"prepared data: {directory} (made before, reused)")
    else:
        prepare_directory(config, sources, directory, places.workers or usable_cpus())
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
    return directory


def data_key(config: Config, sources: list[TrainingSource]) -> str:
    """The name of a config's prepared data: a hash of everything that it is made from."""
    inputs = []
    for source in sources:
        files = source.files
        for path in (files.tsv,) if files.tsv is not None else (files.src, files.tgt):
            status = Path(path).stat()
            inputs.append([str(Path(path).resolve()), status.st_size, status.st_mtime_ns])
    made_from = {
        "format": PREPARED_FORMAT,
        "data": config.to_dict()["data"],
        "share_vocab": config.model.share_vocab,
        "inputs": inputs,
    }
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:16]


def prepare_directory(config: Config, sources: list[TrainingSource], directory: Path, workers: int) -> None:
    """Prepare the data of ``config`` into ``directory``, atomically: words (pass 1), casing, subword models,
    piece counts and vocabularies (pass 2), the store (pass 3)."""
    data = config.data
    with atomic_directory(directory) as staging:
        words = (staging / WORDS[0], staging / WORDS[1])
        corpus_pairs = write_words(sources, data, words, workers)
        if processor_names(data) == ("japanese", "english"):
            english = (target.split() for _, target in word_lines(words))
            japanese = (source.split() for source, _ in word_lines(words))
            save_casing(learn_casing(english, japanese), staging / CASING_FILE)
        models = _train_subwords(config, words, sum(corpus_pairs), staging)
        tags = [source.tag for source in sources]
        counts = count_pieces(words, corpus_pairs, tags, data, models, workers)
        if not sum(counts.kept_per_corpus):
            raise HonyakuError(f"data.max_len={data.max_len} leaves no training pairs")
        vocabularies = _build_vocabularies(config, counts.src_pieces, counts.tgt_pieces, staging, tags)
        write_vocabularies(staging, *vocabularies)
        tag_ids = [None if tag is None else vocabularies[0].index[tag] for tag in tags]
        (staging / TRAINING_STORE).mkdir()
        sizes = (len(vocabularies[0]), len(vocabularies[1]))
        writer = StoreWriter(staging / TRAINING_STORE, sum(counts.kept_per_corpus), counts.tokens(), sizes)
        for chunk in encode_pieces(words, corpus_pairs, tag_ids, data, models, vocabularies, workers):
            writer.append(chunk)
        corpora = [
            {"name": source.name, "pairs": kept, "read": read, "weight": source.weight, "tag": source.tag}
            for source, kept, read in zip(sources, counts.kept_per_corpus, corpus_pairs)
        ]
        writer.close({"config": config.name, "corpora": corpora})
        if data.subwords is not None and data.subwords.sampling is not None:
            _keep_words(words, np.concatenate(counts.kept), staging / TRAINING_STORE)
        for path in words:
            path.unlink()
        made = {"data": config.to_dict()["data"], "share_vocab": config.model.share_vocab, "corpora": corpora}
        (staging / PREPARED_INFO).write_text(json.dumps(made, indent=1, ensure_ascii=False), encoding="utf-8")


def _train_subwords(
    config: Config, words: tuple[Path, Path], pairs: int, directory: Path
) -> tuple[bytes | None, bytes | None]:
    """The source and target SentencePiece models (None without subwords), learned and written."""
    subwords = config.data.subwords
    if subwords is None:
        return None, None
    src_texts, tgt_texts = sample_texts(words, pairs, config.data)
    src_model = train_subwords(src_texts, subwords)
    tgt_model = src_model if subwords.joint else train_subwords(tgt_texts, subwords)
    for model, path in zip((src_model, tgt_model), subword_paths(directory)):
        path.write_bytes(model)
    return src_model, tgt_model


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
