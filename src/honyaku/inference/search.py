"""Search over any model's ``encode`` / ``decode_step`` / ``select_state`` interface
(``honyaku.models.factory.TranslationModel``), and the engine (``TorchSearch``) that runs them for a translator."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

from honyaku.core.config import DecodingConfig
from honyaku.core.errors import HonyakuError
from honyaku.data.batching import pad
from honyaku.data.vocabulary import Vocabulary
from honyaku.inference.engine import Hypothesis, beam_size_for, normalized_score, output_caps
from honyaku.models.factory import TranslationModel


@dataclass
class ScoredIds:
    """A hypothesis of the search over a model: target ids, without </s>; ``TorchSearch`` makes them tokens."""

    ids: list[int]
    score: float  # log-probability normalised by length (honyaku.inference.engine.normalized_score)
    log_prob: float


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
) -> list[list[ScoredIds]]:
    """Batched beam search, the algorithm of CTranslate2 (run without its length penalty, which honyaku applies to
    the finished hypotheses), so that both engines find the same translations.

    Each step ranks 2k candidates (k = ``beam_size``) by log-probability. Those among the first k that end
    (``</s>``, or the sentence's cap) are kept as finished; the k best candidates that do not end continue. A
    sentence is done once the best candidate of a step has ended and k hypotheses have finished: short
    hypotheses that end early never stop the search before the most probable one has ended. A beam of 1 is
    greedy search. Returns, per sentence, its ``n_best`` hypotheses, best first by ``normalized_score``.
    """
    batch_size, device, k = src.size(0), src.device, beam_size
    max_lengths = max_lengths.to(device)
    sentences = torch.arange(batch_size, device=device)  # the sentence of each group of rows still searching
    # The first step expands one row per sentence, not k identical ones; its selection makes the k rows.
    state = model.encode(src, src_lengths)
    log_probs = torch.zeros(batch_size, 1, device=device)  # (b, rows per sentence)
    finished_count = torch.zeros(batch_size, dtype=torch.long, device=device)
    best_ended = torch.zeros(batch_size, dtype=torch.bool, device=device)  # the top candidate ended at some step
    ranks = torch.arange(2 * k, device=device)
    history = torch.empty(batch_size, 0, dtype=torch.long, device=device)  # (b·rows, t)
    prev = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
    finished: list[list[ScoredIds]] = [[] for _ in range(batch_size)]
    step = 0
    while sentences.numel():
        logits, state = model.decode_step(state, prev)  # (b·rows, V)
        rows_per_sentence, vocab = log_probs.size(1), logits.size(-1)
        candidates = log_probs.unsqueeze(2) + logits.float().log_softmax(-1).view(-1, rows_per_sentence, vocab)
        top_log_probs, top_index = candidates.flatten(1).topk(min(2 * k, candidates[0].numel()), dim=1)  # (b, 2k)
        beams, tokens = top_index // vocab, top_index % vocab
        at_cap = max_lengths[sentences] <= step + 1  # (b,)
        is_eos = tokens == eos_id
        ends = (is_eos | at_cap.unsqueeze(1)) & (ranks[: tokens.size(1)] < k) & (top_log_probs > float("-inf"))
        paths = history.view(len(sentences), rows_per_sentence, step)  # (b, rows, t)
        for row, rank in ends.nonzero().tolist():
            token, log_prob = int(tokens[row, rank]), float(top_log_probs[row, rank])
            sequence = paths[row, beams[row, rank]].tolist() + ([] if token == eos_id else [token])
            hypothesis = ScoredIds(sequence, normalized_score(log_prob, step + 1, alpha), log_prob)
            finished[int(sentences[row])].append(hypothesis)
        finished_count[sentences] += ends.sum(dim=1)
        best_ended[sentences] |= ends[:, 0]
        done = at_cap | (best_ended[sentences] & (finished_count[sentences] >= k))
        # the k best candidates that do not end, in rank order: those that end give their places to the next
        width = min(k, tokens.size(1))
        pick = torch.where(is_eos, ranks[: tokens.size(1)] + 2 * k, ranks[: tokens.size(1)]).argsort(dim=1)[:, :width]
        searching = (~done).nonzero().squeeze(1)  # (b',)
        first_rows = torch.arange(len(sentences), device=device).unsqueeze(1) * rows_per_sentence  # (b, 1)
        rows = (first_rows + beams.gather(1, pick))[searching]  # (b', k)
        next_tokens = tokens.gather(1, pick)[searching]  # (b', k)
        history = torch.cat([history[rows.view(-1)], next_tokens.view(-1, 1)], dim=1)
        state = model.select_state(state, rows)
        log_probs, prev, sentences = (
            top_log_probs.gather(1, pick)[searching],
            next_tokens.view(-1),
            sentences[searching],
        )
        step += 1
    return [sorted(hypotheses, key=lambda h: -h.score)[:n_best] for hypotheses in finished]


def max_output_lengths(src_lengths: torch.Tensor, decoding: DecodingConfig, max_positions: int | None) -> torch.Tensor:
    """``output_caps`` of a batch's source lengths, as a tensor."""
    return torch.tensor(output_caps(src_lengths.tolist(), decoding, max_positions), dtype=torch.long)


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
) -> list[list[ScoredIds]]:
    """The ``n_best`` hypotheses of each source, batched by similar length, returned in input order.

    ``beam_size`` defaults to the config's; a beam of 1 runs greedy search.
    """
    beam_size = beam_size_for(n_best, beam_size, decoding)
    was_training = model.training
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    results: list[list[ScoredIds]] = [[] for _ in sources]
    for start in range(0, len(order), decoding.batch_size):
        chunk = order[start : start + decoding.batch_size]
        src = pad([sources[i] for i in chunk], pad_id).to(device)
        src_lengths = torch.tensor([len(sources[i]) for i in chunk], dtype=torch.long)
        max_lengths = max_output_lengths(src_lengths, decoding, model.max_positions)
        if beam_size == 1:
            output, log_probs = greedy_search(model, src, src_lengths, bos_id, eos_id, max_lengths)
            for i, row, log_prob in zip(chunk, output.tolist(), log_probs.tolist()):
                tokens = row[: row.index(eos_id)] if eos_id in row else row
                score = normalized_score(log_prob, len(tokens) + (eos_id in row), decoding.length_penalty)
                results[i] = [ScoredIds(tokens, score, log_prob)]
        else:
            hypotheses = beam_search(
                model, src, src_lengths, bos_id, eos_id, max_lengths, beam_size, decoding.length_penalty, n_best
            )
            for i, found in zip(chunk, hypotheses):
                results[i] = found
    model.train(was_training)
    return results


