"""Time to quality: trains a config from scratch for at most ``--minutes`` of training and reports when dev BLEU
(greedy, as ``honyaku train`` measures it) first reached each threshold.

    python bench/time_to_bleu.py configs/transformer_subword.yaml [--thresholds 30 35] [--minutes 20]
                                 [--eval-every 100] [--runs runs/time_to_bleu] [--data-dir DIR]

The clock is training time (forward, backward, update; what ``metrics.csv`` calls ``train_seconds``), without
the dev evaluations, whose cost depends on how often one looks. Run it on an idle machine: it is a timing.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import torch
from results_file import RESULTS, run_main, write_section

from honyaku.core.config_files import load_config
from honyaku.data.catalogue import DataPlaces
from honyaku.modeldir import METRICS_FILE
from honyaku.training.trainer import train


def crossings(metrics: Path, thresholds: list[float]) -> tuple[dict[float, dict[str, str] | None], float]:
    """The first metrics row at or above each threshold (None if never), and the best dev BLEU."""
    with metrics.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    first = {t: next((r for r in rows if float(r["dev_bleu"]) >= t), None) for t in thresholds}
    return first, max(float(r["dev_bleu"]) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[30.0, 35.0])
    parser.add_argument("--minutes", type=float, default=20.0, help="training-time budget per config")
    parser.add_argument("--eval-every", type=int, default=100, help="evaluate on dev every N steps")
    parser.add_argument("--runs", type=Path, default=Path("runs/time_to_bleu"))
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for config_path in args.configs:
        run = args.runs / load_config(config_path).name
        overrides = [f"training.eval_every_steps={args.eval_every}", f"training.max_minutes={args.minutes}"]
        train(config_path, run, overwrite=True, overrides=overrides, places=DataPlaces(args.data_dir))
        first, best = crossings(run / METRICS_FILE, args.thresholds)
        cells = [
            f"{float(row['train_seconds']) / 60:.1f} min (epoch {float(row['epoch']):.1f})" if row else "not reached"
            for row in first.values()
        ]
        rows.append(
            f"| `{config_path}` | {torch.get_num_threads()} | {args.eval_every} | {args.minutes:g} min | "
            + " | ".join(cells)
            + f" | {best:.2f} |"
        )
        print(rows[-1])
    thresholds = " | ".join(f"dev BLEU {t:g} reached after" for t in args.thresholds)
    header = [
        "## Time to BLEU (bench/time_to_bleu.py)",
        "",
        "Training time (steps only, not evaluations) until dev BLEU (greedy, corpus tokens) first reached each",
        "threshold, training from scratch on this machine.",
        "",
        f"| config | threads | eval every (steps) | budget | {thresholds} | best dev BLEU in budget |",
        "|---|---:|---:|---:|" + "---:|" * len(args.thresholds) + "---:|",
    ]
    write_section(args.results, "time-to-bleu", header, rows)


if __name__ == "__main__":
    run_main(main, "time_to_bleu.py")
