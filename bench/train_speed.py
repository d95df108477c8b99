"""Training speed of a config on this machine: target tokens/s over real batches, and the epoch time it implies.

    python bench/train_speed.py configs/seed_keras.yaml configs/sutskever.yaml [--steps 40] [--data-dir DIR]

Runs ``--warmup`` steps, then times ``--steps`` training steps (forward, backward, clipping, optimizer) on the
first batches of epoch 1, exactly as ``honyaku train`` builds them. Run it on an idle machine: it is a timing.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch
from results_file import run_main

from honyaku.config import load_config
from honyaku.data import collate, make_batches
from honyaku.model import count_parameters
from honyaku.training import Trainer
from honyaku.vocabulary import Vocabulary


def measure(config_path: str, steps: int, warmup: int, data_dir: str | None) -> dict[str, float | str]:
    config = load_config(config_path)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), data_dir=data_dir, progress_bar=False)
        trainer.prepare(resume=False)
        cfg = config.training
        batches = make_batches(trainer.train_data, cfg.batch_size, cfg.batch_tokens, cfg.seed, epoch=0)
        epoch_tokens = sum(len(t) - 1 for t in trainer.train_data.tgt)
        trainer.model.train()
        tokens, seconds = 0, 0.0
        for i, indices in enumerate(batches[: warmup + steps]):
            batch = collate(trainer.train_data, indices, Vocabulary.pad_id).to(trainer.device)
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            trainer._train_step(batch)
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            if i >= warmup:
                seconds += time.perf_counter() - started
                tokens += batch.num_target_tokens
        rate = tokens / seconds
        return {
            "config": Path(config_path).name,
            "parameters": count_parameters(trainer.model),
            "device": str(trainer.device),
            "threads": torch.get_num_threads(),
            "steps": steps,
            "tokens_per_s": rate,
            "batches_per_epoch": len(batches),
            "seconds_per_epoch": epoch_tokens / rate,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}")
    print(
        "| config | parameters | device | threads | timed steps | target tokens/s | batches/epoch | s/epoch (implied) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for path in args.configs:
        r = measure(path, args.steps, args.warmup, args.data_dir)
        print(
            f"| {r['config']} | {r['parameters']:,} | {r['device']} | {r['threads']} | {r['steps']} | "
            f"{r['tokens_per_s']:,.0f} | {r['batches_per_epoch']} | {r['seconds_per_epoch']:,.0f} |"
        )


if __name__ == "__main__":
    run_main(main, "train_speed.py")