def on_device(
    model: nn.Module, device: torch.device, int8: bool = False, dtype: torch.dtype = torch.float32
) -> nn.Module:
    """A model ready to search on ``device``, in ``dtype``; with ``int8``, its Linear and LSTM weights quantized
    (CPU only)."""
    if int8:
        if device.type != "cpu":
            raise HonyakuError("int8 translation runs on the CPU: use --device cpu")
        with warnings.catch_warnings():  # torch.ao.quantization works in 2.13 but points users to torchao
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*quantized tensor creation functions", category=UserWarning)
            model = torch.ao.quantization.quantize_dynamic(model.eval(), {nn.Linear, nn.LSTM}, dtype=torch.qint8)
    return model.to(device=device, dtype=dtype)


class TorchSearch:
    """honyaku's own search (above) over a PyTorch model, between its vocabularies' tokens and ids."""

    def __init__(
        self,
        model: TranslationModel,
        vocabularies: tuple[Vocabulary, Vocabulary],
        decoding: DecodingConfig,
        device: torch.device,
    ):
        self.model = model.eval()
        self.src_vocab, self.tgt_vocab = vocabularies
        self.decoding = decoding
        self.device = device

    def search(self, token_lists: list[list[str]], beam_size: int, n_best: int) -> list[list[Hypothesis]]:
        found = translate_ids(
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
        return [[Hypothesis(self.tgt_vocab.decode(h.ids), h.score, h.log_prob) for h in hs] for hs in found]
