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
from honyaku.inference.engine import Hypothesis, beam_size_for, hypotheses_to_finish, normalized_score, output_caps
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


class _Beams:
    """A batched beam search between two steps: per sentence still searching, its rows' histories and
    log-probabilities, and the hypotheses it has finished (see ``beam_search``)."""

    def __init__(self, batch_size: int, k: int, n_best: int, alpha: float, eos_id: int, max_lengths: torch.Tensor):
        device = max_lengths.device
        self.k, self.alpha, self.eos_id, self.max_lengths = k, alpha, eos_id, max_lengths
        self.n_best, self.needed = n_best, hypotheses_to_finish(n_best, k, alpha)
        self.sentences = torch.arange(batch_size, device=device)  # the sentence of each group of rows
        self.log_probs = torch.zeros(batch_size, 1, device=device)  # (b, rows per sentence): one row at first
        self.finished_count = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.best_ended = torch.zeros(batch_size, dtype=torch.bool, device=device)  # the top candidate ended once
        self.ranks = torch.arange(2 * k, device=device)
        self.history = torch.empty(batch_size, 0, dtype=torch.long, device=device)  # (b·rows, t)
        self.finished: list[list[ScoredIds]] = [[] for _ in range(batch_size)]
        self.step = 0

    def candidates(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The 2k most probable continuations of each sentence's rows (logits (b·rows, V)): their
        log-probabilities, the rows they continue (within the sentence) and their tokens, (b, 2k) each."""
        rows_per_sentence, vocab = self.log_probs.size(1), logits.size(-1)
        totals = self.log_probs.unsqueeze(2) + logits.float().log_softmax(-1).view(-1, rows_per_sentence, vocab)
        top_log_probs, top_index = totals.flatten(1).topk(min(2 * self.k, totals[0].numel()), dim=1)
        return top_log_probs, top_index // vocab, top_index % vocab

    def keep_ended(self, top_log_probs: torch.Tensor, beams: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Keeps as finished the candidates among each sentence's first k that end (``</s>``, or the sentence's
        cap); returns which sentences are done, (b,)."""
        at_cap = self.max_lengths[self.sentences] <= self.step + 1  # (b,)
        in_beam = (self.ranks[: tokens.size(1)] < self.k) & (top_log_probs > float("-inf"))  # (b, 2k)
        ends = ((tokens == self.eos_id) | at_cap.unsqueeze(1)) & in_beam
        paths = self.history.view(len(self.sentences), self.log_probs.size(1), self.step)  # (b, rows, t)
        for row, rank in ends.nonzero().tolist():
            token, log_prob = int(tokens[row, rank]), float(top_log_probs[row, rank])
            ids = paths[row, beams[row, rank]].tolist() + ([] if token == self.eos_id else [token])
            score = normalized_score(log_prob, self.step + 1, self.alpha)
            self.finished[int(self.sentences[row])].append(ScoredIds(ids, score, log_prob))
        count = self.finished_count[self.sentences] + ends.sum(dim=1)  # (b,)
        self.finished_count[self.sentences] = count
        self.best_ended[self.sentences] |= ends[:, 0]
        return at_cap | (self.best_ended[self.sentences] & (count >= self.needed))

    def advance(
        self, top_log_probs: torch.Tensor, beams: torch.Tensor, tokens: torch.Tensor, done: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Continues each sentence not done with its k best candidates that do not end (those that end give their
        places to the next); returns the model state's rows they continue, (b', k), and their tokens, (b'·k,)."""
        ranks = self.ranks[: tokens.size(1)]
        pick = torch.where(tokens == self.eos_id, ranks + 2 * self.k, ranks).argsort(dim=1)[:, : self.k]  # (b, k)
        searching = (~done).nonzero().squeeze(1)  # (b',)
        first_rows = torch.arange(len(self.sentences), device=tokens.device).unsqueeze(1) * self.log_probs.size(1)
        rows = (first_rows + beams.gather(1, pick))[searching]  # (b', k)
        next_tokens = tokens.gather(1, pick)[searching].view(-1)  # (b'·k,)
        self.history = torch.cat([self.history[rows.view(-1)], next_tokens.unsqueeze(1)], dim=1)
        self.log_probs = top_log_probs.gather(1, pick)[searching]
        self.sentences = self.sentences[searching]
        self.step += 1
        return rows, next_tokens

    def best(self) -> list[list[ScoredIds]]:
        return [sorted(hypotheses, key=lambda h: -h.score)[: self.n_best] for hypotheses in self.finished]


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
    """Batched beam search, the algorithm of CTranslate2 run without its length penalty (honyaku applies ``alpha``
    to the finished hypotheses), so that both engines find the same translations.

    Each step ranks 2k candidates (k = ``beam_size``) by log-probability. Those among the first k that end
    (``</s>``, or the sentence's cap) are kept as finished; the k best candidates that do not end continue. A
    sentence is done once its best candidate has ended and ``hypotheses_to_finish`` have. A beam of 1 is
    greedy search. Returns, per sentence, its ``n_best`` hypotheses, best first by ``normalized_score``.
    """
    search = _Beams(src.size(0), beam_size, n_best, alpha, eos_id, max_lengths.to(src.device))
    state = model.encode(src, src_lengths)
    # The first step expands one row per sentence, not k identical ones; its selection makes the k rows.
    prev = torch.full((src.size(0),), bos_id, dtype=torch.long, device=src.device)
    while search.sentences.numel():
        logits, state = model.decode_step(state, prev)  # (b·rows, V)
        top_log_probs, beams, tokens = search.candidates(logits)  # (b, 2k) each
        done = search.keep_ended(top_log_probs, beams, tokens)  # (b,)
        rows, prev = search.advance(top_log_probs, beams, tokens, done)
        state = model.select_state(state, rows)
    return search.best()


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
