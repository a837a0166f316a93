"""Benchmark the start-up time of the ``augment`` CLI.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/startup.py                    # best of 5
    .venv/bin/python bench/startup.py --repeat 10 --json /tmp/startup.json

What it does:

1. writes a 1-record ShareGPT file (``bench/convert.py``'s generator, seed 1234);
2. times ``augment --help``, ``augment --version``, ``augment convert ONE --to
   openai -o OUT -q``, and for contrast ``augment run ONE -o OUT -q --seed 1
   typos`` (imports nlpaug) and ``... synonym`` (loads WordNet), each as its
   own child process under GNU time (``bench/convert.py``'s ``run_child``): best
   wall time of ``--repeat`` runs and the peak RSS;
3. does it twice: with the environment as inherited (here
   ``PYTHONDONTWRITEBYTECODE=1`` may be set, so the editable package's modules
   are compiled from source at every start), and with a warm bytecode cache
   (``PYTHONPYCACHEPREFIX`` pointing at a temporary directory, outside the
   repository, after one warm-up run); ``--no-warm`` skips the second;
4. checks, in a ``python -c`` child, that importing ``augment.cli`` and calling
   ``main(["--help"])`` and a convert leave none of litellm, nlpaug, nltk,
   langdetect in ``sys.modules``; and, as a control that the check can see an
   import at all, that ``main(["run", ..., "typos"])`` does load nlpaug. A
   heavy module where it must not be, a failed job or a wrong output stops the
   benchmark with exit status 1;
5. prints a Markdown table and the machine, and with ``--json FILE`` writes the
   numbers there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # import convert.py without leaving a .pyc in bench/
sys.path.insert(0, str(Path(__file__).parent))
from convert import BenchError, find_augment, generate, machine, run_child  # noqa: E402
from memory import busy_seconds  # noqa: E402

import orjson  # noqa: E402

HEAVY = ("litellm", "nlpaug", "nltk", "langdetect")
SHOWN = HEAVY + ("numpy", "lemminflect", "yaml", "pandas", "torch", "requests", "httpx", "openai", "tiktoken")

# The child of the sys.modules check: python -c CHECK IN OUT_DIR RESULT.
CHECK = r"""
import contextlib, io, json, sys
heavy = {heavy!r}
shown = {shown!r}
src, out_dir, result_path = sys.argv[1:4]
steps = []

def invoke(label, args):
    from augment.cli import main
    sink = io.StringIO()
    code = None
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code
    found = sorted(m for m in sys.modules if m.split(".")[0] in shown)
    steps.append({{"step": label, "exit": code, "heavy": [m for m in found if m.split(".")[0] in heavy],
                   "top_level": sorted({{m.split(".")[0] for m in found}}), "output": sink.getvalue()[-2000:]}})

import augment.cli
found = sorted(m for m in sys.modules if m.split(".")[0] in shown)
steps.append({{"step": "import augment.cli", "exit": 0, "heavy": [m for m in found if m.split(".")[0] in heavy],
               "top_level": sorted({{m.split(".")[0] for m in found}}), "output": ""}})
invoke("main(['--help'])", ["--help"])
invoke("main(['convert', ONE, '--to', 'openai', '-o', OUT, '-q'])",
       ["convert", src, "--to", "openai", "-o", out_dir + "/check.openai.jsonl", "-q"])
if "--control" in sys.argv:
    invoke("main(['run', ONE, '-o', OUT, '-q', '--workers', '1', 'typos'])  [control]",
           ["run", src, "-o", out_dir + "/check.typos.jsonl", "-q", "--workers", "1", "typos"])
with open(result_path, "w") as fh:
    json.dump(steps, fh)
