"""Proper-noun casing for English output, learned from the parallel training data.

small_parallel_enja's English is lowercased, so the model writes "tom" and "tokyo". The Japanese side says
which words are names: UniDic tags トム and 東京 as proper nouns (固有名詞). An English word that goes with
a Japanese proper noun in most sentence pairs where either occurs (Dice ≥ ``min_dice``) is a name, and is
written capitalised: "i 'm tom ." → "I'm Tom.". Titles (Mr, Mrs, Ms, Dr) are always capitalised.

Known limits: only single words are learned, so a multi-word name gets its distinctive word capitalised
("new York"; two-word candidates mostly paired rare names with the words around them). Words that Japanese
writes as common nouns (英語 → "english") stay lowercase.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from honyaku.core.errors import HonyakuError
from honyaku.data.text import get_processor

TITLES = ("mr", "mrs", "ms", "dr")


def learn_casing(
    english: Iterable[list[str]], japanese: Iterable[list[str]], min_count: int = 2, min_dice: float = 0.5
) -> dict[str, str]:
    """{lowercased English name: its capitalised form} from aligned sentence pairs (corpus tokens)."""
    analyser = get_processor("japanese")
    names, candidates, together = Counter(), Counter(), Counter()
    for english_words, japanese_words in zip(english, japanese):
        found = analyser.proper_nouns("".join(japanese_words))
        words = {w for w in english_words if w.isalpha()}
        names.update(found)
        candidates.update(words)
        together.update((name, word) for name in found for word in words)
    best: dict[str, tuple[float, str]] = {}
    for (name, word), both in together.items():
        if names[name] >= min_count:
            dice = 2 * both / (names[name] + candidates[word])
            if dice > best.get(name, (0.0, ""))[0]:
                best[name] = (dice, word)
    table = {word: word.capitalize() for dice, word in best.values() if dice >= min_dice}
    return table | {title: title.capitalize() for title in TITLES}


def save_casing(table: dict[str, str], path: Path) -> None:
    path.write_text("".join(f"{word}\t{cased}\n" for word, cased in sorted(table.items())), encoding="utf-8")


def load_casing(path: Path) -> dict[str, str]:
    table = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        word, tab, cased = line.partition("\t")
        if not tab or word.lower() != cased.lower():
            raise HonyakuError(f"{path}:{number}: expected 'word<TAB>Word'")
        table[word] = cased
    return table
