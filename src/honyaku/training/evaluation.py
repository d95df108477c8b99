"""A run's evaluations on dev: loss per target token (teacher-forced) and BLEU of greedy translations, on the text
that the config's target processor writes, as honyaku evaluate scores."""

from __future__ import annotations

import logging

import torch
from torch import nn

from honyaku.core.config import Config
from honyaku.core.metrics import bleu
from honyaku.data.batching import collate, make_batches
from honyaku.data.text import dev_bleu_tokenizer, join_tokens
from honyaku.data.vocabulary import Vocabulary
from honyaku.inference.search import translate_ids
from honyaku.training.optimization import (
    MixedPrecision,
)
from honyaku.training.preparation import PreparedData

logger = logging.getLogger(__name__)


class DevEvaluation:
    """The dev set's measures: per-token loss (no label smoothing) and greedy BLEU, the same search at every
    evaluation whatever the config decodes with."""

    def __init__(self, prepared: PreparedData, config: Config, device: torch.device, precision: MixedPrecision):
        self.data, self.references = prepared.dev_data, prepared.dev_references
        self.bleu_tokenizer = dev_bleu_tokenizer(config.data)
        self.tgt_vocab, self.tgt_subwords = prepared.tgt_vocab, prepared.tgt_subwords
        self.decoding, self.batch_size = config.decoding, config.training.eval_batch_size
        self.device, self.precision = device, precision

    @torch.inference_mode()
    def loss(self, model: nn.Module) -> float:
        model.eval()
        total, tokens = 0.0, 0
        for indices in make_batches(self.data, self.batch_size, None, 0, 0):
            batch = collate(self.data, indices, Vocabulary.pad_id).to(self.device)
            real = batch.tgt_out != Vocabulary.pad_id
            with self.precision.autocast():
                logits = model(batch.src, batch.src_lengths, batch.tgt_in, real).float()  # (N, V)
            total += nn.functional.cross_entropy(logits, batch.tgt_out[real], reduction="sum").item()
            tokens += batch.num_target_tokens
        model.train()
        return total / tokens

    def bleu(self, model: nn.Module) -> float:
        ids = Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id
        with self.precision.autocast():
            outputs = translate_ids(model, self.data.src, self.decoding, *ids, self.device, beam_size=1)
        hypotheses = [join_tokens(self.tgt_subwords.join(self.tgt_vocab.decode(best.ids))) for (best,) in outputs]
        return bleu(hypotheses, self.references, self.bleu_tokenizer).score
