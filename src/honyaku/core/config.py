"""Typed experiment configuration: one YAML file per experiment, validated at load, saved beside every run.

A config has three sections, ``data``, ``model`` and ``training``, plus ``decoding`` for inference defaults.
Unknown keys and values of the wrong type are rejected with the key's full dotted name, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from honyaku.core.errors import HonyakuError

# libyaml's parser where PyYAML was built with it: ten times as fast as the pure-Python one (8 ms for a run's config)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``text``'s YAML, as ``yaml.safe_load`` reads it; raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=SAFE_LOADER)


# The names a config chooses from. The registries behind them live in the layers above (honyaku.data.corpus,
# honyaku.data.text, honyaku.models.factory, honyaku.models.attention), keyed by these names (test_config.py
# checks that they agree), so that a config is validated without importing them.
BUILTIN_CORPUS_NAMES = ("small_parallel_enja", "tatoeba_enja", "graded_enja", "kyoto_wiki", "coursera_enja")
PROCESSOR_NAMES = ("pretokenized", "english", "japanese", "text")
ARCHITECTURE_NAMES = ("seq2seq", "attention", "transformer")
ATTENTION_KINDS = ("dot", "general", "bahdanau")
PRECISION_NAMES = ("float32", "bfloat16", "float16")  # honyaku.core.runtime.PRECISIONS; training adds auto
# Longer input is refused before any work, by the translator (decoding.max_input_chars) and the server (--max-chars).
MAX_INPUT_CHARS = 1000


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


@dataclass
class ModelConfig:
    """The network: its architecture and sizes (``honyaku.models.factory.build_model`` builds it)."""

    # seq2seq: Sutskever et al.'s LSTM encoder and decoder, the source's final state (h, c) starting the
    # decoder; attention: LSTMs with Luong et al.'s attention; transformer: Vaswani et al.'s, pre-norm.
    arch: str = "seq2seq"
    embed_dim: int = 256  # the embeddings' size; a Transformer's model size
    hidden_size: int = 512  # the LSTMs' state size (a Transformer's inner size is ffn_size)
    # LSTM layers, stacked; a Transformer's encoder layers, and its decoder's unless decoder_layers is set.
    num_layers: int = 1
    dropout: float = 0.0  # on embeddings and between layers (a Transformer's residual connections)
    # Dropout of whole input tokens: a dropped token's embedding is zeroed, source and target side (Sennrich
    # et al., 2016; Gal and Ghahramani, 2016).
    word_dropout: float = 0.0
    # Sutskever et al. (2014): feed the source backwards so that its first words sit next to the target's.
    reverse_source: bool = False
    # arch 'attention': how decoder states score encoder states (dot, general, bahdanau) and whether each
    # step's attentional vector is fed to the next step (Luong et al.'s input feeding: slower to train).
    attention: str = "general"
    input_feeding: bool = False  # arch attention: Luong et al.'s input feeding (see attention)
    # arch 'transformer': embed_dim is the model size and num_layers the depth of encoder and decoder each, unless
    # decoder_layers sets the decoder's: a deep encoder with a shallow decoder translates faster for the same
    # quality (Kasai et al., 2021), since only the decoder runs once per output token.
    decoder_layers: int | None = None
    num_heads: int = 4  # arch transformer: attention heads (embed_dim must divide by it)
    ffn_size: int = 1024  # arch transformer: the inner size of each feed-forward layer
    attention_dropout: float = 0.0  # arch transformer: on the attention weights
    activation_dropout: float | None = None  # inside the feed-forward layers; null: as model.dropout
    max_positions: int = 1024  # arch transformer: the longest input or output, in tokens, it has positions for
    tie_embeddings: bool = False  # the target embedding is the output projection
    share_vocab: bool = False  # one vocabulary (and embedding) for both languages

    @property
    def decoder_depth(self) -> int:
        return self.num_layers if self.decoder_layers is None else self.decoder_layers

    def validate(self, where: str) -> None:
        if self.arch not in ARCHITECTURE_NAMES:
            raise HonyakuError(
                f"{where}.arch: unknown architecture {self.arch!r}; known: {', '.join(ARCHITECTURE_NAMES)}"
            )
        for name in ("embed_dim", "hidden_size", "num_layers", "decoder_layers"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise HonyakuError(f"{where}.{name}: must be ≥ 1, got {getattr(self, name)}")
        if self.decoder_layers is not None and self.arch != "transformer":
            raise HonyakuError(f"{where}.decoder_layers: only for arch transformer (num_layers sets both sides)")
        for name in ("dropout", "word_dropout", "attention_dropout", "activation_dropout"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value < 1.0:
                raise HonyakuError(f"{where}.{name}: must be in [0, 1), got {value}")
        if self.attention not in ATTENTION_KINDS:
            raise HonyakuError(
                f"{where}.attention: must be one of {', '.join(ATTENTION_KINDS)}, got {self.attention!r}"
            )
        if self.arch == "transformer" and (self.embed_dim % 2 or self.embed_dim < 4):
            raise HonyakuError(f"{where}.embed_dim: a Transformer needs an even size ≥ 4, got {self.embed_dim}")
        if self.arch == "transformer" and self.embed_dim % self.num_heads:
            raise HonyakuError(f"{where}.embed_dim: {self.embed_dim} is not divisible by num_heads={self.num_heads}")
        if self.share_vocab and self.arch != "transformer":
            raise HonyakuError(f"{where}.share_vocab: only for arch transformer")
        if self.reverse_source and self.arch != "seq2seq":
            raise HonyakuError(
                f"{where}.reverse_source: only for arch seq2seq (the {self.arch} encoder reads both ways)"
            )


@dataclass
class TrainingConfig:
    """How the model learns: batches, optimizer and schedule, precision, evaluation, stopping, checkpoints."""

    # Seeds the initial weights, the order of batches and dropout: the same config, data and machine train the
    # same model, and a resumed run the same as an uninterrupted one.
    seed: int = 1
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # Batches hold at most batch_size sentences and, if set, at most batch_tokens padded tokens per side.
    batch_size: int = 64
    batch_tokens: int | None = None  # at most this many padded tokens a side in a batch; null: no token limit
    optimizer: str = "adam"  # adam, or adamw: weight decay decoupled from the gradient (Loshchilov and Hutter)
    # The learning rate: plateau's first; inverse_sqrt's peak, reached after warmup_steps.
    learning_rate: float = 1e-3
    adam_betas: tuple[float, float] = (0.9, 0.999)  # Adam's β1 and β2
    weight_decay: float = 0.0  # adam: an L2 penalty in the gradient; adamw: decoupled weight decay
    clip_grad_norm: float | None = 1.0  # gradients rescaled to this global norm at most; null: not clipped
    label_smoothing: float = 0.0  # ε of the cross-entropy's label smoothing (Szegedy et al., 2016); 0: off
    # R-Drop (Wu et al., 2021): each batch runs through the model twice, under two dropout masks, and the loss
    # adds alpha × the symmetric KL divergence between the two output distributions. 0: off. Twice the compute.
    rdrop_alpha: float = 0.0
    # Bidirectional training (Ding et al., 2021): the first N epochs train on the pairs both ways, the reversed
    # pairs' sources marked by a leading <s>; later epochs train the config's direction alone. Needs
    # model.share_vocab. The model's files and exports are those of a one-direction model.
    bidirectional_epochs: int = 0
    # Fine-tuning: the run starts from the weights of another model (a run, an averaged or a bundled model
    # directory, a run's checkpoint or weights file) and reads and writes with that model's vocabularies and
    # subword models (sides swapped for a model of the other direction), learning none of its own; optimizer,
    # schedule and data order start afresh. The model section must build the same network.
    init_from: str | None = None
    # With init_from: the inherited vocabularies grow by the pieces (or words) of this run's training data that
    # they lack, at least data.*_vocab.min_freq times, and by its corpus tags, appended after the inherited ones;
    # their embedding and output rows start at the mean of the inherited rows. Without it those read as <unk>.
    grow_vocabulary: bool = False
    # The precision of the forward and backward passes (torch.autocast): auto | float32 | bfloat16 | float16.
    # auto: bfloat16 on a CUDA device that has it, float16 on an older one, float32 on the CPU. Weights, optimizer
    # state and checkpoints stay float32 and the loss is computed in float32; float16 scales the loss
    # (torch.amp.GradScaler, its state in every checkpoint).
    precision: str = "auto"
    # torch.compile the model for training steps (bench/gpu_check.py measures what it gains on a GPU).
    compile: bool = False
    max_epochs: int = 30  # the run stops after this many epochs (an epoch draws each pair its corpus's weight times)
    max_steps: int | None = None  # or after this many optimizer steps; null: no limit
    # Or after this many minutes of training (steps and evaluations), counted over every session of a resumed
    # run: it stops cleanly and keeps its checkpoints; null: no limit.
    max_minutes: float | None = None
    # Validate on dev every epoch, or every N steps if set; checkpoint 'last' every checkpoint_every_steps too.
    eval_every_steps: int | None = None
    checkpoint_every_steps: int | None = None  # save the 'last' checkpoint every N steps between evaluations
    # Without a progress bar (--no-progress, or output not to a terminal), log a line every N steps.
    log_every_steps: int = 100
    # How many of the newest training checkpoints, and of the best-scoring evaluations' weights, to keep
    # (both can be averaged: honyaku average).
    keep_last_checkpoints: int = 2
    keep_best_checkpoints: int = 1  # the weights of this many best-scoring evaluations are kept
    # plateau: multiply the rate by lr_decay_factor when the dev metric stalls (lr_decay_patience evaluations).
    # inverse_sqrt: linear warm-up to learning_rate over warmup_steps, then decay ∝ 1/sqrt(step) (Vaswani et al.).
    lr_schedule: str = "plateau"
    warmup_steps: int = 4000  # inverse_sqrt: the steps of linear warm-up
    # inverse_sqrt: the rate falls linearly to zero over the last cooldown_epochs epochs before max_epochs (the
    # decay phase of a warm-up–stable–decay schedule, Hägele et al. 2024), where checkpoint averaging only
    # approximates it. A resume may add it or change max_epochs, to cool a run down that plateaued.
    cooldown_epochs: int | None = None
    # Early stopping and plateau decay both watch this dev metric.
    validation_metric: str = "bleu"  # bleu | loss
    patience: int | None = 5  # stop after this many evaluations without a better one; null: never early
    lr_decay_factor: float = 0.5  # plateau: what the rate is multiplied by when the dev metric stalls
    lr_decay_patience: int = 1  # plateau: evaluations without a better one before the rate decays
    min_learning_rate: float = 1e-5  # plateau: the rate decays no lower
    eval_batch_size: int = 128  # sentences a batch when dev loss and BLEU are computed
    # A step whose loss or gradient is NaN/infinite is skipped; this many in a row stop the run with an error.
    max_nonfinite_steps: int = 5

    @property
    def higher_is_better(self) -> bool:
        """Whether the dev metric that early stopping and plateau decay watch improves upwards (BLEU) or not."""
        return self.validation_metric == "bleu"

    def validate(self, where: str) -> None:
        if self.batch_size < 1:
            raise HonyakuError(f"{where}.batch_size: must be ≥ 1, got {self.batch_size}")
        if self.batch_tokens is not None and self.batch_tokens < 1:
            raise HonyakuError(f"{where}.batch_tokens: must be ≥ 1 or null, got {self.batch_tokens}")
        if self.optimizer not in ("adam", "adamw"):
            raise HonyakuError(f"{where}.optimizer: must be 'adam' or 'adamw', got {self.optimizer!r}")
        if self.learning_rate <= 0:
            raise HonyakuError(f"{where}.learning_rate: must be > 0, got {self.learning_rate}")
        if self.lr_schedule not in ("plateau", "inverse_sqrt"):
            raise HonyakuError(f"{where}.lr_schedule: must be 'plateau' or 'inverse_sqrt', got {self.lr_schedule!r}")
        if self.warmup_steps < 1:
            raise HonyakuError(f"{where}.warmup_steps: must be ≥ 1, got {self.warmup_steps}")
        if self.validation_metric not in ("bleu", "loss"):
            raise HonyakuError(f"{where}.validation_metric: must be 'bleu' or 'loss', got {self.validation_metric!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise HonyakuError(f"{where}.label_smoothing: must be in [0, 1), got {self.label_smoothing}")
        if self.rdrop_alpha < 0:
            raise HonyakuError(f"{where}.rdrop_alpha: must be ≥ 0, got {self.rdrop_alpha}")
        if self.precision not in ("auto", *PRECISION_NAMES):
            raise HonyakuError(
                f"{where}.precision: must be one of auto, {', '.join(PRECISION_NAMES)}; got {self.precision!r}"
            )
        if self.grow_vocabulary and self.init_from is None:
            raise HonyakuError(f"{where}.grow_vocabulary: grows training.init_from's vocabularies; set init_from too")
        if self.bidirectional_epochs < 0:
            raise HonyakuError(f"{where}.bidirectional_epochs: must be ≥ 0, got {self.bidirectional_epochs}")
        if not 0.0 < self.lr_decay_factor < 1.0:
            raise HonyakuError(f"{where}.lr_decay_factor: must be in (0, 1), got {self.lr_decay_factor}")
        if self.cooldown_epochs is not None:
            if self.lr_schedule != "inverse_sqrt":
                raise HonyakuError(f"{where}.cooldown_epochs: needs lr_schedule: inverse_sqrt, not {self.lr_schedule}")
            if not 1 <= self.cooldown_epochs <= self.max_epochs:
                allowed = f"must be from 1 to max_epochs ({self.max_epochs})"
                raise HonyakuError(f"{where}.cooldown_epochs: {allowed}, got {self.cooldown_epochs}")
        for name in (
            "max_epochs",
            "max_steps",
            "eval_every_steps",
            "checkpoint_every_steps",
            "patience",
            "keep_last_checkpoints",
            "keep_best_checkpoints",
            "log_every_steps",
            "max_nonfinite_steps",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise HonyakuError(f"{where}.{name}: must be ≥ 1 or null, got {value}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise HonyakuError(f"{where}.device: must be auto, cpu, cuda or cuda:N, got {self.device!r}")


@dataclass
class DecodingConfig:
    """How the model translates unless told otherwise (translate, evaluate, serve, pipeline): the search, output
    lengths, long input. Saved with the model; honyaku tune sets length_penalty on dev."""

    beam_size: int = 1  # 1 is greedy search
    # Finished hypotheses are ranked by log p / |y| ** alpha, |y| counting </s> (CTranslate2's and transformers'
    # normalisation, honyaku.inference.engine.normalized_score); 0 ranks by log p alone.
    length_penalty: float = 0.6
    # Output length limit: max_length_ratio × source length + max_length_offset tokens (without </s>).
    max_length_ratio: float = 2.0
    max_length_offset: int = 10  # the limit's offset, in tokens (see max_length_ratio)
    batch_size: int = 128  # sentences translated a batch
    # The longest sentence translated whole, in characters: a text is split into sentences first (unless told not
    # to), and a sentence still longer is split at clause punctuation (、, ; :), else at spaces or at this length,
    # and its parts translated one by one (long_sentences: split), or refused with an error before any work
    # (long_sentences: refuse). A text that is not split (pretokenized, or split_sentences off) is refused when
    # longer. Models trained on sentences under 150 characters translate long ones badly or not at all.
    max_input_chars: int = MAX_INPUT_CHARS
    long_sentences: Literal["split", "refuse"] = "split"  # a sentence over max_input_chars: split, or refuse

    def validate(self, where: str) -> None:
        if self.beam_size < 1:
            raise HonyakuError(f"{where}.beam_size: must be ≥ 1, got {self.beam_size}")
        if self.length_penalty < 0:
            raise HonyakuError(f"{where}.length_penalty: must be ≥ 0, got {self.length_penalty}")
        if self.max_length_ratio < 0 or self.max_length_offset < 1:
            raise HonyakuError(f"{where}: max_length_ratio must be ≥ 0 and max_length_offset ≥ 1")
        if self.batch_size < 1:
            raise HonyakuError(f"{where}.batch_size: must be ≥ 1, got {self.batch_size}")
        if self.max_input_chars < 1:
            raise HonyakuError(f"{where}.max_input_chars: must be ≥ 1, got {self.max_input_chars}")
        if self.long_sentences not in ("split", "refuse"):
            raise HonyakuError(f"{where}.long_sentences: must be 'split' or 'refuse', got {self.long_sentences!r}")


@dataclass
class Config:
    """One experiment, as its YAML file gives it; saved beside every run and model as config.yaml."""

    name: str = "experiment"  # the experiment's name: logs, model cards and reports call the model by it
    data: DataConfig = field(default_factory=DataConfig)  # what it learns from
    model: ModelConfig = field(default_factory=ModelConfig)  # the network
    training: TrainingConfig = field(default_factory=TrainingConfig)  # how it learns
    decoding: DecodingConfig = field(default_factory=DecodingConfig)  # how it translates

    def validate(self) -> None:
        for section in ("data", "model", "training", "decoding"):
            getattr(self, section).validate(section)
        if self.model.share_vocab and self.data.subwords is not None and not self.data.subwords.joint:
            raise HonyakuError("model.share_vocab needs one subword model of both languages: data.subwords.joint")
        if self.training.bidirectional_epochs and any(c.tag for c in as_list(self.data.train)):
            raise HonyakuError("training.bidirectional_epochs: not with tagged corpora (data.train[…].tag)")
        if self.training.bidirectional_epochs and not self.model.share_vocab:
            raise HonyakuError(
                "training.bidirectional_epochs: training both directions needs one vocabulary, model.share_vocab"
            )

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    def save(self, path: Path) -> None:
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8")


def as_list(train: TrainingCorpus | list[TrainingCorpus] | None) -> list[TrainingCorpus]:
    """``data.train`` as a list of corpora (empty where it is null)."""
    return train if isinstance(train, list) else [] if train is None else [train]


def search_text(beam_size: int, length_penalty: float) -> str:
    """A search as decoding settings give it, for cards and reports: greedy search, or beam 5, length penalty 2."""
    return "greedy search" if beam_size == 1 else f"beam {beam_size}, length penalty {length_penalty:g}"


def changed_settings(
    config: Config, reference: Config, sections: tuple[str, ...] = ("data", "model", "training")
) -> dict[str, tuple[Any, Any]]:
    """``{"section.key": (reference value, config value)}`` for each setting of the sections that differs."""
    changed = {}
    for section in sections:
        ours, theirs = getattr(config, section), getattr(reference, section)
        for entry in dataclasses.fields(ours):
            before, now = getattr(theirs, entry.name), getattr(ours, entry.name)
            if now != before:
                changed[f"{section}.{entry.name}"] = (before, now)
    return changed


def setting_text(value: Any) -> str:
    """A setting's value as a config file writes it (null, true, [0.9, 0.98], inverse_sqrt, [{corpus: x, weight:
    2}]: the keys of a section left at their defaults, or unset, left out), on one line, for messages and tables."""
    text = yaml.safe_dump(
        _plain(value, defaults_left_out=True),
        default_flow_style=True,
        allow_unicode=True,
        sort_keys=False,
        width=1 << 30,
    )
    return text.removesuffix("\n...\n").strip()


def _plain(value: Any, defaults_left_out: bool = False) -> Any:
    """Sections become dicts and tuples lists, so that the YAML stays plain (safe_dump/safe_load round trip); with
    ``defaults_left_out``, a section's keys that hold their default or null are dropped, as a config file leaves
    them out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            entry.name: _plain(getattr(value, entry.name), defaults_left_out)
            for entry in dataclasses.fields(value)
            if not (defaults_left_out and getattr(value, entry.name) in (None, _default(entry)))
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, defaults_left_out) for v in value]
    return value


