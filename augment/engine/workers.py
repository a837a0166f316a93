"""Running the per-record work in batches, in this process or in several.

Batches go to worker processes with at most a few in flight per worker, so
memory stays flat however long the input is, and results come back in input
order, so the output is the same whatever the number of workers.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections import deque
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from augment.errors import AugmentError

if TYPE_CHECKING:  # multiprocessing and concurrent.futures are imported by a run that uses them (tens of ms of every start)
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

#: Batches in flight per worker: enough to keep them busy, few enough to bound memory.
IN_FLIGHT = 3


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def batched(items: Iterable[T], size: int, kind: type[list] = list) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter), each a ``kind``."""
    iterator = iter(items)
    while batch := kind(itertools.islice(iterator, size)):
        yield batch


_job: Callable | None = None


def _start_worker(job: Callable) -> None:
    global _job
    _job = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


#: Batches this worker process was given.
_batches = 0
_settled = False


def _call(batch):
    global _batches
    assert _job is not None
    if _batches:
        settle()
    _batches += 1
    return _job(batch)


def settle() -> None:
    """Once per process, after its first batch and before the next (in a
    pool's parent, after its first result): what the process holds then
    (plugins, the steps' tables, personas, caches, the reader and writer)
    lives as long as it does, so it is moved out of the cycle collector's
    sight (``gc.freeze``, after collecting the first batch's garbage). The
    collector's full passes, which walked all of it again and again, then
    walk only what later batches make (7% of a synonym run on distinct
    text); reference counting still frees whatever is let go."""
    global _settled
    if not _settled:
        _settled = True
        _freeze()


def _freeze() -> None:
    import gc

    gc.collect()
    gc.freeze()


def run_batches(job: Callable[[list[T]], R], batches: Iterable[list[T]], workers: int) -> Iterator[R]:
    """``job(batch)`` for every batch, in order, on ``workers`` processes.

    A worker that dies (killed, out of memory, a crash in native code) stops
    the run with an error instead of leaving it waiting forever. Input that
    fits in one batch is worked on here: starting processes would cost more
    than the work (the output is the same either way)."""
    batches = iter(batches)
    if workers > 1:
        first = list(itertools.islice(batches, 2))
        batches = itertools.chain(first, batches)
        if len(first) < 2:
            workers = 1
    if workers <= 1:
        for done, batch in enumerate(batches):
            if done:
                settle()  # (not after the last batch: a run of one batch ends there)
            yield job(batch)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        _freeze()  # the workers' collectors then leave the parent's objects alone (and unshared)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=_start_worker, initargs=(job,))
    _widen_pipes(pool)
    try:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(_call, batch))
            if len(pending) >= workers * IN_FLIGHT:
                yield pending.popleft().result()
                settle()
        while pending:
            yield pending.popleft().result()
            settle()
    except BaseException as exc:
        processes = list((pool._processes or {}).values())  # (private, but the only handle on them before Python 3.14)
        manager = pool._executor_manager_thread  # (private too; shutdown forgets it)
        pool.shutdown(wait=False, cancel_futures=True)  # don't wait on work nobody will read
        for process in processes:  # nor leave a worker behind: one caught mid-batch by Ctrl-C could outlive this process
            process.terminate()
        if manager is not None:
            # Let the pool's thread finish closing its pipes now: still running at
            # exit, it can close one while Python's exit hook writes to it, and a
            # "Bad file descriptor" traceback follows the error (Python 3.11).
            manager.join(timeout=10)
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(exc, BrokenProcessPool):  # from a result, or from submit once the pool knows
            raise AugmentError(WORKER_DIED) from None
        raise
    pool.shutdown(wait=True)


#: What each pipe between a pool and its workers holds (Linux). A batch and
#: its results are about 100 KB, which a default pipe (64 KiB) takes in
#: pieces, a worker waiting between them on the parent's threads (wider:
#: 10% of a two-worker conversion).
PIPE_BYTES = 1 << 20


def _widen_pipes(pool) -> None:
    """Let the pool's pipes hold a few batches; where that cannot be asked
    (not Linux, refused) they stay as they are, only slower."""
    try:
        import fcntl

        ask = fcntl.F_SETPIPE_SZ
        pipes = (pool._call_queue._reader, pool._result_queue._reader)  # (private: the pool has no public handle on them)
    except (ImportError, AttributeError):
        return
    for pipe in pipes:
        try:
            fcntl.fcntl(pipe.fileno(), ask, PIPE_BYTES)
        except OSError:
            pass


def run_overlapped(job: Callable[[list[T]], R], batches: Iterable[list[T]], in_flight: int) -> Iterator[R]:
    """``job(batch)`` for every batch, in order, with up to ``in_flight``
    batches at once in threads of this process: for work that waits (model
    requests), so the next batch's requests go out while a batch waits for
    its slowest ones. The threads are daemons: Ctrl-C or an error does not
    wait for a batch nobody will read."""
    pending: deque[Future] = deque()
    for batch in batches:
        pending.append(_in_thread(job, batch))
        if len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _in_thread(job: Callable[[list[T]], R], batch: list[T]) -> Future:
    from concurrent.futures import Future

    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(job(batch))
        except BaseException as exc:  # handed to the run's thread, which raises it
            future.set_exception(exc)

    threading.Thread(target=work, name="augment-batch", daemon=True).start()
    return future


#: What a run says when a worker process died (killed, out of memory, a crash in native code).
WORKER_DIED = "a worker process died; nothing was written (rerun with --workers 1 to see why)"
