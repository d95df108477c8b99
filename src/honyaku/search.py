"""Search over any model's ``encode`` / ``decode_step`` / ``select_state`` interface
(``honyaku.models.factory.TranslationModel``), and the search engine interface that translators call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from honyaku.core.config import DecodingConfig
from honyaku.core.errors import HonyakuError
from honyaku.data.batching import pad
from honyaku.data.vocabulary import Vocabulary
from honyaku.models.factory import TranslationModel


@torch.inference_mode()
def greedy_search(
    model: TranslationModel,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    bos_id: int,
    eos_id: int,
    max_lengths: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Most probable token at each step, for a batch; sentences leave the batch as they finish.

    ``max_lengths`` (B,) caps each output (not counting ``</s>``). Returns (B, T) ids, each row ending in
    ``</s>`` unless it hit its cap (positions after the end hold ``</s>``), and (B,) log-probabilities.
    """
    batch_size, device = src.size(0), src.device
    max_lengths = max_lengths.to(device)
    longest = int(max_lengths.max()) if batch_size else 0
    output = torch.full((batch_size, longest + 1), eos_id, dtype=torch.long, device=device)
    log_probs = torch.zeros(batch_size, device=device)
    state = model.encode(src, src_lengths)
    rows = torch.arange(batch_size, device=device)  # output row of each sentence still in the batch
    prev = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
    for step in range(longest):
        logits, state = model.decode_step(state, prev)  # (b, V)
        best_log_prob, prev = logits.float().log_softmax(dim=-1).max(dim=-1)  # (b,)
        output[rows, step] = prev
        log_probs[rows] += best_log_prob
        running = (prev != eos_id) & (max_lengths[rows] > step + 1)
        if not running.all():
            keep = running.nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            rows, prev, state = rows[keep], prev[keep], model.select_state(state, keep)
    return output, log_probs


@dataclass
class Hypothesis:
    tokens: list[int]  # without </s>
    score: float  # log-probability divided by the GNMT length penalty
    log_prob: float


def length_penalty(length: int, alpha: float) -> float:
    """Wu et al. (2016): ((5 + |Y|) / 6) ** alpha; alpha = 0 ranks by plain log-probability."""
    return ((5 + length) / 6) ** alpha


@torch.inference_mode()
def beam_search(
    model: TranslationModel,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    bos_id: int,
    eos_id: int,
    max_lengths: torch.Tensor,
    beam_size: int,
    alpha: float = 0.0,
    n_best: int = 1,
) -> list[list[Hypothesis]]:
    """Batched beam search in which every ended hypothesis takes one of the ``beam_size`` places.

    A sentence keeps ``beam_size`` minus its ended hypotheses alive (the beam shrinks, as in Nematus and
    Marian), and only candidates ranked among that many may end. The best path is therefore never cut off
    by weaker hypotheses that ended early, a beam of 1 is exactly greedy search, and each sentence leaves the
    batch when its beam is used up. Returns, per sentence, its ``n_best`` hypotheses, best first by
    length-penalised score.
    """
    batch_size, device, k = src.size(0), src.device, beam_size
    max_lengths = max_lengths.to(device)
    sentences = torch.arange(batch_size, device=device)  # the sentence of each group of rows still searching
    # The first step expands one row per sentence, not k identical ones; its selection makes the k rows.
    state = model.encode(src, src_lengths)
    log_probs = torch.zeros(batch_size, 1, device=device)  # (b, rows per sentence)
    alive = torch.full((batch_size,), k, device=device)  # places left in each sentence's beam
    ranks = torch.arange(2 * k, device=device)
    history = torch.empty(batch_size, 0, dtype=torch.long, device=device)  # (b·rows, t)
    prev = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch_size)]
    step = 0
    while sentences.numel():
        logits, state = model.decode_step(state, prev)  # (b·rows, V)
        rows_per_sentence, vocab = log_probs.size(1), logits.size(-1)
        candidates = log_probs.unsqueeze(2) + logits.float().log_softmax(-1).view(-1, rows_per_sentence, vocab)
        top_log_probs, top_index = candidates.flatten(1).topk(min(2 * k, candidates[0].numel()), dim=1)  # (b, 2k)
        beams, tokens = top_index // vocab, top_index % vocab
        at_cap = max_lengths[sentences] <= step + 1  # (b,)
        ends = (tokens == eos_id) | at_cap.unsqueeze(1)
        ends &= (ranks[: tokens.size(1)] < alive.unsqueeze(1)) & (top_log_probs > float("-inf"))
        paths = history.view(len(sentences), rows_per_sentence, step)  # (b, rows, t)
        for row, rank in ends.nonzero().tolist():
            token, log_prob = int(tokens[row, rank]), float(top_log_probs[row, rank])
            sequence = paths[row, beams[row, rank]].tolist() + ([] if token == eos_id else [token])
            hypothesis = Hypothesis(sequence, log_prob / length_penalty(step + 1, alpha), log_prob)
            finished[int(sentences[row])].append(hypothesis)
        alive = alive - ends.sum(dim=1)
        width = min(k, top_log_probs.size(1))  # k, unless the first step has fewer candidates (tiny vocabularies)
        continuing, pick = top_log_probs.masked_fill(ends, float("-inf")).topk(width, dim=1)  # (b, k)
        continuing = continuing.masked_fill(ranks[:width] >= alive.unsqueeze(1), float("-inf"))  # places used up
        searching = ((alive > 0) & ~at_cap).nonzero().squeeze(1)  # (b',)
        first_rows = torch.arange(len(sentences), device=device).unsqueeze(1) * rows_per_sentence  # (b, 1)
        rows = (first_rows + beams.gather(1, pick))[searching]  # (b', k)
        next_tokens = tokens.gather(1, pick)[searching]  # (b', k)
        history = torch.cat([history[rows.view(-1)], next_tokens.view(-1, 1)], dim=1)
        state = model.select_state(state, rows)
        log_probs, prev, sentences = continuing[searching], next_tokens.view(-1), sentences[searching]
        alive = alive[searching]
        step += 1
    return [sorted(hypotheses, key=lambda h: -h.score)[:n_best] for hypotheses in finished]


