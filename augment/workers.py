"""Running the per-record work in batches, in this process or in several.

Batches go to worker processes with at most a few in flight per worker, so
memory stays flat however long the input is, and results come back in input
order, so the output is the same whatever the number of workers.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
from collections import deque
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Batches in flight per worker: enough to keep them busy, few enough to bound memory.
IN_FLIGHT = 3


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


_job: Callable | None = None


def _start_worker(job: Callable) -> None:
    global _job
    _job = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def _call(batch):
    assert _job is not None
    return _job(batch)


def run_batches(job: Callable[[list[T]], R], batches: Iterable[list[T]], workers: int) -> Iterator[R]:
    """``job(batch)`` for every batch, in order, on ``workers`` processes."""
    if workers <= 1:
        for batch in batches:
            yield job(batch)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    pool = ctx.Pool(workers, initializer=_start_worker, initargs=(job,))
    try:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.apply_async(_call, (batch,)))
            if len(pending) >= workers * IN_FLIGHT:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()
