"""transformers seq2seq models (a local directory, or ``hf:OWNER/NAME`` from the HuggingFace hub) behind the
interface of honyaku's ``Translator``, so that ``pipeline``, ``honyaku translate`` and ``honyaku evaluate`` run
OPUS-MT and other models side by side with honyaku's own, on the same test sets with the same metrics.

Such a model reads and writes natural text with its own tokenizer, so it is always scored on natural text
(``evaluate --detok``). Downloading from the hub needs network access; a model already in the HuggingFace
cache, or a local directory, loads offline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from honyaku.core.config import DecodingConfig
from honyaku.core.data_config import DataConfig
from honyaku.core.errors import HonyakuError, first_line, optional_import
from honyaku.core.runtime import named_dtype, resolve_device
from honyaku.data.catalogue import builtin_corpus_of
from honyaku.data.text import get_processor, processor_for
from honyaku.inference.translation import Translation, TranslatorBase
from honyaku.modeldir import HUB_PREFIX

# Language codes in model names that are not ISO 639-1 (OPUS-MT's "jap" is its Japanese).
LANGUAGE_ALIASES = {"jap": "ja", "jpn": "ja", "eng": "en"}


def direction_of(name: str, directory: Path | None) -> tuple[str, str] | None:
    """The translation direction a model states (honyaku's export) or its name gives (``opus-mt-en-jap``)."""
    if directory is not None and (directory / "honyaku.json").is_file():
        src, _, tgt = json.loads((directory / "honyaku.json").read_text(encoding="utf-8"))["direction"].partition("-")
        return src, tgt
    match = re.search(r"(?:^|[-_/])([a-z]{2,3})[-_]([a-z]{2,3})$", name.rstrip("/"))
    if match is None:
        return None
    src, tgt = (LANGUAGE_ALIASES.get(code, code) for code in match.groups())
    return src, tgt


class TransformersTranslator(TranslatorBase):
    """A transformers seq2seq model with the methods of ``Translator`` that pipelines and evaluation use."""

    pretokenized_io = False  # natural text in and out: evaluation scores natural text
    engine_choice = "transformers"  # its own generate(), on PyTorch

    def __init__(self, model, tokenizer, name: str, direction: tuple[str, str], device: torch.device):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.device = device
        self.name, self.direction = name, direction
        generation = model.generation_config
        # transformers divides a beam's log-probability by length ** length_penalty
        self.decoding = DecodingConfig(beam_size=generation.num_beams or 1, length_penalty=generation.length_penalty)
        src, tgt = direction
        self.data = DataConfig(corpus=builtin_corpus_of(direction), src_lang=src, tgt_lang=tgt)
        # Only to detokenize the corpus's sources and references for natural-text scoring.
        self.src_processor, self.tgt_processor = get_processor(processor_for(src)), get_processor(processor_for(tgt))

    @classmethod
    def load(
        cls, name: str | Path, device: str = "auto", direction: tuple[str, str] | None = None, dtype: str = "float32"
    ):
        transformers = optional_import("transformers", "transformers models")
        name = str(name)
        source = name.removeprefix(HUB_PREFIX)
        directory = Path(source) if Path(source).is_dir() else None
        direction = direction or direction_of(source, directory)
        if direction is None:
            raise HonyakuError(f"{name}: cannot tell the translation direction; give it (--direction en-ja)")
        resolved = resolve_device(device)
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            model = transformers.AutoModelForSeq2SeqLM.from_pretrained(source)
        except (OSError, ValueError) as error:  # not cached and no network, or not a seq2seq model
            raise HonyakuError(f"{name}: cannot load a transformers seq2seq model ({first_line(error)})") from None
        return cls(model.to(device=resolved, dtype=named_dtype(dtype)), tokenizer, source, direction, resolved)

    @torch.inference_mode()
    def _translate(
        self, sentences: list[str], n_best: int, beam_size: int, pretokenized: bool
    ) -> list[list[Translation]]:
        if pretokenized:
            raise HonyakuError(f"{self.name} reads and writes natural text: pretokenized is not available")
        found: list[list[Translation]] = []
        batch_size = self.decoding.batch_size
        for start in range(0, len(sentences), batch_size):
            batch = sentences[start : start + batch_size]
            inputs = self.tokenizer(batch, return_tensors="pt", padding=True, truncation=True).to(self.device)
            output = self.model.generate(
                **inputs,
                num_beams=beam_size,
                num_return_sequences=n_best,
                output_scores=True,
                return_dict_in_generate=True,
                do_sample=False,
            )
            texts = self.tokenizer.batch_decode(output.sequences, skip_special_tokens=True)
            if beam_size > 1:
                scores = output.sequences_scores.tolist()
            else:  # greedy: the log-probability of the output
                steps = self.model.compute_transition_scores(output.sequences, output.scores, normalize_logits=True)
                scores = steps.masked_fill(~torch.isfinite(steps), 0.0).sum(dim=1).tolist()
            for i, sentence in enumerate(batch):
                rows = range(i * n_best, (i + 1) * n_best)
                found.append(
                    [Translation(texts[r].strip(), scores[r]) for r in rows]
                    if sentence.strip()
                    else [Translation("", 0.0)]
                )
        return found
