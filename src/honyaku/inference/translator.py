"""Loading a trained run once and translating with it: ``Translator`` and a transformers-style ``pipeline``.

A translator that searches with CTranslate2 (the default for a Transformer) imports no PyTorch: the engines that
need it are imported where they are chosen."""

from __future__ import annotations

import copy
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from honyaku.core.config import PRECISION_NAMES, Config, DecodingConfig
from honyaku.core.data_config import DataConfig
from honyaku.core.errors import HonyakuError, needs_extra
from honyaku.core.files import atomic_path, atomic_write_bytes
from honyaku.data.corpus import EvaluationSet, read_split_tagged
from honyaku.data.subwords import Subwords, WordLevel
from honyaku.data.text import English, get_processor, join_tokens, processor_names, split_tokens
from honyaku.data.vocabulary import Vocabulary
from honyaku.inference.ct2 import export_refusal, load_ctranslate2
from honyaku.inference.engine import Hypothesis, SearchEngine
from honyaku.inference.pretrained import DEFAULT_DIRECTION, pretrained_model
from honyaku.inference.translation import Translation, TranslatorBase
from honyaku.modeldir import (
    CONFIG_FILE,
    TUNING_FILE,
    WEIGHTS_FILE,
    ModelDirectory,
    is_transformers_model,
    stored_weights,
)

if TYPE_CHECKING:  # PyTorch and transformers are imported where a translator needs them, not to translate
    import torch
    from torch import nn

    from honyaku.core.metrics import MetricResult
    from honyaku.inference.hub import TransformersTranslator

logger = logging.getLogger("honyaku")


BACKENDS = ("auto", "torch", "ctranslate2")


def pytorch_engine(files: ModelDirectory, device: str, int8: bool, dtype: str) -> SearchEngine:
    """honyaku's own search over the directory's PyTorch model, on ``device``, in ``dtype``; with ``int8``, its
    Linear and LSTM weights quantized (CPU only)."""
    with needs_extra(f"searching {files.path.name} with PyTorch"):
        from honyaku.core.runtime import configure_threads, named_dtype, resolve_device
        from honyaku.inference.search import TorchSearch, on_device

    configure_threads()
    resolved = resolve_device(device)
    model = on_device(files.model(), resolved, int8, named_dtype(dtype))
    return TorchSearch(model, (files.src_vocab, files.tgt_vocab), files.config.decoding, resolved)


def convert_for_ctranslate2(model_dir: Path, out_dir: Path) -> None:
    """The conversion stores float16 weights as float16 (half the size, nothing lost); CTranslate2 computes in
    the compute type it is loaded with."""
    with needs_extra(f"converting {model_dir.name} for CTranslate2 (bundled models ship theirs)"):
        from honyaku.inference.export import export_ctranslate2  # PyTorch and transformers: once per weights

    export_ctranslate2(model_dir, out_dir, "float16" if stored_weights(model_dir / WEIGHTS_FILE).half else None)


def ctranslate2_refusal(files: ModelDirectory) -> str | None:
    """Why ``backend="auto"`` searches a model directory with PyTorch rather than CTranslate2, or None."""
    if reason := export_refusal(files.path, files.config):
        return f"it does not convert to CTranslate2 ({reason.partition(';')[0]})"
    return None


@dataclass(frozen=True)
class LoadedFrom:
    """The directory a translator's model was loaded from, and how: what loading it again for PyTorch needs."""

    path: Path
    device: str
    int8: bool
    dtype: str