def _default(entry: dataclasses.Field) -> Any:
    if entry.default_factory is not dataclasses.MISSING:
        return entry.default_factory()
    return entry.default


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read a config file (and the files it names as ``base``), override (``section.key=value`` strings, values
    parsed as YAML) and validate it."""
    raw = _read_with_bases(Path(path), ())
    for override in overrides or []:
        _apply_override(raw, override)
    return config_from_dict(raw, str(path))


def _read_with_bases(path: Path, children: tuple[Path, ...]) -> dict[str, Any]:
    """A config file's mapping with its ``base`` (a config file, relative to this one) resolved under it: the
    base's settings, then this file's on top of them, section by section and key by key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        named_by = f" (the base of {children[-1]})" if children else ""
        raise HonyakuError(f"{path}: config file not found{named_by}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HonyakuError(f"{path}: cannot read config: {error}") from None
    try:
        raw = parse_yaml(text) or {}
    except yaml.YAMLError as error:
        raise HonyakuError(f"{path}: invalid YAML: {error}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise HonyakuError(f"{path}: expected a mapping of sections at the top level")
    if "base" not in raw:
        return raw
    base = raw.pop("base")
    if not isinstance(base, str) or not base:
        raise HonyakuError(f"{path}: base: expected the path of a config file, got {base!r}")
    base_path = path.parent / base
    chain = (*children, path)
    if base_path.resolve() in {p.resolve() for p in chain}:
        circle = " → ".join(str(p) for p in (*chain, base_path))
        raise HonyakuError(f"{path}: config files name each other as base in a circle: {circle}")
    return _merged(_read_with_bases(base_path, chain), raw)


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        both_mappings = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if both_mappings else value
    return merged


def config_from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    try:
        config = _build(Config, raw, "")
        config.validate()
    except HonyakuError as error:
        raise HonyakuError(f"{source}: {error}") from None
    return config


def model_config_from_dict(raw: Any, where: str) -> ModelConfig:
    """A validated ``model`` section read from elsewhere than a config file (an ensemble's member)."""
    try:
        model = _build(ModelConfig, raw, "model")
        model.validate("model")
    except HonyakuError as error:
        raise HonyakuError(f"{where}: {error}") from None
    return model


def _apply_override(raw: dict[str, Any], override: str) -> None:
    key, sep, value = override.partition("=")
    if not sep or not key:
        raise HonyakuError(f"--set {override!r}: expected section.key=value")
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise HonyakuError(f"--set {override!r}: {part!r} is not a section")
    try:
        node[leaf] = parse_yaml(value)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not a YAML value"
        raise HonyakuError(f"--set {override}: the value is not valid YAML ({problem})") from None


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise HonyakuError(f"{where or 'top level'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        dotted = f"{where}.{key}" if where else str(key)
        if key not in fields:
            close = difflib.get_close_matches(str(key), sorted(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(fields))})"
            raise HonyakuError(f"unknown key {dotted!r}{hint}")
        values[key] = _coerce(hints[key], value, dotted)
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None:
            if type(None) in options:
                return None
            raise HonyakuError(f"{where}: must not be null")
        inner = [option for option in options if option is not type(None)]
        if len(inner) > 1:  # a value or a list of them: the list option takes a list
            inner = [o for o in inner if (typing.get_origin(o) is list) == isinstance(value, list)]
        return _coerce(inner[0], value, where)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise HonyakuError(f"{where}: must be one of {', '.join(map(str, allowed))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise HonyakuError(f"{where}: expected a list, got {value!r}")
        (item_hint,) = typing.get_args(hint)
        return [_coerce(item_hint, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise HonyakuError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(arg, item, f"{where}[{i}]") for i, (arg, item) in enumerate(zip(args, value)))
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise HonyakuError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
