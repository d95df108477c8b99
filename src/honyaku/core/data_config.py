"""The data section of a config: what a model learns from (corpora and their splits, weights and tags), how text
becomes its tokens (text processors, vocabularies, subwords). ``honyaku.core.config`` holds the other sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from honyaku.core.errors import HonyakuError

# The names a data section chooses from. The registries behind them live in the layers above (honyaku.data.corpus,
# honyaku.data.text), keyed by these names (test_config.py checks that they agree), so that a config is validated
# without importing them.
BUILTIN_CORPUS_NAMES = ("small_parallel_enja", "tatoeba_enja", "graded_enja", "kyoto_wiki", "coursera_enja")
PROCESSOR_NAMES = ("pretokenized", "english", "japanese", "text")


@dataclass
class SplitFiles:
    """One split of a user's parallel corpus: two aligned files, or one TSV of ``source<TAB>target``."""

    src: str | None = None  # the source side: a text file, one sentence a line
    tgt: str | None = None  # the target side, line for line with src
    tsv: str | None = None  # instead of src and tgt: one file of source<TAB>target lines
    # tokenized: tokens separated by spaces, as small_parallel_enja; raw: text as people write it, which each
    # language's text processor tokenizes when the split is read, exactly as it tokenizes translation input.
    format: Literal["tokenized", "raw"] = "tokenized"

    def validate(self, where: str) -> None:
        if self.tsv is not None and (self.src is not None or self.tgt is not None):
            raise HonyakuError(f"{where}: give either 'tsv' or 'src' and 'tgt', not both")
        if self.tsv is None and (self.src is None or self.tgt is None):
            raise HonyakuError(f"{where}: needs both 'src' and 'tgt' (or a single 'tsv')")


@dataclass
class CorpusSplit(SplitFiles):
    """One corpus of a split: the split of a built-in corpus (``corpus``), or files."""

    corpus: str | None = None  # instead of files: the built-in corpus whose split this is

    def validate(self, where: str) -> None:
        if self.corpus is None:
            super().validate(where)
            return
        if self.src is not None or self.tgt is not None or self.tsv is not None:
            raise HonyakuError(f"{where}: give either 'corpus' or files ('src' and 'tgt', or 'tsv'), not both")
        if self.corpus not in BUILTIN_CORPUS_NAMES:
            raise HonyakuError(
                f"{where}.corpus: unknown corpus {self.corpus!r}; built in: {', '.join(BUILTIN_CORPUS_NAMES)}"
            )


@dataclass
class TrainingCorpus(CorpusSplit):
    """One corpus of the training data: a built-in corpus's training split (``corpus``), files, or a directory
    written by ``honyaku distill`` (``distilled``), drawn ``weight`` times per epoch on average (2: each pair
    twice; 0.5: a random half, a different one each epoch), its sources led by ``tag`` when given (a token of its
    own, as in tagged back-translation; translation input gets no tag)."""

    distilled: str | None = None  # instead of a corpus or files: a directory written by honyaku distill
    # Draws per pair and epoch on average: 2, each pair twice; 0.5, a random half, another one each epoch.
    weight: float = 1.0
    # A token leading every source of this corpus (<bt>: tagged back-translation); translation input gets none
    # unless asked for (honyaku translate --tag).
    tag: str | None = None

    def validate(self, where: str) -> None:
        if self.distilled is None:
            super().validate(where)
        elif any(value is not None for value in (self.corpus, self.src, self.tgt, self.tsv)):
            raise HonyakuError(f"{where}: give one of 'corpus', files ('src' and 'tgt', or 'tsv') or 'distilled'")
        elif self.format != "tokenized":
            raise HonyakuError(f"{where}.format: a distilled corpus is in its corpus's tokens; leave 'format' out")
        if not self.weight > 0:
            raise HonyakuError(f"{where}.weight: must be > 0 (draws per pair and epoch), got {self.weight}")
        if self.tag is not None and (not self.tag.strip() or any(c.isspace() for c in self.tag)):
            raise HonyakuError(f"{where}.tag: must be one token without spaces, such as <bt>, got {self.tag!r}")