class Translator(TranslatorBase):
    """A trained model with its vocabularies and decoding settings, ready to translate lists of sentences."""

    pretokenized_io = True  # can read and write the corpus's own tokens

    def __init__(
        self,
        engine: SearchEngine,
        config: Config,
        src_vocab: Vocabulary,
        tgt_vocab: Vocabulary,
        device: torch.device | str,
        subwords: tuple[Subwords, Subwords] = (WordLevel(), WordLevel()),
        casing: dict[str, str] | None = None,
        engine_choice: str = "PyTorch",
        loaded_from: LoadedFrom | None = None,
    ):
        self.engine = engine  # searches: PyTorch (TorchSearch) or CTranslate2 (CTranslate2Search)
        self.engine_choice = engine_choice  # which engine searches, and why (Translator.load)
        self.source_tag: str | None = None  # the corpus tag leading every source (tagged)
        self.loaded_from = loaded_from
        self._pytorch: Translator | None = None  # the same model for PyTorch, where CTranslate2 searches
        self.config = config
        self.src_vocab = src_vocab
        self.tgt_vocab = tgt_vocab
        self.device = device
        self.src_subwords, self.tgt_subwords = subwords
        source, target = processor_names(config.data)
        self.src_processor = get_processor(source)
        self.tgt_processor = English(casing) if target == "english" and casing else get_processor(target)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def direction(self) -> tuple[str, str]:
        return self.config.data.src_lang, self.config.data.tgt_lang

    @property
    def decoding(self) -> DecodingConfig:
        return self.config.decoding

    @property
    def data(self) -> DataConfig:
        return self.config.data

    @property
    def model(self) -> nn.Module | None:
        """The PyTorch model, where PyTorch searches (None where CTranslate2 does: its weights stay on disk)."""
        return getattr(self.engine, "model", None)

    def with_pytorch(self) -> Translator:
        """This translator where PyTorch searches, else the same model loaded for PyTorch (once, then kept): what
        needs the network itself, as attention maps do."""
        if self.model is not None:
            return self
        if self._pytorch is None:
            loaded = self.loaded_from
            self._pytorch = Translator.load(
                loaded.path, device=loaded.device, int8=loaded.int8, backend="torch", dtype=loaded.dtype
            )
            self._pytorch.config.decoding = self.config.decoding  # one set of search settings for both
        return self._pytorch.tagged(self.source_tag)

    @classmethod
    def load(
        cls,
        run_dir: str | Path,
        device: str = "auto",
        int8: bool = False,
        backend: str = "auto",
        direction: tuple[str, str] | None = None,
        dtype: str = "float32",
    ) -> Translator | TransformersTranslator:
        """Load a model directory once. ``int8`` quantizes Linear and LSTM weights to 8 bits for faster CPU
        inference (PyTorch dynamic quantization; CPU only). ``dtype`` (float32, bfloat16, float16) is the
        precision the model computes in: half precision halves its memory and, on a GPU, speeds it up (the
        search ranks in float32 whatever it is). ``backend="ctranslate2"`` searches with CTranslate2
        (Transformer models; converted once into ``RUN/ctranslate2/``, or into the user cache for a
        pretrained model); ``int8`` and ``dtype`` then choose its compute type. ``"auto"`` (the default) does so
        where ctranslate2 is installed and the model converts, and searches with PyTorch otherwise (RNN models,
        ensembles); both find the same translations (``honyaku.inference.search.beam_search``), and ``engine_choice``
        says which searches and why.

        A transformers seq2seq model — ``hf:OWNER/NAME`` from the HuggingFace hub, or a local directory — loads
        as a ``honyaku.inference.hub.TransformersTranslator`` with the same methods; ``direction`` (e.g.
        ``("en", "ja")``) is needed where its name does not tell."""
        if dtype not in PRECISION_NAMES:
            raise HonyakuError(f"unknown dtype {dtype!r}: {', '.join(PRECISION_NAMES)}")
        if int8 and dtype != "float32":
            raise HonyakuError(f"int8 and dtype {dtype} exclude each other: choose one")
        if is_transformers_model(run_dir):
            if int8 or backend == "ctranslate2":
                raise HonyakuError(f"{run_dir}: int8 and other backends are for honyaku models")
            from honyaku.inference.hub import TransformersTranslator  # transformers and PyTorch: for such a model only

            return TransformersTranslator.load(run_dir, device, direction, dtype)
        if backend not in BACKENDS:
            raise HonyakuError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
        files = ModelDirectory.read(run_dir)
        config, src_vocab, tgt_vocab, subwords = files.config, files.src_vocab, files.tgt_vocab, files.subwords
        engine: SearchEngine | None = None
        if backend == "auto" and (reason := ctranslate2_refusal(files)):
            why = f"PyTorch: {reason}"
        elif backend != "torch":
            try:
                engine = load_ctranslate2(files, device, "int8" if int8 else dtype, convert_for_ctranslate2)
                why = "CTranslate2" if backend == "ctranslate2" else "CTranslate2: a Transformer that converts"
            except HonyakuError as error:
                if backend == "ctranslate2":
                    raise
                why = f"PyTorch: CTranslate2 could not load it ({error})"
        else:
            why = "PyTorch: asked for"
        if engine is None:
            engine = pytorch_engine(files, device, int8, dtype)
        logger.info(f"{files.path}: searching with {why}")
        loaded_from = LoadedFrom(files.path, device, int8, dtype)
        return cls(engine, config, src_vocab, tgt_vocab, engine.device, subwords, files.casing, why, loaded_from)

    def _translate(
        self, sentences: list[str], n_best: int, beam_size: int, pretokenized: bool
    ) -> list[list[Translation]]:
        writer = get_processor("pretokenized") if pretokenized else self.tgt_processor
        found = self.search([self.source_tokens(sentence, pretokenized) for sentence in sentences], beam_size, n_best)
        return [
            [Translation(writer.detokenize(self.target_words(h)), h.score) for h in hs] or [Translation("", 0.0)]
            for hs in found
        ]

    def source_tokens(self, sentence: str, pretokenized: bool = False) -> list[str]:
        """The model's tokens for a sentence: the source processor's words, then subword pieces (led by the
        translator's corpus tag, if ``tagged``)."""
        words = (get_processor("pretokenized") if pretokenized else self.src_processor).tokenize(sentence)
        pieces = self.src_subwords.split(words)
        return [self.source_tag, *pieces] if self.source_tag is not None and pieces else pieces

    def tagged(self, tag: str | None) -> Translator:
        if tag == self.source_tag:
            return self
        if tag is not None and tag not in self.src_vocab.index:
            raise HonyakuError(f"{self.name}: the tag {tag} is not in the model's source vocabulary")
        tagged = copy.copy(self)
        tagged.source_tag = tag
        return tagged

    def target_words(self, hypothesis: Hypothesis) -> list[str]:
        return self.tgt_subwords.join(hypothesis.tokens)

    def search(self, token_lists: list[list[str]], beam_size: int, n_best: int = 1) -> list[list[Hypothesis]]:
        """Hypotheses for lists of the model's source tokens, in order; an empty list gets none."""
        present = [i for i, tokens in enumerate(token_lists) if tokens]
        outputs = self.engine.search([token_lists[i] for i in present], beam_size, n_best)
        found: list[list[Hypothesis]] = [[] for _ in token_lists]
        for i, hypotheses in zip(present, outputs):
            found[i] = hypotheses
        return found


