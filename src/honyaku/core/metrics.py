"""Corpus-level metrics from sacrebleu, always reported with their signatures.

On pre-tokenized corpora such as small_parallel_enja, BLEU uses ``tokenize=none``: hypotheses and
references are compared on the corpus's own tokens, and references are used exactly as they are. On natural
(detokenized) text, BLEU tokenizes with sacrebleu's tokenizer for the language (``ja-mecab`` for Japanese,
``13a`` otherwise).
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


NATURAL_TEXT_TOKENIZERS = {"ja": "ja-mecab", "zh": "zh", "ko": "ko-mecab"}


def natural_text_tokenizer(language: str) -> str:
    return NATURAL_TEXT_TOKENIZERS.get(language, "13a")


References = list[str] | list[list[str]]  # one reference per hypothesis, or a list of them for each


def reference_streams(references: References) -> list[list[str | None]]:
    """sacrebleu's form of references: one stream per reference position, None where a segment has fewer."""
    if references and isinstance(references[0], str):
        return [list(references)]
    most = max((len(refs) for refs in references), default=1)
    return [[refs[i] if i < len(refs) else None for refs in references] for i in range(most)]


def bleu(hypotheses: list[str], references: References, tokenize: str = "none") -> MetricResult:
    """Corpus BLEU against one or more references per hypothesis."""
    # sacrebleu warns about "tokenized" lines ending in " ." unless forced: with tokenize none they are meant to be.
    metric = BLEU(tokenize=tokenize, force=tokenize == "none")
    result = metric.corpus_score(hypotheses, reference_streams(references))
    return MetricResult("BLEU", result.score, str(result), str(metric.get_signature()))


def chrf(hypotheses: list[str], references: References) -> MetricResult:
    metric = CHRF()
    result = metric.corpus_score(hypotheses, reference_streams(references))
    return MetricResult("chrF", result.score, str(result), str(metric.get_signature()))


def score_all(hypotheses: list[str], references: References, tokenize: str = "none") -> list[MetricResult]:
    return [bleu(hypotheses, references, tokenize), chrf(hypotheses, references)]
