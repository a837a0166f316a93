"""What the benchmarks in bench/ share: options, a work folder, timed child
processes, output checks, the machine's description and the report.

Every job runs as a child process under GNU time (``/usr/bin/time -f "%M %U
%S"``), one way for every script:

- wall time: ``time.perf_counter()`` around the child, start to exit;
- CPU time: the child's user + system seconds (its whole process tree: with
  worker processes, their time is in it);
- peak memory: GNU time's ``%M``, the peak RSS of the largest single process
  the job ran (Linux's rusage of reaped children is a maximum, not a sum).
  GNU time forks the job from its own ~2 MiB process, so the figure is the
  job's own. ``os.wait4`` from this script would not be: Linux carries the
  forking process's high-water mark into the child across the exec, so no
  job could report less than this script's own RSS;
- the machine's noise: the CPU seconds the rest of the machine was busy while
  the job ran (``/proc/stat``'s busy time less the job's own CPU time). A
  benchmark on a busy machine says so.

So the benchmarks need Linux (``/proc``) and GNU time (Debian package ``time``).
A failed job, a wrong output or a missing tool stops a benchmark with exit
status 1 and a line starting ``BENCHMARK FAILED``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

import orjson

ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20
GNU_TIME = "/usr/bin/time"


class BenchError(SystemExit):
    """Stops the benchmark: exit status 1, the message on stderr."""

    def __init__(self, message: str) -> None:
        super().__init__(f"BENCHMARK FAILED: {message}")


def log(message: str) -> None:
    """Progress goes to stderr; stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


# -- options and folders ----------------------------------------------------------


def positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser(doc: str, repeat: int | None = None) -> argparse.ArgumentParser:
    """The options every benchmark has (``--repeat`` when ``repeat`` is given)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if repeat is not None:
        p.add_argument("--repeat", type=positive, default=repeat,
                       help=f"runs per job; the best time is reported (default {repeat})")
    p.add_argument("--workdir", help="where inputs and outputs go, kept; default a temporary folder, removed at the end")
    p.add_argument("--json", dest="json_path", metavar="FILE", help="also write the numbers to this file")
    p.add_argument("--augment", help="the augment executable (default: beside this Python, else on PATH)")
    return p


@contextlib.contextmanager
def workdir(given: str | None, keep: bool = False) -> Iterator[Path]:
    """``given`` (made if missing, and kept), else a new temporary folder that
    is removed at the end unless ``keep``."""
    if given:
        path = Path(given).resolve()
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="augment-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def find_augment(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "augment"
    found = str(beside) if beside.exists() else shutil.which("augment")
    if found is None:
        raise BenchError("no augment executable beside this Python or on PATH; pass --augment")
    return found


# -- the machine ----------------------------------------------------------------


def _cpu_ticks() -> list[int]:
    """The first line of /proc/stat: the machine's CPU time by state, in clock ticks."""
    try:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        raise BenchError("the benchmarks need Linux's /proc") from None


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (all but idle and
    iowait; guest time is inside user already)."""
    t = _cpu_ticks()
    return (sum(t[:8]) - t[3] - t[4]) / os.sysconf("SC_CLK_TCK")


def idle_share(seconds: float = 1.0) -> float:
    """The share of all CPUs idle over the next ``seconds``."""
    a = _cpu_ticks()
    time.sleep(seconds)
    delta = [y - x for x, y in zip(a, _cpu_ticks())]
    return (delta[3] + delta[4]) / sum(delta[:8]) if sum(delta[:8]) else float("nan")


def machine(*packages: str) -> dict:
    """Cores, CPU model, Python, the platform, and the versions of ``packages``."""
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": "cpu unknown",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "peak_rss_from": "GNU time %M (the largest single process)",
    }
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        info["cpu"] = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), info["cpu"])
    for package in packages:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = None
    return info


_MACHINE_KEYS = {"nproc", "cpu", "python", "implementation", "platform", "peak_rss_from"}


def describe(info: dict) -> str:
    """``machine: nproc 2, Python 3.11.7 (CPython), <cpu>, <platform>; orjson 3.10``"""
    extra = ", ".join(f"{k} {v}" for k, v in info.items() if k not in _MACHINE_KEYS)
    return (f"machine: nproc {info['nproc']}, Python {info['python']} ({info['implementation']}), "
            f"{info['cpu']}, {info['platform']}" + (f"; {extra}" if extra else ""))


# -- child processes ------------------------------------------------------------


@dataclass
class Run:
    seconds: float  # wall time, start to exit
    cpu_seconds: float  # user + system of the job's process tree
    peak_rss_mib: float  # GNU time %M: the largest single process
    others_cpu_seconds: float  # what the rest of the machine used meanwhile
    stderr: str
    watched: Any = None  # what the ``monitor`` gave, if any


def run(cmd: list[str], env: dict[str, str] | None = None,
        monitor: Callable[[int], ContextManager[Any]] | None = None) -> Run:
    """Run ``cmd`` once under GNU time (stdout discarded). ``monitor(pid)``, a
    context manager, is entered while it runs (``pid`` is GNU time's: the job
    is its child). A non-zero exit raises BenchError with the job's stderr."""
    if not os.access(GNU_TIME, os.X_OK):
        raise BenchError(f"the benchmarks need GNU time at {GNU_TIME} (Debian package `time`)")
    with tempfile.TemporaryDirectory() as scratch:
        report, errors = Path(scratch, "time"), Path(scratch, "stderr")
        with open(errors, "wb") as err:
            busy = busy_seconds()
            start = time.perf_counter()
            proc = subprocess.Popen([GNU_TIME, "-f", "%M %U %S", "-o", str(report), *cmd],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
            with monitor(proc.pid) if monitor else contextlib.nullcontext() as watched:
                proc.wait()
            seconds = time.perf_counter() - start
            busy = busy_seconds() - busy
        stderr = errors.read_text("utf-8", "replace")
        if proc.returncode != 0:
            why = report.read_text().splitlines()[0] if report.exists() and report.stat().st_size else ""
            raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode} ({why}):\n{stderr}")
        kib, user, system = report.read_text().split()[-3:]
    cpu = float(user) + float(system)
    return Run(seconds, cpu, int(kib) / 1024, max(0.0, busy - cpu), stderr, watched)


