"""Runs side by side, epoch by epoch: dev BLEU (greedy, as ``honyaku train`` measured it at each epoch's end, on
the corpus's tokens) read from each run's ``metrics.csv``, so that models trained with an equal epoch budget
compare at equal points — e.g. word-level against subword vocabularies:

    python bench/curves.py runs/transformer runs/transformer_joint runs/transformer_jaen \\
                           runs/transformer_subword_jaen --epochs 2 4 6 8 10

Nothing is trained or translated here; the runs must have reached the last of ``--epochs``.

With ``--ablation CONFIG`` the rows go to the ablations table instead, each named by the settings in which its
run differs from CONFIG (a recipe's one change), with its training time up to the last epoch; rows already in
that table stay, so that ablations trained across several sessions accumulate:

    python bench/curves.py runs/ablation/* --ablation configs/transformer_joint.yaml
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from pathlib import Path
from typing import Any

from results_file import RESULTS, run_main, write_section

from honyaku.core.config import Config, changed_settings, setting_text
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.inference.translator import Translator
from honyaku.modeldir import CONFIG_FILE, METRICS_FILE
from honyaku.models.factory import count_parameters


def vocabulary(translator: Translator) -> str:
    sizes = f"{len(translator.src_vocab):,}/{len(translator.tgt_vocab):,}"
    subwords = translator.config.data.subwords
    if subwords is None:
        return f"words, {sizes}"
    kind = f"SentencePiece {subwords.model}{', joint' if subwords.joint else ''}"
    return f"{kind}, {sizes}" + (", source read as written" if subwords.source_as_text else "")


def epoch_ends(run: Path, epochs: list[int]) -> dict[float, dict[str, str]]:
    """The metrics.csv rows of the evaluations at the end of each of ``epochs`` and of every earlier one."""
    with (run / METRICS_FILE).open(newline="") as stream:
        rows = {float(row["epoch"]): row for row in csv.DictReader(stream)}
    missing = [epoch for epoch in epochs if float(epoch) not in rows]
    if missing:
        raise HonyakuError(f"{run / METRICS_FILE}: no dev BLEU at the end of epoch {missing[0]} (train it further)")
    return {epoch: row for epoch, row in rows.items() if epoch <= epochs[-1]}


def dev_bleu_at_epochs(run: Path, epochs: list[int]) -> tuple[list[float], float]:
    """Dev BLEU at the end of each of ``epochs`` (ascending), and the best up to the last of them."""
    rows = epoch_ends(run, epochs)
    best = max(float(row["dev_bleu"]) for row in rows.values())
    return [float(rows[float(epoch)]["dev_bleu"]) for epoch in epochs], best


# A run's budget, not its recipe: left out when a run is named by its changes.
BUDGET_SETTINGS = {"training.max_epochs", "training.max_steps", "training.max_minutes"}


def flat(setting: Any, prefix: str) -> dict[str, Any]:
    """A setting as ``{key: value}``, a nested section's (data.subwords) by its own keys."""
    if not dataclasses.is_dataclass(setting):
        return {prefix: setting}
    return {
        key: value
        for entry in dataclasses.fields(setting)
        for key, value in flat(getattr(setting, entry.name), f"{prefix}.{entry.name}").items()
    }


def changes(config: Config, base: Config) -> str:
    """The settings of ``config`` that differ from ``base``'s (config.changed_settings), as ``key=value``, the
    values of nested settings (data.subwords) flattened to the keys that changed."""
    changed = []
    for setting, (before, now) in changed_settings(config, base).items():
        ours, theirs = flat(now, setting), flat(before, setting)
        changed += [
            f"{key}={setting_text(value)}"
            for key, value in ours.items()
            if theirs.get(key) != value and key not in BUDGET_SETTINGS
        ]
    return ", ".join(changed) or "none (the recipe itself)"


def row(run: Path, epochs: list[int], base: Config | None = None) -> str:
    if not (run / CONFIG_FILE).is_file():
        raise HonyakuError(f"{run}: not a honyaku run directory (no {CONFIG_FILE})")
    translator = Translator.load(run, device="cpu")
    data = translator.config.data
    parameters = count_parameters(translator.with_pytorch().model) / 1e6
    scores, best = dev_bleu_at_epochs(run, epochs)
    cells = " | ".join(f"{score:.2f}" for score in scores)
    if base is not None:
        hours = float(epoch_ends(run, epochs)[float(epochs[-1])]["train_seconds"]) / 3600
        return f"| `{run}` | {changes(translator.config, base)} | {cells} | {best:.2f} | {hours:.2f} h |"
    direction = f"{data.src_lang}→{data.tgt_lang}"
    return f"| `{run}` | {direction} | {vocabulary(translator)} | {parameters:.1f}M | {cells} | {best:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--epochs", type=int, nargs="+", default=[2, 4, 6, 8, 10])
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to update")
    parser.add_argument("--ablation", metavar="CONFIG", help="the recipe the runs change: rows to the ablations table")
    args = parser.parse_args()
    epochs = sorted(set(args.epochs))
    base = load_config(args.ablation) if args.ablation else None
    rows = [row(run, epochs, base) for run in args.runs]
    print("\n".join(rows))
    columns = " | ".join(f"epoch {epoch}" for epoch in epochs) + f" | best in {epochs[-1]} epochs"
    if base is not None:
        header = [
            "## Ablations, epoch by epoch (bench/curves.py --ablation)",
            "",
            f"Each run is `{args.ablation}` with the settings named (its budget aside). Dev BLEU, greedy, at the end",
            "of each epoch as `honyaku train` measured it (sacrebleu `tokenize=none` on the corpus's tokens), and the",
            "training time of its steps up to the last epoch shown (a run that shared the machine with another job",
            "took longer: the session's notes say which). Models are compared on dev only.",
            "",
            f"| run | changes | {columns} | training time |",
            "|---|---|" + "---:|" * (len(epochs) + 2),
        ]
        write_section(args.results, "ablations", header, rows)
        return
    header = [
        "## Runs epoch by epoch (bench/curves.py)",
        "",
        "Dev BLEU, greedy, measured by `honyaku train` at the end of each epoch (sacrebleu `tokenize=none` on the",
        "corpus's own tokens; subword output joined back into corpus tokens first), read from each run's",
        "metrics.csv. Vocabulary sizes are source/target.",
        "",
        f"| run | direction | vocabulary | parameters | {columns} |",
        "|---|---|---|---:|" + "---:|" * (len(epochs) + 1),
    ]
    write_section(args.results, "curves", header, rows, keep_rows=False)


if __name__ == "__main__":
    run_main(main, "curves.py")