class TranslationPipeline:
    """Callable like ``transformers``' translation pipeline: a string or a list in, ``translation_text`` out."""

    def __init__(self, translator: Translator):
        self.translator = translator

    def __call__(
        self,
        inputs: str | list[str],
        num_beams: int | None = None,
        num_return_sequences: int = 1,
        split_sentences: bool = True,
    ) -> list[dict[str, str]] | list[list[dict[str, str]]]:
        """As in transformers: one dict per input, or for ``num_return_sequences`` > 1 a list of dicts per
        input (flattened when the input is a single string). A text of several sentences is translated a
        sentence at a time unless ``split_sentences`` is False."""
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if num_return_sequences == 1:
            found = self.translator.translate(texts, beam_size=num_beams, split_sentences=split_sentences)
            return [{"translation_text": text} for text in found]
        found = self.translator.translate_n_best(
            texts, num_return_sequences, beam_size=num_beams, split_sentences=split_sentences
        )
        per_input = [[{"translation_text": t.text} for t in translations] for translations in found]
        return per_input[0] if isinstance(inputs, str) else per_input


def pipeline(
    task: str = "translation", model: str | Path | None = None, device: str = "auto", backend: str = "auto"
) -> TranslationPipeline:
    """``pipeline("translation", model=RUN_DIR)``; ``translation_xx_to_yy`` also checks the model's direction.
    Without a model, the pretrained one of the task's direction (``"translation"``: English→Japanese)."""
    if task != "translation" and not task.startswith("translation_"):
        raise HonyakuError(f"unsupported task {task!r}: honyaku provides 'translation' and 'translation_xx_to_yy'")
    direction = None
    if task != "translation":
        src, sep, tgt = task.removeprefix("translation_").partition("_to_")
        if not sep:
            raise HonyakuError(f"unsupported task {task!r}: write the direction as translation_xx_to_yy")
        direction = (src, tgt)
    if model is None:
        model = pretrained_model(direction or DEFAULT_DIRECTION)
    translator = Translator.load(model, device=device, backend=backend)
    if direction is not None and direction != translator.direction:
        raise HonyakuError(f"task {task!r} does not match the model's direction {'→'.join(translator.direction)}")
    return TranslationPipeline(translator)


