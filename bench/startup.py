"""Benchmark the start-up time of the ``augment`` CLI.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/startup.py                    # best of 5
    .venv/bin/python bench/startup.py --repeat 10 --json /tmp/startup.json
    .venv/bin/python bench/startup.py --quick            # one run, no synonym, no warm .pyc

What it does:

1. writes a 1-record ShareGPT file (``corpora.synthetic``, seed 1234);
2. times ``augment --help``, ``augment --version``, ``augment convert ONE --to
   openai -o OUT -q``, and for contrast ``augment run ONE -o OUT -q --seed 1
   typos`` and ``... synonym`` (loads its synonym table), each as its
   own child process (``harness.run``: GNU time): best wall time of
   ``--repeat`` runs and the peak RSS;
3. does it twice: with the environment as inherited (here
   ``PYTHONDONTWRITEBYTECODE=1`` may be set, so the editable package's modules
   are compiled from source at every start), and with a warm bytecode cache
   (``PYTHONPYCACHEPREFIX`` pointing at a temporary directory, outside the
   repository, after one warm-up run); ``--no-warm`` skips the second;
4. checks, in a ``python -c`` child, that importing ``augment.cli`` and calling
   ``main(["--help"])`` and a convert leave none of litellm, nlpaug, nltk,
   langdetect in ``sys.modules``; and, as a control that the check can see an
   import at all, that a plain ``import langdetect`` afterwards is seen. A
   heavy module where it must not be, a failed job or a wrong output stops the
   benchmark with exit status 1;
5. prints a Markdown table and the machine, and with ``--json FILE`` writes the
   numbers there.

``--quick`` (for the smoke test) is one run per job, no warm .pyc runs and no
synonym job (WordNet's load alone takes seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from corpora import synthetic
from harness import BenchError, check_jsonl, describe, find_augment, log, machine, measure, parser, report, table, workdir

HEAVY = ("litellm", "nlpaug", "nltk", "langdetect")
SHOWN = HEAVY + ("numpy", "lemminflect", "yaml", "pandas", "torch", "requests", "httpx", "openai", "tiktoken")

# The child of the sys.modules check: python -c CHECK IN OUT_DIR RESULT.
CHECK = r"""
import contextlib, io, json, sys
heavy = {heavy!r}
shown = {shown!r}
src, out_dir, result_path = sys.argv[1:4]
steps = []

def record(label, code=0, output=""):
    found = sorted(m for m in sys.modules if m.split(".")[0] in shown)
    steps.append({{"step": label, "exit": code, "heavy": [m for m in found if m.split(".")[0] in heavy],
                   "top_level": sorted({{m.split(".")[0] for m in found}}), "output": output[-2000:]}})

def invoke(label, args):
    from augment.cli import main
    sink = io.StringIO()
    code = None
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code
    record(label, code, sink.getvalue())

import augment.cli
record("import augment.cli")
invoke("main(['--help'])", ["--help"])
invoke("main(['convert', ONE, '--to', 'openai', '-o', OUT, '-q'])",
       ["convert", src, "--to", "openai", "-o", out_dir + "/check.openai.jsonl", "-q"])
if "--control" in sys.argv:
    import langdetect
    record("import langdetect  [control]")
with open(result_path, "w") as fh:
    json.dump(steps, fh)