def max_output_lengths(src_lengths: torch.Tensor, decoding: DecodingConfig, max_positions: int | None) -> torch.Tensor:
    """Each source's longest output, without ``</s>``: ``max_length_ratio`` × its length + ``max_length_offset``,
    within the model's ``max_positions`` (None: no limit), one of which the start token takes."""
    caps = (src_lengths.float() * decoding.max_length_ratio).floor().long() + decoding.max_length_offset
    return caps if max_positions is None else caps.clamp(max=max_positions - 1)


def beam_size_for(n_best: int, beam_size: int | None, decoding: DecodingConfig) -> int:
    """The beam that finds ``n_best`` translations: ``beam_size``, by default the config's (at least ``n_best``)."""
    beam_size = beam_size or max(decoding.beam_size, n_best)
    if not 1 <= n_best <= beam_size:
        raise HonyakuError(f"n-best must be between 1 and the beam size ({beam_size}), got {n_best}")
    return beam_size


def translate_ids(
    model: TranslationModel,
    sources: list[list[int]],
    decoding: DecodingConfig,
    pad_id: int,
    bos_id: int,
    eos_id: int,
    device: torch.device,
    beam_size: int | None = None,
    n_best: int = 1,
) -> list[list[Hypothesis]]:
    """The ``n_best`` hypotheses of each source, batched by similar length, returned in input order.

    ``beam_size`` defaults to the config's; a beam of 1 runs greedy search.
    """
    beam_size = beam_size_for(n_best, beam_size, decoding)
    was_training = model.training
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    results: list[list[Hypothesis]] = [[] for _ in sources]
    for start in range(0, len(order), decoding.batch_size):
        chunk = order[start : start + decoding.batch_size]
        src = pad([sources[i] for i in chunk], pad_id).to(device)
        src_lengths = torch.tensor([len(sources[i]) for i in chunk], dtype=torch.long)
        max_lengths = max_output_lengths(src_lengths, decoding, model.max_positions)
        if beam_size == 1:
            output, log_probs = greedy_search(model, src, src_lengths, bos_id, eos_id, max_lengths)
            for i, row, log_prob in zip(chunk, output.tolist(), log_probs.tolist()):
                tokens = row[: row.index(eos_id)] if eos_id in row else row
                length = len(tokens) + (eos_id in row)
                results[i] = [Hypothesis(tokens, log_prob / length_penalty(length, decoding.length_penalty), log_prob)]
        else:
            hypotheses = beam_search(
                model, src, src_lengths, bos_id, eos_id, max_lengths, beam_size, decoding.length_penalty, n_best
            )
            for i, found in zip(chunk, hypotheses):
                results[i] = found
    model.train(was_training)
    return results


class SearchEngine(Protocol):
    """What searches for a translator: PyTorch over a honyaku model (``TorchSearch``), or CTranslate2 over its
    conversion (``honyaku.export.CTranslate2Search``). Both read the translator's ``DecodingConfig`` at every
    call, so that a changed length penalty applies at once."""

    def search(self, token_lists: list[list[str]], beam_size: int, n_best: int) -> list[list[Hypothesis]]:
        """The ``n_best`` hypotheses (target ids) of each non-empty list of source tokens, in order."""
        ...


class TorchSearch:
    """honyaku's own search (above) over a PyTorch model."""

    def __init__(self, model: TranslationModel, src_vocab: Vocabulary, decoding: DecodingConfig, device: torch.device):
        self.model = model.eval()
        self.src_vocab = src_vocab
        self.decoding = decoding
        self.device = device

    def search(self, token_lists: list[list[str]], beam_size: int, n_best: int) -> list[list[Hypothesis]]:
        return translate_ids(
            self.model,
            [self.src_vocab.encode(tokens, add_eos=True) for tokens in token_lists],
            self.decoding,
            Vocabulary.pad_id,
            Vocabulary.bos_id,
            Vocabulary.eos_id,
            self.device,
            beam_size=beam_size,
            n_best=n_best,
        )
