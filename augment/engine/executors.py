"""Where the per-record work runs: here or in local worker processes
(:func:`augment.engine.workers.run_batches`), or as tasks on a Ray cluster
(:mod:`augment.engine.ray_executor`, which imports Ray only when chosen).

An executor takes the run's :class:`~augment.engine.records.RecordJob` and its
batches of ``(ordinal, Raw)`` records, and gives back each batch's results in
input order with a bounded number of batches in flight. Everything else — the
filters, encoding, writing, the journal — stays in the run, in this process,
so the output is the same bytes whichever executor did the work.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Protocol

from augment.engine.workers import run_batches, run_overlapped
from augment.errors import CommandLineError

#: The values of ``--executor``.
EXECUTORS = ("local", "ray")
RAY_INSTALL = "pip install 'roleplay-augment[ray]'"


class Executor(Protocol):
    #: Where the executor says what it does before it starts (stderr, or nothing under -q).
    say: Callable[[str], None]

    def start(self, job) -> None:
        """Get ready to run ``job`` (load models, connect, check the nodes)."""

    def map(self, job, batches: Iterable[list]) -> Iterator[list]:
        """``job(batch)`` for every batch, in order."""

    def close(self) -> None:
        """Release what :meth:`start` took; called whatever happened."""


def _silent(line: str) -> None:
    pass


#: Batches of a chain that asks a model worked on at once (threads sharing one request window).
MODEL_BATCHES_IN_FLIGHT = 2


@dataclass
class Local:
    """This process, or ``workers`` local processes (:func:`run_batches`);
    with ``overlap`` > 1, that many batches at once in threads of this
    process (:func:`run_overlapped`: for work that waits, not computes)."""

    workers: int = 1
    overlap: int = 1
    #: Said at the start (why the run is local when something else was asked).
    note: str | None = None
    say: Callable[[str], None] = field(default=_silent, repr=False)

    def start(self, job) -> None:
        if self.note:
            self.say(self.note)
        if job.engine is not None:
            job.engine.setup()  # before the workers start, so they share it

    def map(self, job, batches: Iterable[list]) -> Iterator[list]:
        if self.overlap > 1:
            return run_overlapped(job, batches, self.overlap)
        return run_batches(job, batches, self.workers)

    def close(self) -> None:
        pass


def make(name: str, workers: int = 1, address: str | None = None, asks_model: bool = False) -> Executor:
    """The executor ``--executor NAME`` asks for. ``workers``: local processes,
    or the CPUs of a Ray instance started for the run (no ``address``)."""
    if name == "local":
        if address is not None:
            raise CommandLineError("--ray-address goes with --executor ray")
        # Model steps wait on the network: two batches in threads of this
        # process share the client's request window, so it stays full while
        # a batch waits for its slowest requests.
        return Local(1, overlap=MODEL_BATCHES_IN_FLIGHT) if asks_model else Local(workers)
    if name != "ray":
        raise CommandLineError(f"unknown executor {name!r} (known: {', '.join(EXECUTORS)})")
    if importlib.util.find_spec("ray") is None:  # not imported here: the executor sets Ray's variables first
        raise CommandLineError(f"--executor ray needs Ray, which is not installed: {RAY_INSTALL}")
    if asks_model:
        # Model steps wait on the network, not on CPUs: their request window
        # (--concurrency) stays in this process, with the cache and the budget.
        return Local(1, overlap=MODEL_BATCHES_IN_FLIGHT, note="ray: this chain asks a model, so it runs here on the driver (requests are concurrent threads, --concurrency); no Ray task is started")
    from augment.engine.ray_executor import RayExecutor

    return RayExecutor(address, workers)