def measure(name: str, cmd: list[str], repeat: int, *, before: Callable[[], None] | None = None,
            check: Callable[[Run], Any] | None = None, keep_going: bool = False, warmup: bool = False,
            env: dict[str, str] | None = None, monitor: Callable[[int], ContextManager[Any]] | None = None) -> dict:
    """``cmd`` ``repeat`` times; the best and median wall time, the peak RSS.

    Around each run, outside its timing: ``before()`` (e.g. remove the last
    output) and ``check(run)`` (which raises BenchError on a wrong output; what
    it returns is kept in ``checked``). ``warmup``: one untimed run first. With
    ``keep_going`` a failed run is recorded in ``errors`` and the others still
    run; the figures are those of the runs that passed (``seconds`` is None
    when none did). A job's stderr is echoed; under ``-q`` it should be empty.
    """
    if warmup:
        run(cmd, env)
    runs: list[Run] = []
    checked: list[Any] = []
    errors: list[str] = []
    for _ in range(repeat):
        if before:
            before()
        try:
            r = run(cmd, env, monitor)
            log(f"  {name}: {r.seconds:.2f} s wall, {r.cpu_seconds:.2f} s CPU, {r.peak_rss_mib:.1f} MiB; "
                f"others used {r.others_cpu_seconds:.2f} CPU s")
            if r.others_cpu_seconds > 0.1 * r.seconds + 0.5:
                log(f"  WARNING: the machine was not quiet: others used {r.others_cpu_seconds / r.seconds:.0%} of a core")
            if r.stderr.strip():
                log(f"  ({name} wrote to stderr: {r.stderr.strip()[:500]})")
            checked.append(check(r) if check else None)
        except BenchError as exc:
            if not keep_going:
                raise
            log(f"  {exc}")
            errors.append(str(exc))
            continue
        runs.append(r)
    best = min(runs, key=lambda r: r.seconds) if runs else None
    return {
        "job": name,
        "command": cmd,
        "seconds": best.seconds if best else None,
        "median_seconds": statistics.median(r.seconds for r in runs) if runs else None,
        "cpu_seconds": best.cpu_seconds if best else None,
        "peak_rss_mib": max(r.peak_rss_mib for r in runs) if runs else None,
        "all_seconds": [r.seconds for r in runs],
        "all_cpu_seconds": [r.cpu_seconds for r in runs],
        "all_peak_rss_mib": [r.peak_rss_mib for r in runs],
        "all_others_cpu_seconds": [r.others_cpu_seconds for r in runs],
        "checked": checked,
        "errors": errors,
        **({"watched": [r.watched for r in runs]} if monitor else {}),
    }


def check_jsonl(path: Path, key: str, lo: int, hi: int | None = None) -> int:
    """``path`` has ``lo`` lines (``lo`` to ``hi`` when given), each a JSON object
    with ``key``. Returns the number of lines."""
    if not path.exists():
        raise BenchError(f"{path} was not written")
    lines = 0
    with open(path, "rb") as fh:
        for lines, line in enumerate(fh, 1):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise BenchError(f"{path}:{lines}: not JSON: {exc}") from None
            if not isinstance(record, dict) or key not in record:
                raise BenchError(f"{path}:{lines}: no {key!r} field")
    hi = lo if hi is None else hi
    if not lo <= lines <= hi:
        raise BenchError(f"{path} has {lines} lines, expected {lo if lo == hi else f'{lo} to {hi}'}")
    return lines


# -- the report -------------------------------------------------------------------


def cell(value: float | None, spec: str = ".2f") -> str:
    """A number for a table; ``-`` for None."""
    return "-" if value is None else format(value, spec)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: the first column left-aligned, the others (numbers) right."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(blocks: list[str], json_path: str | None = None, data: dict | None = None) -> None:
    """Print the tables and notes (a blank line before each block) and, with
    ``--json FILE``, write ``data`` there."""
    for block in blocks:
        print()
        print(block)
    if json_path:
        Path(json_path).write_text(json.dumps(data, indent=2, default=str) + "\n")