@dataclass
class VocabConfig:
    """A side's vocabulary (the words, or the subword pieces, that the model reads or writes): what the training
    data holds, less what is rare."""

    min_freq: int = 1  # a word or piece seen fewer times in the training data reads as <unk>
    max_size: int | None = None  # the N most frequent kept (not counting the special tokens); null: all

    def validate(self, where: str) -> None:
        if self.min_freq < 1:
            raise HonyakuError(f"{where}.min_freq: must be ≥ 1, got {self.min_freq}")
        if self.max_size is not None and self.max_size < 1:
            raise HonyakuError(f"{where}.max_size: must be ≥ 1 or null, got {self.max_size}")


@dataclass
class SubwordSampling:
    """Subword regularization (Kudo, 2018) for unigram models: each training epoch segments each sentence
    afresh, drawing one of its ``nbest_size`` best segmentations with probability ∝ P(segmentation) ** alpha
    (alpha → 0: uniform over them; larger: closer to the best). Training batches only: dev, test and translation
    keep the single best segmentation."""

    alpha: float = 0.1  # the sharpness of the draw: P(segmentation) ** alpha
    nbest_size: int = 64  # how many of the best segmentations are drawn from

    def validate(self, where: str) -> None:
        if not 0.0 < self.alpha <= 1.0:
            raise HonyakuError(f"{where}.alpha: must be in (0, 1], got {self.alpha}")
        if self.nbest_size < 2:
            raise HonyakuError(f"{where}.nbest_size: must be ≥ 2 (segmentations to draw from), got {self.nbest_size}")


@dataclass
class SubwordConfig:
    """A SentencePiece model trained on the training data by ``honyaku train``."""

    model: str = "unigram"  # unigram | bpe
    vocab_size: int = 8000  # at most: SentencePiece may find fewer pieces in small data
    joint: bool = False  # one model of both languages (required with model.share_vocab)
    # The share of the training text's characters that SentencePiece covers with pieces; the rarest others read
    # as <unk> (0.9995 is usual for Japanese, whose rare kanji are many).
    character_coverage: float = 1.0
    # Read each source sentence as written (its words joined by the source language's detokenizer), not word by
    # word: for a language written without spaces (Japanese) the model then never sees a word segmentation, so
    # raw input segmented by another analyser than the corpus's reads exactly like the training data.
    source_as_text: bool = False
    sampling: SubwordSampling | None = None  # null: one deterministic segmentation in training too
    # SentencePiece learns from at most this many sentences (per model; a joint model's count both sides): a
    # random sample of a larger corpus, the same for the same corpus on every machine. null: every sentence.
    max_sentences: int | None = 1_000_000

    def validate(self, where: str) -> None:
        if self.max_sentences is not None and self.max_sentences < 1:
            raise HonyakuError(f"{where}.max_sentences: must be ≥ 1 or null, got {self.max_sentences}")
        if self.sampling is not None:
            self.sampling.validate(f"{where}.sampling")
            if self.model != "unigram":
                raise HonyakuError(
                    f"{where}.sampling: for unigram models only (SentencePiece's BPE-dropout draws from a generator "
                    "that cannot be seeded, so a resumed run would not repeat its segmentations)"
                )
        if self.model not in ("unigram", "bpe"):
            raise HonyakuError(f"{where}.model: must be 'unigram' or 'bpe', got {self.model!r}")
        if self.vocab_size < 8:
            raise HonyakuError(f"{where}.vocab_size: must be ≥ 8, got {self.vocab_size}")
        if not 0.9 <= self.character_coverage <= 1.0:
            raise HonyakuError(f"{where}.character_coverage: must be in [0.9, 1], got {self.character_coverage}")


