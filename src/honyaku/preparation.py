"""The data a run trains on, prepared from its config: the corpus (and distilled pairs) read and tokenized, the
casing table and subword models learned, the vocabularies built, the training and dev pairs encoded. A new run
writes what it learned into its directory (through honyaku.modeldir); a resumed one reads it back, so that both
encode the same ids. ``Trainer`` receives the result and never reads a corpus itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from honyaku.core.config import Config
from honyaku.core.errors import HonyakuError
from honyaku.data.batching import ParallelData, TrainingPairs, encode_pairs, pairs_within, tokenized
from honyaku.data.casing import learn_casing, save_casing
from honyaku.data.corpus import distilled_split, read_parallel, read_split
from honyaku.data.store import StoredPairs, store_info, write_store
from honyaku.data.subwords import Subwords, load_subwords, prepare_subwords
from honyaku.data.text import detokenize, processor_names
from honyaku.data.vocabulary import Vocabulary
from honyaku.distributed import World
from honyaku.modeldir import CASING_FILE, TRAINING_STORE, read_vocabularies, subword_paths, write_vocabularies

Sentences = list[list[str]]


@dataclass
class PreparedData:
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    src_subwords: Subwords
    tgt_subwords: Subwords
    training_pairs: TrainingPairs
    dev_data: ParallelData
    dev_references: list[str]  # the dev targets as the corpus's tokens, which dev BLEU is computed on


def prepare_data(config: Config, run_dir: Path, data_dir: str | None, resume: bool, world: World) -> PreparedData:
    """Prepare the run's data; with several processes, rank 0 writes the run's files and the others read them.

    The encoded training pairs are kept in a store in the run (honyaku.data.store) and trained on from there.
    A resumed run whose store is complete reads neither the corpus nor the store into memory, unless subword
    sampling needs the pairs' words to segment them afresh."""
    data = config.data
    sampling = data.subwords.sampling if data.subwords is not None else None
    store = run_dir / TRAINING_STORE
    words = None
    if resume and sampling is None and store_info(store) is not None:
        src_subwords, tgt_subwords = load_subwords(data, subword_paths(run_dir))
        src_vocab, tgt_vocab = read_vocabularies(run_dir)
    else:
        words, (src_subwords, tgt_subwords), (src_vocab, tgt_vocab), encoded = encode_training_pairs(
            config, run_dir, data_dir, resume, world
        )
        with world.main_first():
            if world.is_main:
                write_store(store, encoded, (len(src_vocab), len(tgt_vocab)), {"config": config.name})
        del encoded  # from here on, the pairs are read from the store
        words = words if sampling is not None else None
    training_pairs = TrainingPairs(
        words,
        StoredPairs(store),
        (src_subwords, tgt_subwords),
        (src_vocab, tgt_vocab),
        sampling,
        config.training.seed,
        config.training.bidirectional_epochs,
    )
    dev_src, dev_tgt = tokenized(read_split(data, "dev", data_dir))
    dev_data = encode_pairs(split(src_subwords, dev_src), split(tgt_subwords, dev_tgt), src_vocab, tgt_vocab)
    references = [detokenize(t) for t in dev_tgt]
    return PreparedData(src_vocab, tgt_vocab, src_subwords, tgt_subwords, training_pairs, dev_data, references)


def encode_training_pairs(
    config: Config, run_dir: Path, data_dir: str | None, resume: bool, world: World
) -> tuple[tuple[Sentences, Sentences], tuple[Subwords, Subwords], tuple[Vocabulary, Vocabulary], ParallelData]:
    """The training pairs' words, the subword models and vocabularies (learned and written for a new run, read
    back for a resumed one), and the pairs encoded with them; pairs over ``data.max_len`` are left out."""
    data = config.data
    train_src, train_tgt = training_words(config, data_dir)
    learns = world.is_main and not resume
    with world.main_first():  # the other ranks read what rank 0 writes
        if world.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
        if learns and processor_names(data) == ("japanese", "english"):
            save_casing(learn_casing(train_tgt, train_src), run_dir / CASING_FILE)
        src_subwords, tgt_subwords = prepare_subwords(data, subword_paths(run_dir), train_src, train_tgt, not learns)
    pieces_src, pieces_tgt = split(src_subwords, train_src), split(tgt_subwords, train_tgt)
    kept = pairs_within(pieces_src, pieces_tgt, data.max_len)
    if not kept:
        raise HonyakuError(f"data.max_len={data.max_len} leaves no training pairs")
    train_src, train_tgt = [train_src[i] for i in kept], [train_tgt[i] for i in kept]
    pieces_src, pieces_tgt = [pieces_src[i] for i in kept], [pieces_tgt[i] for i in kept]
    if resume:
        src_vocab, tgt_vocab = read_vocabularies(run_dir)
    else:
        # Sampled segmentations may hold any piece of the subword models, not only the best segmentations' pieces.
        sampling = data.subwords is not None and data.subwords.sampling is not None
        every_src, every_tgt = ([s.pieces()] for s in (src_subwords, tgt_subwords)) if sampling else ([], [])
        if config.model.share_vocab:  # one vocabulary of both sides, limited by data.src_vocab
            limits = data.src_vocab
            src_vocab = tgt_vocab = Vocabulary.build(
                pieces_src + pieces_tgt + every_src + every_tgt, limits.min_freq, limits.max_size
            )
        else:
            src_vocab = Vocabulary.build(pieces_src + every_src, data.src_vocab.min_freq, data.src_vocab.max_size)
            tgt_vocab = Vocabulary.build(pieces_tgt + every_tgt, data.tgt_vocab.min_freq, data.tgt_vocab.max_size)
        if world.is_main:
            write_vocabularies(run_dir, src_vocab, tgt_vocab)
    encoded = encode_pairs(pieces_src, pieces_tgt, src_vocab, tgt_vocab)
    return (train_src, train_tgt), (src_subwords, tgt_subwords), (src_vocab, tgt_vocab), encoded


def training_words(config: Config, data_dir: str | None) -> tuple[Sentences, Sentences]:
    """The training pairs' words: the corpus's (at most data.train_limit of them) and the distilled ones."""
    data = config.data
    sources: Sentences = []
    targets: Sentences = []
    if not data.distilled_only:
        sources, targets = tokenized(read_split(data, "train", data_dir))
        sources, targets = sources[: data.train_limit], targets[: data.train_limit]
    for directory in data.distilled:
        more_sources, more_targets = tokenized(read_parallel(distilled_split(directory, data.src_lang, data.tgt_lang)))
        sources, targets = sources + more_sources, targets + more_targets
    return sources, targets


def split(subwords: Subwords, sentences: Sentences) -> Sentences:
    return [subwords.split(words) for words in sentences]
