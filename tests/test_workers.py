"""Running batches: in order, here or in worker processes, and each process
settled after its first batch or result (what it holds then is out of the
cycle collector's sight, while later garbage is still collected)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Run in a child process: ``gc.freeze`` is process-wide.
PROBE = """
import gc, json, os, sys, weakref
from augment.engine.workers import run_batches


class Node:
    pass


def job(batch):
    node = Node()
    node.me = node  # garbage in a cycle, for the collector to find
    return [(n, os.getpid(), gc.get_freeze_count()) for n in batch]


def later_garbage_is_collected():
    probe = Node()
    probe.me = probe
    ref = weakref.ref(probe)
    del probe
    gc.collect()
    return ref() is None


workers = int(sys.argv[1])
out = [row for rows in run_batches(job, ([i] for i in range(8)), workers) for row in rows]
print(json.dumps({"rows": out, "collected": later_garbage_is_collected(), "frozen": gc.get_freeze_count()}))
"""


def probe(workers: int) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(workers)], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_batches_come_back_in_order_and_each_process_is_settled_after_its_first_batch():
    import multiprocessing

    forks = "fork" in multiprocessing.get_all_start_methods()
    for workers in (1, 2):
        found = probe(workers)
        assert found["frozen"] > 0  # this process too: after its first batch, or its workers' first result
        assert [row[0] for row in found["rows"]] == list(range(8))
        seen: set[int] = set()
        for _, pid, frozen in found["rows"]:
            if pid in seen:
                assert frozen > 0, (workers, pid)  # settled after this process's first batch
            elif workers == 1:
                assert frozen == 0  # the first batch ran before it
            elif forks:
                assert frozen > 0  # forked from a parent that froze what it held first
            seen.add(pid)
        assert found["collected"]  # garbage made after settling is still collected


def test_the_pipes_to_the_workers_hold_a_few_batches():
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    from augment.engine.workers import PIPE_BYTES, _widen_pipes

    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < PIPE_BYTES:
        pytest.skip("this machine caps pipes below PIPE_BYTES")
    pool = ProcessPoolExecutor(1)
    try:
        pipes = (pool._call_queue._reader, pool._result_queue._reader)
        assert all(fcntl.fcntl(p.fileno(), fcntl.F_GETPIPE_SZ) < PIPE_BYTES for p in pipes)  # a pipe's default (64 KiB)
        _widen_pipes(pool)
        assert [fcntl.fcntl(p.fileno(), fcntl.F_GETPIPE_SZ) for p in pipes] == [PIPE_BYTES, PIPE_BYTES]
    finally:
        pool.shutdown()


DYING = """
import os, sys, threading
from augment.engine.workers import run_batches
from augment.errors import AugmentError


def job(batch):
    if batch == [3]:
        os._exit(3)  # a worker dies mid-run
    return batch


try:
    for _ in run_batches(job, ([i] for i in range(8)), 2):
        pass
except AugmentError as exc:
    print(exc)
left = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
print("threads left:", left)
"""


def test_a_dead_worker_leaves_no_pool_thread_running_when_the_error_is_raised():
    """The pool's own thread is done when the error reaches the caller: left
    running, it could close a pipe while Python's exit hook writes to it, a
    "Bad file descriptor" traceback after the error message."""
    done = subprocess.run([sys.executable, "-c", DYING], capture_output=True, timeout=120)
    lines = done.stdout.decode().splitlines()
    assert lines == ["a worker process died; nothing was written (rerun with --workers 1 to see why)", "threads left: []"], done.stderr.decode()
    assert done.stderr.decode() == ""
