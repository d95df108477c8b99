"""Data-parallel training over several processes (torch DDP), started by ``torchrun`` or ``honyaku train --nproc``.

Every rank builds the same length-bucketed batches from ``(seed, epoch)`` and trains on its own share of each
one, so that ``batch_size`` / ``batch_tokens`` are the global batch whatever the number of processes, and N
processes follow the loss curve of one process. Rank 0 alone writes to the run directory.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from honyaku.core.errors import HonyakuError

if dist.is_available():
    import torch.distributed.nn.functional  # noqa: F401  (before any process group exists: see leave_world)


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def share(self, indices: Sequence[int]) -> tuple[Sequence[int], bool]:
        """This rank's part of a global batch, and whether it counts. A batch smaller than the world leaves
        some ranks nothing: they take one sentence and zero its loss, because every rank must run backward."""
        mine = indices[self.rank :: self.size]
        return (mine, True) if len(mine) else (indices[:1], False)

    def sum(self, *values: float) -> list[float]:
        """Sums over ranks (one all-reduce)."""
        if not self.distributed:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=_collective_device())
        dist.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, value: object) -> list[object]:
        if not self.distributed:
            return [value]
        gathered: list[object] = [None] * self.size
        dist.all_gather_object(gathered, value)
        return gathered

    def from_main(self, value: object) -> object:
        """Rank 0's value, on every rank: decisions taken from it (early stopping, LR decay) stay in step."""
        if not self.distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def wrap(self, model: nn.Module, device: torch.device, seed: int) -> nn.Module:
        """What training steps call: in a distributed run, the model in DistributedDataParallel, each rank
        drawing its own dropout masks; else the model itself."""
        if not self.distributed:
            return model
        torch.manual_seed(seed + self.rank)
        device_ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block (e.g. writing files) before the other ranks do."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()


def _collective_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def launched_rank() -> int:
    """This process's rank as ``torchrun`` set it, or 0 when not launched by it; valid after the world is left."""
    return int(os.environ.get("RANK", "0"))


def join_world(device_name: str) -> tuple[World, str]:
    """Join the process group that ``torchrun`` describes in the environment, if any. Returns the world and the
    device name this rank trains on (``cuda:LOCAL_RANK`` for CUDA: one GPU per process)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(), device_name
    world = World(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), size)
    use_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if use_cuda:
        if torch.cuda.device_count() <= world.local_rank:
            raise HonyakuError(
                f"rank {world.rank} wants GPU {world.local_rank}, but {torch.cuda.device_count()} are visible"
            )
        torch.cuda.set_device(world.local_rank)
        device_name = f"cuda:{world.local_rank}"
    elif device_name == "auto":
        device_name = "cpu"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return world, device_name


def leave_world() -> None:
    """Free the process group, on every rank together. What else holds the group must be freed first, while it is
    whole: freed later, its gloo side now and then aborts or hangs the rank.

    - DistributedDataParallel imports torch.distributed.nn.functional, whose functions take the world's group as a
      default argument: imported once a group exists, they would keep it until the interpreter shuts down. This
      module imports it first.
    - A trainer's DistributedDataParallel model sits in reference cycles, which only the garbage collector frees,
      at whatever moment it next runs: once the trainer is out of reach, it is collected here."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def torchrun_command(nproc: int) -> list[str]:
    """``torchrun --standalone --nproc-per-node N`` (one machine), to be followed by what each process runs."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]


def relaunch_with_torchrun(nproc: int, argv: list[str]) -> None:
    """Replace this process with ``torchrun --standalone --nproc-per-node N -m honyaku ARGV``."""
    os.execv(sys.executable, [*torchrun_command(nproc), "-m", "honyaku", *_without_nproc(argv)])


def _without_nproc(argv: list[str]) -> list[str]:
    """ARGV less ``--nproc N``: the workers must not relaunch, and torchrun would take it for its own option."""
    kept, skip_value = [], False
    for argument in argv:
        if skip_value:
            skip_value = False
        elif argument == "--nproc":
            skip_value = True
        elif not argument.startswith("--nproc="):
            kept.append(argument)
    return kept
