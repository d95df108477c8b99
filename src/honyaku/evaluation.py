"""Corpus-level metrics from sacrebleu, always reported with their signatures.

On pre-tokenized corpora such as small_parallel_enja, BLEU uses ``tokenize=none``: hypotheses and
references are compared on the corpus's own tokens, and references are used exactly as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sacrebleu.metrics import BLEU, CHRF


@dataclass
class MetricResult:
    name: str
    score: float
    text: str  # sacrebleu's own line, e.g. "BLEU = 31.20 62.1/38.5/25.0/16.9 (BP = ...)"
    signature: str

    def line(self) -> str:
        return f"{self.text}\n  signature: {self.signature}"


def bleu(hypotheses: list[str], references: list[str]) -> MetricResult:
    metric = BLEU(tokenize="none")
    result = metric.corpus_score(hypotheses, [references])
    return MetricResult("BLEU", result.score, str(result), str(metric.get_signature()))


def chrf(hypotheses: list[str], references: list[str]) -> MetricResult:
    metric = CHRF()
    result = metric.corpus_score(hypotheses, [references])
    return MetricResult("chrF", result.score, str(result), str(metric.get_signature()))


def score_all(hypotheses: list[str], references: list[str]) -> list[MetricResult]:
    return [bleu(hypotheses, references), chrf(hypotheses, references)]
