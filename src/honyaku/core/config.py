"""Typed experiment configuration: one YAML file per experiment, validated at load, saved beside every run.

A config has three sections, ``data``, ``model`` and ``training``, plus ``decoding`` for inference defaults.
Unknown keys and values of the wrong type are rejected with the key's full dotted name, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from honyaku.core.data_config import DataConfig, as_list
from honyaku.core.errors import HonyakuError

# The names the model, training and decoding sections choose from (the registries: honyaku.models.factory,
# honyaku.models.attention, honyaku.core.runtime; test_config.py checks that they agree).
ARCHITECTURE_NAMES = ("seq2seq", "attention", "transformer")
ATTENTION_KINDS = ("dot", "general", "bahdanau")
PRECISION_NAMES = ("float32", "bfloat16", "float16")  # honyaku.core.runtime.PRECISIONS; training adds auto
# Longer input is refused before any work, by the translator (decoding.max_input_chars) and the server (--max-chars).
MAX_INPUT_CHARS = 1000


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
    # normalisation, honyaku.inference.engine.normalized_score); 0 ranks by log p alone, and lets beam search stop
    # once the most probable hypothesis has ended (with a penalty it goes on until beam_size have ended too).
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
            if not (defaults_left_out and getattr(value, entry.name) in (None, field_default(entry)))
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, defaults_left_out) for v in value]
    return value


def field_default(entry: dataclasses.Field) -> Any:
    """A config field's default value (its factory's, for a section or a list)."""
    if entry.default_factory is not dataclasses.MISSING:
        return entry.default_factory()
    return entry.default
