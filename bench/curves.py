"""Runs side by side, epoch by epoch: dev BLEU (greedy, as ``honyaku train`` measured it at each epoch's end, on
the corpus's tokens) read from each run's ``metrics.csv``, so that models trained with an equal epoch budget
compare at equal points — e.g. word-level against subword vocabularies:

    python bench/curves.py runs/transformer runs/transformer_joint runs/transformer_jaen \\
                           runs/transformer_subword_jaen --epochs 2 4 6 8 10

Nothing is trained or translated here; the runs must have reached the last of ``--epochs``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from results_file import RESULTS, run_main, write_section

from honyaku.core.errors import HonyakuError
from honyaku.modeldir import CONFIG_FILE, METRICS_FILE
from honyaku.models.factory import count_parameters
from honyaku.prediction import Translator


def vocabulary(translator: Translator) -> str:
    sizes = f"{len(translator.src_vocab):,}/{len(translator.tgt_vocab):,}"
    subwords = translator.config.data.subwords
    if subwords is None:
        return f"words, {sizes}"
    kind = f"SentencePiece {subwords.model}{', joint' if subwords.joint else ''}"
    return f"{kind}, {sizes}" + (", source read as written" if subwords.source_as_text else "")


def dev_bleu_at_epochs(run: Path, epochs: list[int]) -> tuple[list[float], float]:
    """Dev BLEU at the end of each of ``epochs`` (ascending), and the best up to the last of them."""
    with (run / METRICS_FILE).open(newline="") as stream:
        at_epoch_ends = {float(row["epoch"]): float(row["dev_bleu"]) for row in csv.DictReader(stream)}
    missing = [epoch for epoch in epochs if float(epoch) not in at_epoch_ends]
    if missing:
        raise HonyakuError(f"{run / METRICS_FILE}: no dev BLEU at the end of epoch {missing[0]} (train it further)")
    best = max(bleu for epoch, bleu in at_epoch_ends.items() if epoch <= epochs[-1])
    return [at_epoch_ends[float(epoch)] for epoch in epochs], best


def row(run: Path, epochs: list[int]) -> str:
    if not (run / CONFIG_FILE).is_file():
        raise HonyakuError(f"{run}: not a honyaku run directory (no {CONFIG_FILE})")
    translator = Translator.load(run, device="cpu")
    data = translator.config.data
    parameters = count_parameters(translator.model) / 1e6
    scores, best = dev_bleu_at_epochs(run, epochs)
    cells = " | ".join(f"{score:.2f}" for score in scores)
    direction = f"{data.src_lang}→{data.tgt_lang}"
    return f"| `{run}` | {direction} | {vocabulary(translator)} | {parameters:.1f}M | {cells} | {best:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--epochs", type=int, nargs="+", default=[2, 4, 6, 8, 10])
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to update")
    args = parser.parse_args()
    epochs = sorted(set(args.epochs))
    rows = [row(run, epochs) for run in args.runs]
    print("\n".join(rows))
    header = [
        "## Runs epoch by epoch (bench/curves.py)",
        "",
        "Dev BLEU, greedy, measured by `honyaku train` at the end of each epoch (sacrebleu `tokenize=none` on the",
        "corpus's own tokens; subword output joined back into corpus tokens first), read from each run's",
        "metrics.csv. Vocabulary sizes are source/target.",
        "",
        "| run | direction | vocabulary | parameters | "
        + " | ".join(f"epoch {epoch}" for epoch in epochs)
        + f" | best in {epochs[-1]} epochs |",
        "|---|---|---|---:|" + "---:|" * (len(epochs) + 1),
    ]
    write_section(args.results, "curves", header, rows, keep_rows=False)


if __name__ == "__main__":
    run_main(main, "curves.py")