def evaluate(
    translator: TranslatorBase,
    evaluation: EvaluationSet,
    hypotheses_path: Path | None = None,
    beam_size: int | None = None,
    detok: bool = False,
    progress: bool = False,
) -> tuple[list[MetricResult], str]:
    """Translate the sources of ``evaluation``, optionally write the hypotheses, and score them against every
    reference.

    A raw set (text as written) is translated as such and scored as natural text, with sacrebleu's tokenizer for
    the target language. A set of corpus tokens is scored on those tokens (BLEU ``tokenize=none``), or with
    ``detok`` as a user meets the translator: the sources detokenized into natural text, translated from raw text,
    and the natural output scored against detokenized references. Returns the results and a line saying which
    text was scored. ``progress`` shows a progress bar on stderr (on a terminal only).
    """
    from tqdm import tqdm  # sacrebleu and tqdm take 0.2 s to import, which translating does not need

    from honyaku.core.metrics import natural_text_tokenizer, score_all

    sources, references = evaluation.sources, evaluation.references
    pretokenized = translator.pretokenized_io and not detok and not evaluation.raw
    if evaluation.raw:
        bleu_tokenizer = natural_text_tokenizer(translator.direction[1])
        scored = f"natural text as written, sacrebleu tokenize={bleu_tokenizer}"
    elif not pretokenized:
        sources = [translator.src_processor.detokenize(split_tokens(s)) for s in sources]
        references = [[translator.tgt_processor.detokenize(split_tokens(r)) for r in refs] for refs in references]
        bleu_tokenizer = natural_text_tokenizer(translator.direction[1])
        scored = f"natural text: detokenized sources and references, sacrebleu tokenize={bleu_tokenizer}"
    else:
        references = [[join_tokens(split_tokens(r)) for r in refs] for refs in references]
        bleu_tokenizer = "none"
        scored = "the corpus's own tokens (sacrebleu tokenize=none)"
    most = max(len(refs) for refs in references)
    if most > 1:
        scored += f", up to {most} references a sentence"
    if evaluation.tags:
        led = sorted({tag for tag in evaluation.tags if tag is not None})
        scored += f"; sources led by their corpus's training tag: {', '.join(led)}"
    bar = tqdm(total=len(sources), unit=" sentences", disable=not progress or None, file=sys.stderr, dynamic_ncols=True)
    hypotheses = []
    with bar:
        # a test set is aligned a sentence per line, as the model was trained: never split
        for (best,) in translator.translate_stream_tagged(
            sources, evaluation.tags, beam_size=beam_size, pretokenized=pretokenized, split_sentences=False
        ):
            hypotheses.append(best.text)
            bar.update()
    if hypotheses_path is not None:
        hypotheses_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(hypotheses_path, "".join(f"{h}\n" for h in hypotheses).encode())
    return score_all(hypotheses, references, bleu_tokenizer), scored


def tune_length_penalty(
    model_dir: str | Path,
    candidates: list[float],
    beam_size: int | None = None,
    data_dir: str | None = None,
    split: str = "dev",
) -> tuple[float, dict[float, MetricResult]]:
    """Beam-search ``split`` (corpus tokens) with each GNMT length penalty in ``candidates`` and write the best
    into the model directory's config, where every later load (translate, bundle, export) finds it, and every
    candidate's score into its ``length_penalty.tsv``, which the model card reports.

    A short-output model is common after label smoothing: its BLEU brevity penalty falls, and a larger alpha
    gives longer hypotheses. Choose on dev, never on test."""
    translator = Translator.load(model_dir)
    if not isinstance(translator, Translator):
        raise HonyakuError(f"{model_dir}: the length penalty is tuned for honyaku models")
    decoding = translator.config.decoding
    beam_size = beam_size or decoding.beam_size
    if beam_size < 2:
        raise HonyakuError(f"{model_dir}: greedy decoding, where the length penalty changes nothing; give a beam size")
    if not candidates or any(alpha < 0 for alpha in candidates):
        raise HonyakuError(f"length penalties must be ≥ 0, got {candidates}")
    tokens = EvaluationSet.of_tokens(*read_split_tagged(translator.config.data, split, data_dir))
    results = {}
    for alpha in candidates:
        decoding.length_penalty = alpha
        results[alpha] = evaluate(translator, tokens, beam_size=beam_size)[0][0]  # BLEU, corpus tokens
    best = max(candidates, key=lambda alpha: results[alpha].score)  # the first of equals
    decoding.length_penalty, decoding.beam_size = best, beam_size
    with atomic_path(Path(model_dir) / CONFIG_FILE) as temp:
        translator.config.save(temp)
    scores = "".join(f"{alpha:g}\t{result.score:.2f}\n" for alpha, result in results.items())
    (Path(model_dir) / TUNING_FILE).write_text(f"length_penalty\t{split}_bleu\n{scores}", encoding="utf-8")
    return best, results