@dataclass
class DataConfig:
    """What the model learns from and how text becomes its tokens: corpora, held-out splits, text processors,
    vocabularies, subwords."""

    # A built-in corpus name, or null to read the train/dev/test files below.
    corpus: str | None = "small_parallel_enja"
    # The source language's code (en, ja, ...): it picks the default text processor and, for a built-in corpus,
    # the side read as the source.
    src_lang: str = "en"
    tgt_lang: str = "ja"  # the target language's code
    # The training pairs: one corpus, or a list of corpora with weights and tags; null: the built-in corpus's.
    train: TrainingCorpus | list[TrainingCorpus] | None = None
    # Dev and test: one corpus's split or several, end to end (a dev of two corpora selects a model on both);
    # null: the built-in corpus's.
    dev: CorpusSplit | list[CorpusSplit] | None = None
    # The split that honyaku evaluate --split test and model cards score, given as dev is; null: the built-in
    # corpus's.
    test: CorpusSplit | list[CorpusSplit] | None = None
    # Leave out every training pair whose source or target (compared without case or spaces) is a sentence of
    # the dev or test split of the config or of a built-in corpus that it trains on: no test sentence is
    # learned, whichever corpus it came from. The number left out is logged and kept with the prepared data.
    exclude_held_out: bool = False
    # Train on each pair once however many times the training corpora hold it (compared as exclude_held_out
    # compares sentences, so a corpus's tokens match another's text): the first, in data.train's order, is kept.
    # The number left out per corpus is logged and kept with the prepared data.
    deduplicate: bool = False
    # Training pairs whose either side is longer than this many model tokens (words, or pieces with subwords),
    # counting <s> and </s>, are left out.
    max_len: int | None = None
    # Use only the first N training pairs (quick experiments, tests).
    train_limit: int | None = None
    # Directories written by `honyaku distill` (a teacher's translations of the training set, either direction)
    # whose pairs join the training pairs: sequence-level knowledge distillation (Kim and Rush, 2016), or with a
    # forward and a backward teacher, data diversification (Nguyen et al., 2020).
    distilled: list[str] = field(default_factory=list)
    distilled_only: bool = False  # train on the distilled pairs alone, without the original ones
    src_vocab: VocabConfig = field(default_factory=VocabConfig)  # the source side's vocabulary
    tgt_vocab: VocabConfig = field(default_factory=VocabConfig)  # the target side's vocabulary
    # How a translator turns raw source text into tokens (honyaku.data.text): english, japanese, text or
    # pretokenized; null picks by language (en → english, ja → japanese, others pretokenized).
    src_processor: str | None = None
    # How the target side's tokens become text, and how raw target text is read (dev BLEU, raw corpora): the
    # same names; null picks by language.
    tgt_processor: str | None = None
    subwords: SubwordConfig | None = None  # null: the model reads and writes words

    def validate(self, where: str) -> None:
        for side in ("src_processor", "tgt_processor"):
            if getattr(self, side) not in (None, *PROCESSOR_NAMES):
                raise HonyakuError(f"{where}.{side}: must be one of {', '.join(PROCESSOR_NAMES)} or null")

        if self.corpus is None:
            if self.train is None or self.dev is None:
                raise HonyakuError(f"{where}: with 'corpus: null', both 'train' and 'dev' files are required")
        elif self.corpus not in BUILTIN_CORPUS_NAMES:
            raise HonyakuError(
                f"{where}.corpus: unknown corpus {self.corpus!r}; built in: {', '.join(BUILTIN_CORPUS_NAMES)}"
                " (or null with your own train/dev files)"
            )
        for name in ("train", "dev", "test"):
            split = getattr(self, name)
            if isinstance(split, list):
                if not split:
                    raise HonyakuError(f"{where}.{name}: an empty list; give at least one corpus, or null")
                for i, corpus in enumerate(split):
                    corpus.validate(f"{where}.{name}[{i}]")
            elif split is not None:
                split.validate(f"{where}.{name}")
        if self.max_len is not None and self.max_len < 3:
            raise HonyakuError(f"{where}.max_len: must be ≥ 3 (it counts <s> and </s>), got {self.max_len}")
        if self.distilled_only and not self.distilled:
            raise HonyakuError(f"{where}.distilled_only: no distilled corpora are given (data.distilled)")
        if self.train_limit is not None and self.train_limit < 1:
            raise HonyakuError(f"{where}.train_limit: must be ≥ 1 or null, got {self.train_limit}")
        self.src_vocab.validate(f"{where}.src_vocab")
        self.tgt_vocab.validate(f"{where}.tgt_vocab")
        if self.subwords is not None:
            self.subwords.validate(f"{where}.subwords")


def as_list(train: TrainingCorpus | list[TrainingCorpus] | None) -> list[TrainingCorpus]:
    """``data.train`` as a list of corpora (empty where it is null)."""
    return train if isinstance(train, list) else [] if train is None else [train]
