"""Training speed of a config on this machine: target tokens/s over real batches, the epoch time it implies, and
the arithmetic rate achieved against the machine's own matrix-multiply rate (the limit).

    python bench/train_speed.py configs/seed_keras.yaml configs/sutskever.yaml [--steps 40] [--data-dir DIR]
    python bench/train_speed.py configs/all_corpora_enja.yaml --set training.compile=true --label compiled

Runs ``--warmup`` steps, then times ``--steps`` training steps (forward, backward, clipping, optimizer) on the
first batches of epoch 1, exactly as ``honyaku train`` builds them. Then the same batches run again under
torch's FlopCounterMode to count their floating-point operations (matrix products and attention; an LSTM's
products, which its fused CPU kernel hides from the counter, are counted from its shapes). GFLOP/s is that count
over the timed seconds; the limit is a float32 1024×1024 matrix product timed on the same device and threads.
Run it on an idle machine: it is a timing.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch
from results_file import RESULTS, run_main, write_section
from torch import nn
from torch.nn.utils.rnn import PackedSequence
from torch.utils.flop_counter import FlopCounterMode

from honyaku.core.config_files import load_config
from honyaku.data.batching import collate, make_batches
from honyaku.data.catalogue import DataPlaces
from honyaku.data.vocabulary import Vocabulary
from honyaku.models.factory import count_parameters
from honyaku.training.trainer import Trainer


def measure(
    config_path: str,
    steps: int,
    warmup: int,
    data_dir: str | None,
    profile: int = 0,
    overrides: list[str] | None = None,
) -> dict[str, float | str]:
    config = load_config(config_path, overrides)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), places=DataPlaces(data_dir), progress_bar=False)
        trainer.set_up(resume=False)
        cfg = config.training
        batches = make_batches(trainer.train_data, cfg.batch_size, cfg.batch_tokens, cfg.seed, epoch=0)
        epoch_tokens = sum(len(t) - 1 for t in trainer.train_data.tgt)
        trainer.model.train()
        tokens, seconds, warmup_seconds = 0, 0.0, 0.0
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
            else:  # a compiled step's compilation among them
                warmup_seconds += time.perf_counter() - started
        rate = tokens / seconds
        flops = count_flops(trainer, batches[warmup : warmup + steps])
        share = print_profile(trainer, batches[warmup : warmup + profile], Path(config_path).name) if profile else None
        return {
            "matmul_share": share,
            "config": Path(config_path).name,
            "parameters": count_parameters(trainer.model),
            "device": str(trainer.device),
            "threads": torch.get_num_threads(),
            "steps": steps,
            "warmup_seconds": warmup_seconds,
            "tokens_per_s": rate,
            "batches_per_epoch": len(batches),
            "seconds_per_epoch": epoch_tokens / rate,
            "gflops": flops / seconds / 1e9,
        }


def lstm_flops(lstm: nn.LSTM, x: torch.Tensor | PackedSequence) -> int:
    """Floating-point operations of one nn.LSTM call, forward and backward (twice the forward's work)."""
    rows = x.data.size(0) if isinstance(x, PackedSequence) else x.size(0) * x.size(1)  # (tokens, in) or (B, T, in)
    directions = 2 if lstm.bidirectional else 1
    total, size = 0, lstm.input_size
    for _ in range(lstm.num_layers):
        total += directions * 2 * rows * 4 * lstm.hidden_size * (size + lstm.hidden_size)  # 4 gates' products
        size = directions * lstm.hidden_size
    return 3 * total


def count_flops(trainer: Trainer, batches: list[list[int]]) -> int:
    """Floating-point operations of training steps on ``batches`` (the steps are taken)."""
    lstm_total = 0

    def add_lstm(module: nn.LSTM, inputs: tuple) -> None:
        nonlocal lstm_total
        lstm_total += lstm_flops(module, inputs[0])

    hooks = [m.register_forward_pre_hook(add_lstm) for m in trainer.model.modules() if isinstance(m, nn.LSTM)]
    try:
        with FlopCounterMode(display=False) as counter:
            for indices in batches:
                trainer._train_step(collate(trainer.train_data, indices, Vocabulary.pad_id).to(trainer.device))
    finally:
        for hook in hooks:
            hook.remove()
    return counter.get_total_flops() + lstm_total


MATMULS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_scaled_dot_product_flash_attention_for_cpu")


def print_profile(trainer: Trainer, batches: list[list[int]], name: str) -> float:
    """The operators that take the time of training steps on ``batches``, by their own CPU time; gives the share of
    that time spent in matrix products (attention's fused kernel counted among them)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for indices in batches:
            trainer._train_step(collate(trainer.train_data, indices, Vocabulary.pad_id).to(trainer.device))
    averages = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in averages)
    share = sum(event.self_cpu_time_total for event in averages if event.key in MATMULS) / total
    print(f"{name}: {len(batches)} steps by operator; matrix products {share:.0%} of the operators' time")
    print(averages.table(sort_by="self_cpu_time_total", row_limit=15))
    return share


def matmul_gflops(device: torch.device, size: int = 1024, repeats: int = 10, rounds: int = 5) -> float:
    """This device's float32 matrix-multiply rate at the current thread count: the limit training works against.
    The best of several rounds, as a limit should be."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = 0.0
    for _ in range(rounds):  # a cold first round does not lower the best
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also print where N steps spend time")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override every config")
    parser.add_argument("--label", help="what the rows measured, after the config's name (e.g. the code's commit)")
    args = parser.parse_args()
    rows, label = [], f", {args.label}" if args.label else ""
    for path in args.configs:
        r = measure(path, args.steps, args.warmup, args.data_dir, args.profile, args.set)
        limit = matmul_gflops(torch.device(r["device"]))
        rows.append(
            f"| {r['config']}{label} | {r['parameters']:,} | {r['device']} | {r['threads']} | "
            f"{r['warmup_seconds']:.1f} s ({args.warmup}) | {r['steps']} | "
            f"{r['tokens_per_s']:,.0f} | {r['batches_per_epoch']} | {r['seconds_per_epoch']:,.0f} | "
            f"{r['gflops']:,.1f} | {limit:,.0f} | {r['gflops'] / limit:.0%} | "
            f"{'–' if r['matmul_share'] is None else format(r['matmul_share'], '.0%')} |"
        )
        print(rows[-1])
    header = [
        "## Training speed (bench/train_speed.py)",
        "",
        f"This machine ({platform.processor() or platform.machine()}), torch {torch.__version__}; nothing else "
        "running. Timed steps on the first batches of epoch 1; GFLOP/s counted by torch's FlopCounterMode",
        "(LSTMs from their shapes) over the timed seconds; the limit is a float32 1024×1024 matrix product on the "
        "same device and threads, timed after each config's steps (best of 5 rounds): on a shared machine the",
        "speed drifts, so each row has its own.",
        "",
        "| config | parameters | device | threads | warm-up steps (compilation included) | timed steps | "
        "target tokens/s | batches/epoch | s/epoch (implied) | GFLOP/s | matmul GFLOP/s | share of it | "
        "matmuls' share of step time (profile) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    write_section(args.results, "train-speed", header, rows)


if __name__ == "__main__":
    run_main(main, "train_speed.py")
