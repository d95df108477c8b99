"""Processes and threads on this machine, without PyTorch: how many CPU cores there are, the worker processes that
stream corpora (``WorkerPool``), and how many threads a computation uses (one per physical core by default, because
hyper-threads share a core's arithmetic units and only add contention to matrix products; ``HONYAKU_THREADS``
overrides it)."""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from honyaku.core.errors import HonyakuError


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (Linux: /proc/cpuinfo; else logical CPUs)."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    cores, cpu, package = set(), None, "0"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                key, _, value = (part.strip() for part in line.partition(":"))
                if key == "processor":
                    cpu = int(value)
                elif key == "physical id":
                    package = value
                elif key == "core id" and cpu in allowed:
                    cores.add((package, value))
    except (OSError, ValueError):
        return len(allowed)
    return len(cores) or len(allowed)


def descendant_processes(root: int) -> list[int]:
    """The processes that ``root`` started, and those they started, and so on (Linux /proc; none without it)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):  # a process that ended meanwhile
            continue
    found, frontier = [], {root}
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = set(children)
    return found


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


Item, Result = TypeVar("Item"), TypeVar("Result")

# Below this many items per worker, starting worker processes (each imports honyaku anew) costs more than it saves.
WORKER_CHUNK = 20_000


def workers_for(items: int, workers: int | None = None) -> int:
    """How many worker processes ``items`` items are worth: at most ``workers`` (default: every usable CPU), and
    one per ``WORKER_CHUNK`` items."""
    return max(1, min(workers or usable_cpus(), items // WORKER_CHUNK))


def map_chunks(
    function: Callable[[list[Item]], list[Result]], items: list[Item], workers: int | None = None
) -> list[Result]:
    """``function`` (a module-level function of a list, giving one result per item) over ``items``, in order: in
    chunks on ``workers`` processes (default: every usable CPU) when there are enough items to be worth it."""
    with WorkerPool(workers_for(len(items), workers)) as pool:
        return [result for chunk in pool.imap(function, chunked(items, WORKER_CHUNK)) for result in chunk]


def chunked(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """``items`` in lists of ``size`` (the last one shorter), read as they are needed."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class WorkerPool:
    """``count`` worker processes, started once for any number of maps (each one imports honyaku anew, which
    costs seconds); with a count of one, the work runs in this process."""

    def __init__(self, count: int):
        self.count = count
        self._pool: Any = None

    def __enter__(self) -> WorkerPool:
        if self.count > 1:  # spawn, not fork: a forked copy of a process whose PyTorch threads ran can deadlock
            self._pool = multiprocessing.get_context("spawn").Pool(self.count)
        return self

    def __exit__(self, *exception: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def imap(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """``function`` (module-level) over ``items``, in order, with at most two items per worker in flight:
        unlike ``Pool.imap``, which reads all of its input ahead, memory holds a few items whatever the input's
        length."""
        if self._pool is None:
            yield from map(function, items)
            return
        pending: collections.deque = collections.deque()
        for item in items:
            pending.append(self._pool.apply_async(function, (item,)))
            if len(pending) >= 2 * self.count:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def thread_count() -> int:
    """Threads for a computation: ``$HONYAKU_THREADS``, else ``$OMP_NUM_THREADS`` when set (torchrun gives each of
    several processes one), else the physical cores."""
    for variable in ("HONYAKU_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable)
        if value:
            if not value.isdigit() or int(value) < 1:
                raise HonyakuError(f"${variable} must be a whole number ≥ 1, got {value!r}")
            return int(value)
    return physical_cores()