"""


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
        log(f"  {step['step']}: exit {step['exit']}; heavy modules: {packages(step['heavy'])}"
            f"; of interest loaded: {', '.join(step['top_level']) or 'none'}")
        if step["exit"] not in (0, None):
            failures.append(f"{step['step']} exited with {step['exit']}: {step['output']}")
        if control:
            if not any(m.split(".")[0] == "langdetect" for m in step["heavy"]):
                failures.append(f"control {step['step']} did not load langdetect: the check cannot see imports")
        elif step["heavy"]:
            failures.append(f"{step['step']} loaded {', '.join(step['heavy'])}")
    check_jsonl(work / "check.openai.jsonl", "messages", 1)
    if failures:
        raise BenchError("heavy modules check: " + "; ".join(failures))
    return steps


def packages(modules: list[str]) -> str:
    """``nlpaug (45 modules), langdetect (10 modules)``, or ``none``."""
    counts: dict[str, int] = {}
    for m in modules:
        counts[m.split(".")[0]] = counts.get(m.split(".")[0], 0) + 1
    return ", ".join(f"{top} ({n} module{'s' if n > 1 else ''})" for top, n in counts.items()) or "none"


#: What each start-up is set beside, measured in the same run (the target: at most 2x).
YARDSTICK = "yardstick: python -c 'import click'"


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, repeat=5)
    p.add_argument("--no-warm", action="store_true", help="skip the runs with a warm bytecode cache")
    p.add_argument("--quick", action="store_true", help="one run per job, no warm .pyc runs, no synonym job")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.no_warm = 1, True

    augment = find_augment(args.augment)
    python = str(Path(augment).with_name("python"))
    if not os.access(python, os.X_OK):
        python = sys.executable
    with workdir(args.workdir) as work:
        one = work / "one.sharegpt.jsonl"
        synthetic(one, 1, 1234)
        out = work / "out.jsonl"

        def run(step: str) -> tuple[str, list[str], Path, tuple[int, int], str]:
            return (f"augment run ONE -o OUT -q --seed 1 {step}",
                    [augment, "run", str(one), "-o", str(out), "-q", "--seed", "1", step], out, (1, 2), "conversations")

        # (label, command, output or None, its lines from..to, the key every line has)
        stats_in = work / "small.sharegpt.jsonl"
        synthetic(stats_in, 20, 1234)
        jobs = [
            (YARDSTICK, [python, "-c", "import click"], None, (0, 0), ""),
            ("augment --help", [augment, "--help"], None, (0, 0), ""),
            ("augment convert --help", [augment, "convert", "--help"], None, (0, 0), ""),
            ("augment validate SMALL", [augment, "validate", str(stats_in)], None, (0, 0), ""),
            ("augment stats SMALL", [augment, "stats", str(stats_in)], None, (0, 0), ""),
            ("augment --version", [augment, "--version"], None, (0, 0), ""),
            ("augment convert ONE --to openai -o OUT -q",
             [augment, "convert", str(one), "--to", "openai", "-o", str(out), "-q"], out, (1, 1), "messages"),
            run("typos"),
        ] + ([] if args.quick else [run("synonym")])
        settings = [("inherited env", dict(os.environ), False)]
        if not args.no_warm:
            warm = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            settings.append(("warm .pyc", {**warm, "PYTHONPYCACHEPREFIX": str(work / "pycache")}, True))
        modes: dict[str, list[dict]] = {}
        for mode, env, warmup in settings:
            log(f"== {mode}")
            modes[mode] = [
                measure(label, cmd, args.repeat, env=env, warmup=warmup,
                        before=lambda: out.unlink(missing_ok=True),
                        check=(lambda _, path=path, lines=lines, key=key: check_jsonl(path, key, *lines)) if path else None)
                for label, cmd, path, lines, key in jobs
            ]
        log("== sys.modules check")
        steps = check_modules(python, one, work)

    info = machine()
    nopyc = os.environ.get("PYTHONDONTWRITEBYTECODE")
    header = ["job"] + [f"{what}, {mode}" for mode in modes for what in ("seconds", "peak MiB", "x yardstick")]
    rows = [[f"`{row['job']}`"] + [x for m in modes for x in (f"{modes[m][i]['seconds']:.3f}", f"{modes[m][i]['peak_rss_mib']:.1f}",
                                                               f"{modes[m][i]['seconds'] / modes[m][0]['seconds']:.1f}x")]
            for i, row in enumerate(modes["inherited env"])]
    report(
        [
            table(header, rows),
            f"{describe(info)}; best of {args.repeat}; peak memory from {info['peak_rss_from']}; "
            f"`augment run` uses its default --workers ({info['nproc']})\n"
            f"inherited env: PYTHONDONTWRITEBYTECODE={nopyc or '(unset)'}"
            + (" (no .pyc is written, so every start compiles the modules that have none: the editable package's own)" if nopyc else "")
            + ("; warm .pyc: PYTHONPYCACHEPREFIX=a temporary directory, after one warm-up run" if len(modes) > 1 else ""),
            "sys.modules after each step (heavy = " + ", ".join(HEAVY) + "):\n"
            + "\n".join(f"- {s['step']}: heavy {packages(s['heavy'])}; loaded of interest: {', '.join(s['top_level']) or 'none'}"
                        for s in steps)
            + "\nOK: --help and convert import none of " + ", ".join(HEAVY),
        ],
        args.json_path,
        {"repeat": args.repeat, "machine": info, "modes": modes, "modules_check": steps},
    )


if __name__ == "__main__":
    main()
