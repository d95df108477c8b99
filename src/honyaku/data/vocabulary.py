"""Token ↔ id mapping with the four special tokens, built from training text and saved as plain text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from honyaku.core.errors import HonyakuError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)


def output_tokens(tokens: Iterable[str]) -> list[str]:
    """What a search's tokens say: up to the first ``</s>``, without ``<s>`` or padding (whichever engine found
    them)."""
    said = []
    for token in tokens:
        if token == EOS:
            break
        if token not in (BOS, PAD):
            said.append(token)
    return said


class Vocabulary:
    """Ids 0–3 are ``<pad> <unk> <s> </s>``; the rest follow by descending frequency, ties alphabetical."""

    pad_id, unk_id, bos_id, eos_id = range(4)

    def __init__(self, tokens: list[str]):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise HonyakuError(f"a vocabulary must start with {' '.join(SPECIALS)}")
        self.tokens = tokens
        self.index = {token: i for i, token in enumerate(tokens)}
        if len(self.index) != len(tokens):
            duplicate = next(t for t, n in Counter(tokens).items() if n > 1)
            raise HonyakuError(f"duplicate vocabulary entry {duplicate!r}")

    @classmethod
    def build(cls, sentences: Iterable[list[str]], min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        return cls.from_counts(Counter(token for sentence in sentences for token in sentence), min_freq, max_size)

    @classmethod
    def from_counts(
        cls, counts: Counter[str], min_freq: int = 1, max_size: int | None = None, reserved: Iterable[str] = ()
    ) -> Vocabulary:
        """The tokens counted at least ``min_freq`` times, the ``max_size`` most frequent, after the special
        tokens and the ``reserved`` ones (corpus tags), which are kept whatever their counts."""
        reserved = list(dict.fromkeys(reserved))
        counts = Counter({t: n for t, n in counts.items() if t not in SPECIALS and t not in reserved})
        ranked = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        return cls(list(SPECIALS) + reserved + ranked[:max_size])

    def extended(self, tokens: Iterable[str]) -> Vocabulary:
        """This vocabulary, then the ``tokens`` it lacks in their order: every id it gives stays."""
        return Vocabulary(self.tokens + [t for t in dict.fromkeys(tokens) if t not in self.index])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        ids = [self.index.get(token, self.unk_id) for token in tokens]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of ids that a search found (``output_tokens``)."""
        return output_tokens(self.tokens[i] for i in ids)

    def save(self, path: Path) -> None:
        path.write_text("".join(f"{token}\n" for token in self.tokens), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        try:
            tokens = path.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            raise HonyakuError(f"{path}: vocabulary file not found") from None
        except (OSError, UnicodeDecodeError) as error:
            raise HonyakuError(f"{path}: cannot read vocabulary: {error}") from None
        if tokens and tokens[-1] == "":
            tokens.pop()
        try:
            return cls(tokens)
        except HonyakuError as error:
            raise HonyakuError(f"{path}: {error}") from None
