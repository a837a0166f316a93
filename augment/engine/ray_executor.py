"""The per-record work as Ray tasks (``augment run --executor ray``).

The driver (this process) reads, filters, encodes and writes, in input order,
exactly as in a local run; only :class:`~augment.engine.records.RecordJob`
calls — decode, repair, the chain of steps — run as Ray tasks, one task per
batch. The job is put in the object store once, and each worker process
unpickles it once and loads the steps' data once (``setup``). Results are
taken in submission order with at most ``IN_FLIGHT`` batches per cluster CPU
outstanding, so the driver's memory stays flat however long the input is.

Before the first batch the executor says which resources each step needs
(``Augmenter.requirements()``) and checks every node with a small task
pinned to it: the steps' requirements, and the Python packages the driver
has, at the same versions (the same versions give the same bytes). A node
that lacks something stops the run with that reason before any work.

Faults: a task whose worker process or node dies is run again by Ray
(``max_retries``); its result is the same (every record's randomness is
seeded from the record), and it is consumed once, in order, by the driver,
so no record is lost or written twice. A record that fails is rejected with
its ``file:line`` as in a local run.

The ``augment`` and ``augment_plugins`` packages, and the module of every
plugin class the job holds, go to the workers in a ``runtime_env``: copies
under their import names (``augment_plugins`` is the ``plugins/`` folder of a
source checkout), without ``__pycache__``, in a folder that is the tasks'
``working_dir`` (about 0.5 MiB zipped, uploaded once per content). Ray is
imported only here, and only when ``--executor ray`` is asked for.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import secrets
import shutil
import sys
import sysconfig
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from augment.engine.workers import IN_FLIGHT
from augment.errors import AugmentError, UsageError

#: Runs of a task after its worker process or node died (Ray's max_retries).
MAX_RETRIES = 3
#: Shipped to the workers whatever the chain.
PACKAGES = ("augment", "augment_plugins")
#: The distribution whose dependencies every node must have at the driver's versions.
DISTRIBUTION = "roleplay-augment"
#: Seconds the node check may take (starting a worker process with the runtime_env included).
CHECK_TIMEOUT = 120
#: The object store of a Ray instance started for the run: batches in flight are small.
LOCAL_OBJECT_STORE = 256 << 20
#: Environment variables passed on to the workers when set here (they change what steps read).
FORWARDED = ("AUGMENT_WORDNET",)


class MissingRequirement(AugmentError):
    """A node lacks what a step needs."""


def _silent(line: str) -> None:
    pass


@dataclass
class Stats:
    batches: int = 0
    #: Seconds the job took inside the tasks, summed.
    work_seconds: float = 0.0
    #: Seconds the driver waited for results.
    wait_seconds: float = 0.0
    nodes: set = field(default_factory=set)
    pids: set = field(default_factory=set)


class RayExecutor:
    """Batches as Ray tasks on the cluster at ``address`` (``auto``,
    ``ray://HOST:PORT``, ``HOST:PORT``), or on a Ray instance started here
    with ``cpus`` CPUs and shut down afterwards (no ``address``)."""

    def __init__(self, address: str | None = None, cpus: int = 1, max_retries: int = MAX_RETRIES) -> None:
        self.address = address
        self.cpus = cpus
        self.max_retries = max_retries
        self.say: Callable[[str], None] = _silent
        self.stats = Stats()
        self._ray: Any = None
        self._staging: Path | None = None
        #: The temporary folder of a Ray instance started here (its logs).
        self._temp: Path | None = None
        self._failed = False
        self._key = uuid.uuid4().hex
        self._box: list = []
        self._task: Any = None
        self._in_flight = IN_FLIGHT

    # -- starting ---------------------------------------------------------------
    def start(self, job) -> None:
        ray = self._connect(job)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise UsageError("ray: the cluster has no CPU to run tasks on")
        self._in_flight = cpus * IN_FLIGHT
        needs = step_requirements(job)
        if needs:
            self.say("ray: the steps need " + "; ".join(f"{name}: {', '.join(reqs) or 'only the Python packages'}" for name, _, reqs in needs))
        self._check_nodes(needs)
        self._box = [ray.put(job)]  # in a list, so that tasks get the reference and fetch it once per process
        # SPREAD: a batch has no data on any node, so every node takes its share.
        self._task = ray.remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False, scheduling_strategy="SPREAD")(_work)

    def _connect(self, job):
        # Set before Ray is imported: no usage report is ever sent, and a Ray
        # instance started here stays on the loopback address (Ray would
        # otherwise pick the machine's outward address for its node).
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if self.address is None:
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            if "RAY_AUTH_MODE" not in os.environ:
                # Token authentication with a token of this run's own, held in
                # the environment of the instance's processes: Ray would
                # otherwise make one and save it in ~/.ray/auth_token.
                os.environ["RAY_AUTH_MODE"] = "token"
                os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
        import ray

        self._ray = ray
        modules = shipped_modules(job)
        self._staging = Path(tempfile.mkdtemp(prefix="augment-ray-"))
        stage(modules, self._staging)
        size = sum(p.stat().st_size for p in self._staging.rglob("*") if p.is_file())
        env_vars = {name: os.environ[name] for name in FORWARDED if name in os.environ}
        # The copies are the tasks' working_dir: first on their sys.path, and
        # Ray then does not put this process's current folder there (from a
        # source checkout, that would shadow the copies with the checkout).
        runtime_env: dict[str, Any] = {"working_dir": str(self._staging)}
        if env_vars:
            runtime_env["env_vars"] = env_vars
        common = dict(runtime_env=runtime_env, log_to_driver=False, logging_level=logging.WARNING, include_dashboard=False)
        try:
            if self.address is None:
                ray._private.ray_constants.ENABLE_RAY_CLUSTER = False  # in case Ray was imported before the variable was set
                self._temp = Path(tempfile.mkdtemp(prefix="augment-ray-"))
                ray.init(address="local", num_cpus=self.cpus, object_store_memory=LOCAL_OBJECT_STORE, _temp_dir=str(self._temp), **common)
                where = f"a local Ray instance with {self.cpus} CPU(s), shut down after the run"
            else:
                ray.init(address=self.address, **common)
                nodes = [n for n in ray.nodes() if n.get("Alive")]
                cpus = int(ray.cluster_resources().get("CPU", 0))
                where = f"the Ray cluster at {self.address}: {len(nodes)} node(s), {cpus} CPU(s)"
        except ray.exceptions.RaySystemError as exc:
            raise UsageError(f"ray: cannot reach a cluster at {self.address}: {_first_line(exc)}") from None
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UsageError(f"ray: cannot start or reach Ray{f' at {self.address}' if self.address else ''}: {_first_line(exc)}") from None
        self.say(f"ray: running the steps on {where}; {', '.join(modules)} go to the workers as their working_dir ({size / 1024:.0f} KiB)")
        return ray

    def _check_nodes(self, needs) -> None:
        """A task pinned to every alive node checks the steps' requirements and
        the Python packages there; any node lacking something stops the run."""
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = [n for n in ray.nodes() if n.get("Alive")]
        wanted = package_versions()
        probe = ray.remote(num_cpus=0, max_retries=self.max_retries)(_inspect_node)
        refs = [
            probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(needs, list(wanted))
            for n in nodes
        ]
        _, late = ray.wait(refs, num_returns=len(refs), timeout=CHECK_TIMEOUT)
        if late:
            silent = [n["NodeManagerAddress"] for n, ref in zip(nodes, refs) if ref in late]
            for ref in late:
                ray.cancel(ref, force=True)
            raise UsageError(
                f"ray: node(s) {', '.join(silent)} did not answer the check within {CHECK_TIMEOUT} s: busy, or unable to "
                "start a Python worker (see the raylet logs of the node)"
            )
        try:
            reports = ray.get(refs)
        except ray.exceptions.RayTaskError as exc:
            raise UsageError(f"ray: a node could not load the steps: {_cause(exc)}") from None
        except ray.exceptions.RayError as exc:
            raise UsageError(f"ray: a node could not be checked: {_first_line(exc)}") from None
        problems = []
        for report in reports:
            lines = [f"{step} needs {req}: {why}" for step, req, why in report["missing"]]
            if report["python"] != _python():
                lines.append(f"Python {report['python']} there, {_python()} here")
            for name, version in wanted.items():
                theirs = report["versions"].get(name)
                if theirs != version:
                    lines.append(f"the Python package {name} is {'missing' if theirs is None else theirs} there, {version} here")
            if lines:
                problems.append(f"node {report['node']} ({report['host']}) cannot run this chain:\n  " + "\n  ".join(lines))
        if problems:
            raise UsageError("ray: " + "\nray: ".join(problems))
        self.say(f"ray: checked {len(reports)} node(s) ({', '.join(sorted(r['node'] for r in reports))}): each has what the steps need")

    # -- running ----------------------------------------------------------------
    def map(self, job, batches: Iterable[list]) -> Iterator[list]:
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append((batch[0][1].location, self._task.remote(self._key, self._box, batch)))
                if len(pending) >= self._in_flight:
                    yield self._result(*pending.popleft())
            while pending:
                yield self._result(*pending.popleft())
        finally:
            for _, ref in pending:  # a failure or Ctrl-C: nobody will read these
                try:
                    self._ray.cancel(ref)
                except Exception:  # noqa: BLE001 - already finished or gone
                    pass

    def _result(self, where, ref) -> list:
        ray = self._ray
        start = time.perf_counter()
        try:
            results, seconds, node, pid = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, AugmentError):
                raise cause from None  # the same message a local run gives
            self._failed = True
            raise AugmentError(
                f"a Ray task failed on the batch from {where}: {_cause(exc)} "
                "(the worker's traceback is in the Ray logs; --executor local shows it here)"
            ) from None
        except ray.exceptions.RayError as exc:
            self._failed = True
            raise AugmentError(
                f"ray: the batch from {where} was lost after {self.max_retries} retries: {_first_line(exc)}"
            ) from None
        stats = self.stats
        stats.wait_seconds += time.perf_counter() - start
        stats.batches += 1
        stats.work_seconds += seconds
        stats.nodes.add(node)
        stats.pids.add((node, pid))
        return results

    def close(self) -> None:
        stats = self.stats
        if stats.batches:
            self.say(
                f"ray: {stats.batches} batch(es) on {len(stats.nodes)} node(s), {len(stats.pids)} worker process(es); "
                f"work {stats.work_seconds / stats.batches:.2f} s a batch on the workers, the driver waited {stats.wait_seconds:.1f} s in all"
            )
        if self._ray is not None and self._ray.is_initialized():
            self._ray.shutdown()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        if self._temp is not None:
            if self._failed:
                self.say(f"ray: the logs of the Ray instance are kept in {self._temp}")
            else:
                shutil.rmtree(self._temp, ignore_errors=True)


# -- what goes to the workers ---------------------------------------------------


def shipped_modules(job) -> list[str]:
    """The top-level modules the job's objects come from: ``augment``,
    ``augment_plugins``, and every other plugin's (not the standard library's)."""
    objects = list(job.formats) + ([step.augmenter for step in job.engine.steps] if job.engine is not None else [])
    names = set(PACKAGES)
    for obj in objects:
        for klass in type(obj).__mro__:
            names.add(klass.__module__.partition(".")[0])
    stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    out = []
    for name in sorted(names):
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        if module is None or where is None or where.startswith(stdlib):
            continue  # builtins, the standard library
        out.append(name)
    return sorted(out, key=lambda n: (n not in PACKAGES, PACKAGES.index(n) if n in PACKAGES else 0, n))


def stage(modules: list[str], folder: Path) -> None:
    """Copies of ``modules`` in ``folder`` under their import names (a folder
    per package, a file per single module)."""
    for name in modules:
        module = sys.modules[name]
        paths = list(getattr(module, "__path__", []))
        if paths:
            target = folder / name
            shutil.copytree(paths[0], target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(module.__file__, folder / f"{name}.py")


def step_requirements(job) -> list[tuple[str, type, tuple[str, ...]]]:
    """``(step name, augmenter class, requirements)`` for every step of the chain."""
    if job.engine is None:
        return []
    return [(step.name, type(step.augmenter), tuple(step.augmenter.requirements())) for step in job.engine.steps]


def package_versions() -> dict[str, str]:
    """The driver's versions of the distributions augment depends on (none
    when augment runs from a source tree without being installed)."""
    try:
        requires = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    out = {}
    for line in requires:
        if "extra ==" in line:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", line).group(0)
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _python() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cause(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if cause is None:
        return _first_line(exc)
    return f"{type(cause).__name__}: {_first_line(cause)}"


# -- what runs on the workers -----------------------------------------------------

#: The job of the current run, by key, in this worker process (one at a time).
_jobs: dict[str, Any] = {}


def missing_requirements(needs) -> list[tuple[str, str, str]]:
    """``(step, requirement, why)`` for each requirement this machine lacks."""
    out = []
    for name, cls, reqs in needs:
        for req in reqs:
            why = cls.check_requirement(req)
            if why:
                out.append((name, req, why))
    return out


def _node() -> str:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - outside Ray (tests call the functions directly)
        import socket

        return socket.gethostname()


def job_here(key: str, box: list) -> Any:
    """The run's job in this process: fetched, checked and set up once."""
    job = _jobs.get(key)
    if job is not None:
        return job
    if isinstance(box[0], _Plain):
        job = box[0].value
    else:
        import ray

        job = ray.get(box[0])
    missing = missing_requirements(step_requirements(job))
    if missing:
        lines = "; ".join(f"{step} needs {req}: {why}" for step, req, why in missing)
        raise MissingRequirement(f"ray: node {_node()} cannot run this chain: {lines}")
    if job.engine is not None:
        job.engine.setup()
    _jobs.clear()  # one run's job at a time
    _jobs[key] = job
    return job


@dataclass
class _Plain:
    """A job handed over as it is, not as an object reference (tests)."""

    value: Any


def _work(key: str, box: list, batch: list) -> tuple[list, float, str, int]:
    job = job_here(key, box)
    start = time.perf_counter()
    results = job(batch)
    return results, time.perf_counter() - start, _node(), os.getpid()


def _inspect_node(needs, distributions: list[str]) -> dict[str, Any]:
    import socket

    versions = {}
    for name in distributions:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    import augment

    return {
        "node": _node(),
        "host": socket.gethostname(),
        "python": _python(),
        "missing": missing_requirements(needs),
        "versions": versions,
        "augment": augment.__file__,
    }
