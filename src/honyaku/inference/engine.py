"""The search engine interface that translators call, and what every engine shares: hypotheses, their score, the
beam a number of translations needs, each output's length cap. Without PyTorch: CTranslate2's engine
(``honyaku.inference.ct2``) needs none.

An engine takes the model's tokens and gives the model's tokens (strings of its vocabularies, both ways), as
CTranslate2 does: ids are a matter of the engine that needs them (``honyaku.inference.search.TorchSearch`` maps
both sides through the model's vocabularies), and a translator deals in tokens only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from honyaku.core.config import DecodingConfig
from honyaku.core.errors import HonyakuError


@dataclass
class Hypothesis:
    """A translation that an engine found."""

    tokens: list[str]  # the model's target tokens, without </s>
    score: float  # log-probability normalised by length (normalized_score)
    log_prob: float


def normalized_score(log_prob: float, length: int, alpha: float) -> float:
    """The rank of a finished hypothesis: its log-probability over ``length ** alpha``, ``length`` counting the
    tokens it generated, ``</s>`` included. CTranslate2 normalises so, and transformers' ``length_penalty`` alike:
    a length penalty tuned with one engine means the same in the others. alpha = 0 ranks by log-probability."""
    return log_prob / length**alpha


def hypotheses_to_finish(n_best: int, beam_size: int, alpha: float) -> int:
    """How many hypotheses a sentence's beam search finishes, its best candidate among them, before it stops:
    without a length penalty no longer hypothesis can outrank a finished one of higher log-probability, so
    ``n_best``; with one a longer one may, so the whole beam (measured: stopping at ``beam_size`` without the best
    ended, as CTranslate2 does with its own penalty, lost 0.17 dev BLEU on each bundled model)."""
    return n_best if alpha == 0 else beam_size


def output_caps(src_lengths: list[int], decoding: DecodingConfig, max_positions: int | None) -> list[int]:
    """Each source's longest output, without ``</s>``: ``max_length_ratio`` × its length (``</s>`` counted) +
    ``max_length_offset``, within the model's ``max_positions`` (None: no limit), one of which the start token
    takes."""
    caps = [int(length * decoding.max_length_ratio) + decoding.max_length_offset for length in src_lengths]
    return caps if max_positions is None else [min(cap, max_positions - 1) for cap in caps]


def search_options_problem(n_best: int, beam_size: int | None) -> str | None:
    """What is wrong with asking for ``n_best`` translations from a beam of ``beam_size`` (None: the model's),
    in the words every entry point (Python, command line, HTTP API) reports it; None where nothing is."""
    if beam_size is not None and beam_size < 1:
        return f"the beam size must be at least 1, got {beam_size}"
    if n_best < 1:
        return f"n-best must be at least 1, got {n_best}"
    if beam_size is not None and n_best > beam_size:
        return f"n-best ({n_best}) cannot exceed the beam size ({beam_size}): a beam of K finds at most K translations"
    return None


def beam_size_for(n_best: int, beam_size: int | None, decoding: DecodingConfig) -> int:
    """The beam that finds ``n_best`` translations: ``beam_size``, by default the config's (at least ``n_best``)."""
    if problem := search_options_problem(n_best, beam_size):
        raise HonyakuError(problem)
    return beam_size if beam_size is not None else max(decoding.beam_size, n_best)


class SearchEngine(Protocol):
    """What searches for a translator: PyTorch over a honyaku model (``TorchSearch``), or CTranslate2 over its
    conversion (``honyaku.inference.ct2.CTranslate2Search``). Both read the translator's ``DecodingConfig`` at every
    call, so that a changed length penalty applies at once."""

    def search(self, token_lists: list[list[str]], beam_size: int, n_best: int) -> list[list[Hypothesis]]:
        """The ``n_best`` hypotheses of each non-empty list of source tokens, in order."""
        ...
