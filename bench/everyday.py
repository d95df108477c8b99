"""The everyday phrases of examples/everyday.tsv (greetings, thanks, apologies, questions, requests and short
texts of several sentences, both ways) through the bundled models or the given ones: each translation, and what
it lacks of what the file expects, and how many phrases have all they should.

    python bench/everyday.py [-m EN_JA_DIR JA_EN_DIR] [--backend auto]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from results_file import run_main

from honyaku.data.sentences import split_sentences

PHRASES = Path(__file__).resolve().parents[1] / "examples" / "everyday.tsv"


@dataclass(frozen=True)
class Phrase:
    direction: str  # "en-ja"
    text: str
    words: list[list[str]]  # each inner list: alternatives, one of which the translation must contain
    sentences: int | None  # how many sentences the translation must have, if said

    def missing(self, translation: str) -> list[str]:
        """What ``translation`` lacks: each word with no alternative in it, and a wrong sentence count."""
        lowered = translation.lower()
        lacking = ["|".join(word) for word in self.words if not any(w.lower() in lowered for w in word)]
        if self.sentences is not None:
            found = sum(len(line) for line in split_sentences(translation, self.direction.split("-")[1]))
            if found != self.sentences:
                lacking.append(f"{self.sentences} sentences (has {found})")
        return lacking


def read_phrases(path: Path = PHRASES) -> list[Phrase]:
    phrases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(f"{path}:{number}: want direction, text and expected, tab-separated")
        direction, text, expected = fields
        words, sentences = [], None
        for item in expected.split(";"):
            if item.startswith("sentences="):
                sentences = int(item.removeprefix("sentences="))
            else:
                words.append(item.split("|"))
        phrases.append(Phrase(direction, text, words, sentences))
    return phrases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--models", nargs="+", help="model directories, one per direction (default: bundled)")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    from honyaku.inference.pretrained import pretrained_models
    from honyaku.inference.translator import Translator

    translators = {
        "-".join(t.direction): t
        for t in (Translator.load(d, backend=args.backend) for d in (args.models or pretrained_models()))
    }
    phrases = [p for p in read_phrases() if p.direction in translators]
    passed = 0
    for phrase in phrases:
        translation = translators[phrase.direction].translate([phrase.text])[0]
        lacking = phrase.missing(translation)
        passed += not lacking
        verdict = "ok" if not lacking else f"lacks {', '.join(lacking)}"
        print(f"{phrase.direction}  {phrase.text}  →  {translation}  [{verdict}]".replace("\n", " / "))
    print(f"{passed} of {len(phrases)} phrases have what they should")


if __name__ == "__main__":
    run_main(main, "bench/everyday.py")