"""


def count_lines(path: Path, lo: int, hi: int, key: str) -> int:
    """Between ``lo`` and ``hi`` lines, each a JSON object with ``key``."""
    if not path.exists():
        raise BenchError(f"{path} was not written")
    lines = 0
    with open(path, "rb") as fh:
        for line in fh:
            lines += 1
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise BenchError(f"{path}:{lines}: not JSON: {exc}") from None
            if not isinstance(record, dict) or key not in record:
                raise BenchError(f"{path}:{lines}: no {key!r} field")
    if not lo <= lines <= hi:
        raise BenchError(f"{path} has {lines} lines, expected {lo}..{hi}")
    return lines


@contextlib.contextmanager
def environment(changes: dict[str, str | None]):
    """Children started inside inherit ``os.environ`` with ``changes`` (None: unset)."""
    saved = {k: os.environ.get(k) for k in changes}
    try:
        for k, v in changes.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def time_job(name: str, cmd: list[str], out: Path | None, lines: tuple[int, int], key: str, repeat: int, warmup: bool) -> dict:
    if warmup:
        run_child(cmd)
    times, cpus, peaks, counts, noise = [], [], [], [], []
    for _ in range(repeat):
        if out is not None:
            out.unlink(missing_ok=True)
        busy = busy_seconds()
        seconds, cpu, peak, stderr = run_child(cmd)
        others = max(0.0, busy_seconds() - busy - cpu)
        if stderr.strip():
            print(f"  ({name} wrote to stderr: {stderr.strip()[:500]})", file=sys.stderr)
        if out is not None:
            counts.append(count_lines(out, *lines, key))
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
        noise.append(others)
        print(f"  {name}: {seconds:.3f} s wall, {cpu:.3f} s CPU, {peak:.1f} MiB; others used {others:.2f} CPU s", file=sys.stderr)
    best = min(range(repeat), key=times.__getitem__)
    return {
        "job": name,
        "command": cmd,
        "seconds": times[best],
        "cpu_seconds_of_best": cpus[best],
        "all_seconds": times,
        "all_cpu_seconds": cpus,
        # CPU the rest of the machine used during each run (clock-tick resolution: 0.01 s)
        "all_others_cpu_seconds": noise,
        "peak_rss_mib": max(peaks),
        "all_peak_rss_mib": peaks,
        "output_lines": counts,
    }


def check_modules(python: str, one: Path, work: Path) -> list[dict]:
    result = work / "modules.json"
    code = CHECK.format(heavy=HEAVY, shown=SHOWN)
    cmd = [python, "-B", "-c", code, str(one), str(work), str(result), "--control"]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"the sys.modules check exited with {proc.returncode}:\n{proc.stderr}")
    steps = json.loads(result.read_text())
    failures = []
    for step in steps:
        control = "[control]" in step["step"]
        print(f"  {step['step']}: exit {step['exit']}; heavy modules: {packages(step['heavy'])}"
              f"; of interest loaded: {', '.join(step['top_level']) or 'none'}", file=sys.stderr)
        if step["exit"] not in (0, None):
            failures.append(f"{step['step']} exited with {step['exit']}: {step['output']}")
        if control:
            if not any(m.split(".")[0] == "nlpaug" for m in step["heavy"]):
                failures.append(f"control {step['step']} did not load nlpaug: the check cannot see imports")
        elif step["heavy"]:
            failures.append(f"{step['step']} loaded {', '.join(step['heavy'])}")
    count_lines(work / "check.openai.jsonl", 1, 1, "messages")
    if failures:
        raise BenchError("heavy modules check: " + "; ".join(failures))
    return steps


def packages(modules: list[str]) -> str:
    """``nlpaug (45 modules), langdetect (10 modules)``, or ``none``."""
    counts: dict[str, int] = {}
    for m in modules:
        counts[m.split(".")[0]] = counts.get(m.split(".")[0], 0) + 1
    return ", ".join(f"{top} ({n} module{'s' if n > 1 else ''})" for top, n in counts.items()) or "none"


def table(modes: dict[str, list[dict]]) -> str:
    names = list(modes)
    head = "| job |" + "".join(f" seconds, {m} | peak MiB, {m} |" for m in names)
    out = [head, "|---|" + "---:|---:|" * len(names)]
    for i, row in enumerate(modes[names[0]]):
        cells = "".join(f" {modes[m][i]['seconds']:.3f} | {modes[m][i]['peak_rss_mib']:.1f} |" for m in names)
        out.append(f"| `{row['label']}` |{cells}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per job; the best time is reported (default 5)")
    parser.add_argument("--no-warm", action="store_true", help="skip the runs with a warm bytecode cache")
    parser.add_argument("--json", dest="json_path", help="also write the numbers to this file")
    parser.add_argument("--augment", help="the augment executable (default: beside this Python)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    augment = find_augment(args.augment)
    python = str(Path(augment).with_name("python"))
    if not os.access(python, os.X_OK):
        python = sys.executable
    with tempfile.TemporaryDirectory(prefix="augment-startup-") as tmp:
        work = Path(tmp)
        one = work / "one.sharegpt.jsonl"
        generate(one, 1, 1234)
        out = work / "out.jsonl"
        jobs = [
            ("augment --help", [augment, "--help"], None, (0, 0), ""),
            ("augment --version", [augment, "--version"], None, (0, 0), ""),
            ("augment convert ONE --to openai -o OUT -q",
             [augment, "convert", str(one), "--to", "openai", "-o", str(out), "-q"], out, (1, 1), "messages"),
            ("augment run ONE -o OUT -q --seed 1 typos",
             [augment, "run", str(one), "-o", str(out), "-q", "--seed", "1", "typos"], out, (1, 2), "conversations"),
            ("augment run ONE -o OUT -q --seed 1 synonym",
             [augment, "run", str(one), "-o", str(out), "-q", "--seed", "1", "synonym"], out, (1, 2), "conversations"),
        ]
        settings = [("inherited env", {}, False)]
        if not args.no_warm:
            cache = str(work / "pycache")
            settings.append(("warm .pyc", {"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": cache}, True))
        modes: dict[str, list[dict]] = {}
        for mode, env, warmup in settings:
            print(f"== {mode}", file=sys.stderr)
            rows = []
            with environment(env):
                for label, cmd, path, lines, key in jobs:
                    row = time_job(label, cmd, path, lines, key, args.repeat, warmup)
                    row["label"] = label
                    rows.append(row)
            modes[mode] = rows
        print("== sys.modules check", file=sys.stderr)
        steps = check_modules(python, one, work)

    info = machine()
    print()
    print(table(modes))
    print()
    print(
        f"machine: nproc {info['nproc']}, Python {info['python']} ({info['implementation']}), "
        f"{info.get('cpu', 'cpu unknown')}, {info['platform']}; best of {args.repeat}; "
        f"peak memory from {info['peak_rss_from']}; `augment run` uses its default --workers ({info['nproc']})"
    )
    nopyc = os.environ.get("PYTHONDONTWRITEBYTECODE")
    print(
        f"inherited env: PYTHONDONTWRITEBYTECODE={nopyc or '(unset)'}"
        + (" (no .pyc is written, so every start compiles the modules that have none: the editable package's own)" if nopyc else "")
        + ("; warm .pyc: PYTHONPYCACHEPREFIX=a temporary directory, after one warm-up run" if len(modes) > 1 else "")
    )
    print()
    print("sys.modules after each step (heavy = " + ", ".join(HEAVY) + "):")
    for step in steps:
        print(f"- {step['step']}: heavy {packages(step['heavy'])}; "
              f"loaded of interest: {', '.join(step['top_level']) or 'none'}")
    print("OK: --help and convert import none of " + ", ".join(HEAVY))
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps({"repeat": args.repeat, "machine": info, "modes": modes, "modules_check": steps}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
