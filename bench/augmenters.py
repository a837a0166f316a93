"""Benchmark the synonym and backtranslate augmenters, 1 and 2 workers, against raw nlpaug.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/augmenters.py                 # N=400, best of 3
    .venv/bin/python bench/augmenters.py --n 100 --repeat 1 --json /tmp/aug-100.json
    .venv/bin/python bench/augmenters.py --workdir /tmp/augbench   # keep the files

What it does:

1. writes N ShareGPT conversations to ``corpus.sharegpt.jsonl`` by cycling the
   12 real role-play records of ``samples/tavern.sharegpt.jsonl`` (each copy
   gets its own ``id``), a 1-conversation corpus, and ``turns.json``: the plain
   list of every turn text (the ``conversations`` values; the system prompt is
   not a turn and no augmenter here touches it);
2. measures the fixed start cost: ``augment run`` of each step on the
   1-conversation corpus (Python start, plugin loading, WordNet's ~2 s load;
   for backtranslate, Apertium's start);
3. measures ``augment run CORPUS -o OUT --seed 1 --no-originals --workers W -q
   synonym --rate 0.15`` and ``... backtranslate --via spa`` for W = 1 and 2,
   and checks that every run's output (each of the ``--repeat`` runs, W=1 and
   W=2) is byte-identical to the first W=1 run's: the product promises the same
   output for any number of workers. This is done for the 1-conversation runs
   of step 2 as well;
4. measures the baseline, raw nlpaug ``naw.SynonymAug(aug_src='wordnet',
   aug_p=0.15)`` over the same turn texts in one process. nltk has no POS
   tagger model here and nlpaug would download one, so the child points
   ``nltk.data.path`` at the private WordNet copy of
   ``augment_plugins.wordnet_data.prepared()`` and replaces ``nltk.pos_tag``
   with a stub that tags every token ``NN`` (``nltk.download`` is made to
   fail, so nothing can be fetched). Only the augmentation loop is timed; the
   WordNet load is reported apart. ``random`` and ``numpy`` are seeded first;
5. prints a Markdown table (best wall time of ``--repeat`` runs, peak RSS of
   the largest single process) and the machine, and with ``--json FILE``
   writes the numbers there.

Every job runs as its own child process under GNU time, as in
``bench/convert.py``, whose helpers this script imports. With several workers
``%M`` is the peak of the largest process of the tree (Linux's rusage of
reaped children is a maximum, not a sum), and the CPU seconds in the JSON are
the whole tree's.

A run that fails, an output with the wrong number of lines, outputs that
differ, or a change to the package's source files while the benchmark runs
(their sha256 is taken before and after: an editable install picks edits up
at once, and the runs would mix versions) make the benchmark fail (exit
status 1) after the table is printed, so what was measured is still shown;
every run is attempted, so a failure's rate is shown too. A run's stderr is
echoed (it should be empty under ``-q``). The share of CPU idle just before
the start, and the CPU time other processes took while the benchmark ran
(/proc/stat's busy time less this process's and its children's), are
printed: the figures mean little if something else was running.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert import BenchError, check_output, find_augment, machine, measure, run_child  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "tavern.sharegpt.jsonl"
WORKERS = (1, 2)
STEPS = {
    "synonym": ["synonym", "--rate", "0.15"],
    "backtranslate": ["backtranslate", "--via", "spa"],
}
BASELINE_NOTE = "raw nlpaug, POS stubbed as NN because no tagger model can be installed offline"

# -- the corpus --------------------------------------------------------------------


def build_corpus(path: Path, n: int) -> dict:
    """Write ``n`` ShareGPT records cycling the tavern sample; return turn counts and texts."""
    records = [orjson.loads(line) for line in SAMPLE.read_bytes().splitlines() if line.strip()]
    if not records:
        raise BenchError(f"{SAMPLE} has no records")
    texts: list[str] = []
    size = 0
    with open(path, "wb") as out:
        for i in range(n):
            record = dict(records[i % len(records)])
            record["id"] = f"{record.get('id', 'rec')}-copy{i:06d}"
            texts.extend(turn["value"] for turn in record["conversations"])
            line = orjson.dumps(record) + b"\n"
            out.write(line)
            size += len(line)
    return {
        "records_in_sample": len(records),
        "bytes": size,
        "turns": len(texts),
        "distinct_turns": len(set(texts)),
        "texts": texts,
    }


# -- the baseline, run as a child: `python augmenters.py --baseline TEXTS RESULT SEED` --------


def baseline(texts_path: str, result_path: str, seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    texts = json.loads(Path(texts_path).read_text("utf-8"))

    start = time.perf_counter()
    import nltk

    from augment_plugins import wordnet_data

    root, _ = wordnet_data.prepared()
    nltk.data.path.insert(0, str(root))

    def pos_tag(tokens, tagset=None, lang="eng"):
        return [(token, "NN") for token in tokens]  # no tagger model can be installed offline

    def download(*args, **kwargs):
        raise RuntimeError(f"the baseline must not download anything (nltk.download{args!r})")

    nltk.pos_tag = pos_tag
    nltk.download = download
    import nlpaug.augmenter.word as naw

    imported = time.perf_counter()
    aug = naw.SynonymAug(aug_src="wordnet", aug_p=0.15)  # reads WordNet here (synsets('testing'))
    loaded = time.perf_counter()

    changed = 0
    for text in texts:
        out = aug.augment(text)
        out = out[0] if isinstance(out, list) and out else out
        changed += out != text
    done = time.perf_counter()
    Path(result_path).write_text(
        json.dumps(
            {
                "texts": len(texts),
                "changed": changed,
                "import_seconds": imported - start,
                "wordnet_load_seconds": loaded - imported,
                "loop_seconds": done - loaded,
            }
        )
    )


def measure_baseline(me: str, texts_path: Path, result_path: Path, n: int, turns: int, seed: int, repeat: int) -> dict:
    cmd = [sys.executable, me, "--baseline", str(texts_path), str(result_path), str(seed)]
    runs = []
    for _ in range(repeat):
        result_path.unlink(missing_ok=True)
        wall, cpu, peak, stderr = run_child(cmd)
        if stderr.strip():
            print(f"  (baseline wrote to stderr: {stderr.strip()[:500]})", file=sys.stderr)
        if not result_path.exists():
            raise BenchError(f"the baseline wrote no result to {result_path}")
        result = json.loads(result_path.read_text())
        if result["texts"] != turns:
            raise BenchError(f"the baseline augmented {result['texts']} texts, expected {turns}")
        runs.append({**result, "wall_seconds": wall, "cpu_seconds": cpu, "peak_rss_mib": peak})
        print(
            f"  baseline: loop {result['loop_seconds']:.2f} s, WordNet load {result['wordnet_load_seconds']:.2f} s, "
            f"{wall:.2f} s wall, {peak:.1f} MiB, {result['changed']}/{result['texts']} texts changed",
            file=sys.stderr,
        )
    best = min(runs, key=lambda r: r["loop_seconds"])
    seconds = best["loop_seconds"]
    per_conversation = turns / n
    conversations = best["texts"] / per_conversation  # turn texts / turns per conversation (= N)
    return {
        "job": "baseline: raw nlpaug SynonymAug, POS stubbed as NN (loop only)",
        "kind": "baseline",
        "workers": 1,
        "command": cmd,
        "conversations": round(conversations),
        "turns": best["texts"],
        "seconds": seconds,
        "all_seconds": [r["loop_seconds"] for r in runs],
        "conversations_per_s": conversations / seconds if seconds > 0 else None,
        "turns_per_s": best["texts"] / seconds if seconds > 0 else None,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "wordnet_load_seconds": min(r["wordnet_load_seconds"] for r in runs),
        "import_seconds": min(r["import_seconds"] for r in runs),
        "wall_seconds": min(r["wall_seconds"] for r in runs),
        "all_cpu_seconds": [r["cpu_seconds"] for r in runs],
        "texts_changed": best["changed"],
    }


# -- the augment runs ----------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_step(augment: str, step: str, corpus: Path, out: Path, n: int, turns: int, workers: int, seed: int, repeat: int, label: str) -> dict:
    """Best of ``repeat`` runs; every run's output is checked and its digest kept."""
    cmd = [augment, "run", str(corpus), "-o", str(out), "--seed", str(seed), "--no-originals", "--workers", str(workers), "-q", *STEPS[step]]
    name = f"augment run {step}{label}"
    print(f"{name}, {workers} worker(s) ...", file=sys.stderr)
    runs, errors, digests = [], [], []
    for _ in range(repeat):
        try:
            runs.append(measure(name, cmd, out, n, "conversations", 1))
            digests.append(digest(out))
        except BenchError as exc:
            print(f"  {exc}", file=sys.stderr)
            errors.append(str(exc))
    best = min(runs, key=lambda r: r["seconds"]) if runs else None
    seconds = best["seconds"] if best else None
    return {
        "job": name,
        "kind": step,
        "workers": workers,
        "command": cmd,
        "conversations": n,
        "turns": turns,
        "seconds": seconds,
        "all_seconds": [r["seconds"] for r in runs],
        "all_cpu_seconds": [r["all_cpu_seconds"][0] for r in runs],
        "conversations_per_s": n / seconds if seconds else None,
        "turns_per_s": turns / seconds if seconds else None,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs) if runs else None,
        "failed_runs": len(errors),
        "errors": errors,
        "output_sha256": digests,
    }


def compare_outputs(group: list[dict]) -> str | None:
    """None when every run of every workers count wrote the same bytes, else why not."""
    reference = group[0]
    if not reference["output_sha256"]:
        return f"nothing to compare: every run with {reference['workers']} worker(s) failed"
    expected = reference["output_sha256"][0]
    for row in group:
        for number, value in enumerate(row["output_sha256"], 1):
            if value != expected:
                return (
                    f"run {number} with {row['workers']} worker(s) wrote different bytes from run 1 with "
                    f"{reference['workers']} (sha256 {value[:12]} != {expected[:12]})"
                )
    return None


def source_fingerprint() -> dict[str, str]:
    """sha256 of every Python file of the package and its plugins (editable install)."""
    root = Path(__file__).resolve().parent.parent
    files = sorted(p for folder in ("augment", "plugins") for p in (root / folder).rglob("*.py"))
    return {str(p.relative_to(root)): digest(p) for p in files}


def cpu_stat() -> list[int] | None:
    """The first line of /proc/stat, in clock ticks (None where there is none)."""
    try:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return None


def own_cpu() -> float:
    """CPU seconds of this process and of every child it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def others_cpu(before: list[int] | None, after: list[int] | None, ours: float) -> float | None:
    """CPU seconds that other processes used between two /proc/stat samples."""
    if before is None or after is None:
        return None
    delta = [y - x for x, y in zip(before, after)]
    busy = sum(delta[:8]) - delta[3] - delta[4]  # all but idle and iowait; guest is inside user
    return max(0.0, busy / os.sysconf("SC_CLK_TCK") - ours)


def cpu_idle(seconds: float = 1.0) -> float:
    """Share of all CPUs idle over ``seconds`` (from /proc/stat; NaN elsewhere)."""
    def sample() -> list[int]:
        with open("/proc/stat") as fh:
            return [int(v) for v in fh.readline().split()[1:]]

    try:
        a = sample()
        time.sleep(seconds)
        b = sample()
    except OSError:
        return float("nan")
    delta = [y - x for x, y in zip(a, b)]
    return (delta[3] + delta[4]) / sum(delta) if sum(delta) else float("nan")


# -- reporting -----------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    out = [
        "| job | workers | conversations | seconds | conversations/s | turns/s | peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        job = r["job"]
        if r.get("failed_runs"):
            job += f" **FAILED in {r['failed_runs']} of {r['failed_runs'] + len(r['all_seconds'])} runs**"
            if r["seconds"] is not None:
                job += "; figures from the runs that passed"
        if r.get("identical") is False:
            job += " **OUTPUT DIFFERS**"
        if r["seconds"] is None:
            out.append(f"| {job} | {r['workers']} | {r['conversations']:,} | FAILED | - | - | - |")
            continue
        out.append(
            f"| {job} | {r['workers']} | {r['conversations']:,} | {r['seconds']:.2f} | "
            f"{r['conversations_per_s']:,.1f} | {r['turns_per_s']:,.1f} | {r['peak_rss_mib']:.1f} |"
        )
    return "\n".join(out)


def versions() -> dict:
    out = {}
    for package in ("roleplay-augment", "nlpaug", "nltk", "numpy", "lemminflect"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="conversations in the corpus (default 400)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per job; the best time is reported (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="augment --seed and the baseline's seed (default 1)")
    parser.add_argument("--workdir", help="where the corpora and outputs go (kept); default a temporary directory")
    parser.add_argument("--json", dest="json_path", help="also write the numbers to this file")
    parser.add_argument("--augment", help="the augment executable (default: beside this Python)")
    parser.add_argument("--baseline", nargs=3, metavar=("TEXTS", "RESULT", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.baseline:  # the child process of the baseline measurement
        baseline(args.baseline[0], args.baseline[1], int(args.baseline[2]))
        return
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be at least 1")

    augment = find_augment(args.augment)
    tmp = None
    if args.workdir:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="augment-bench-")
        work = Path(tmp.name)
    failures: list[str] = []
    rows: list[dict] = []
    source_before = source_fingerprint()
    idle_before = cpu_idle()
    print(f"CPU idle before the start: {idle_before:.0%}", file=sys.stderr)
    stat_before, own_before, wall_before = cpu_stat(), own_cpu(), time.perf_counter()
    try:
        corpus = work / "corpus.sharegpt.jsonl"
        single = work / "one.sharegpt.jsonl"
        texts_path = work / "turns.json"
        print(f"writing {args.n:,} conversations (cycling {SAMPLE.name}) to {corpus} ...", file=sys.stderr)
        stats = build_corpus(corpus, args.n)
        texts = stats.pop("texts")
        texts_path.write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
        one = build_corpus(single, 1)
        one.pop("texts")
        check_output(corpus, args.n, "conversations")
        print(
            f"  {stats['bytes'] / 1024:.0f} KiB, {stats['turns']:,} turns ({stats['turns'] / args.n:.2f} a conversation, "
            f"{stats['distinct_turns']} distinct)",
            file=sys.stderr,
        )

        jobs = [("synonym", single, 1, one["turns"], " (1 conversation: start cost)"), ("backtranslate", single, 1, one["turns"], " (1 conversation: start cost)")]
        jobs += [("synonym", corpus, args.n, stats["turns"], ""), ("backtranslate", corpus, args.n, stats["turns"], "")]
        for step, source, n, turns, label in jobs:
            group = [run_step(augment, step, source, work / f"out.{step}.n{n}.w{w}.jsonl", n, turns, w, args.seed, args.repeat, label) for w in WORKERS]
            for row in group:
                if row["failed_runs"]:
                    first = row["errors"][0].splitlines()
                    why = next((line for line in first if line.startswith("Error")), first[0])
                    failures.append(f"{row['job']}, {row['workers']} worker(s): {row['failed_runs']} of {args.repeat} runs failed ({why[:300]})")
            why = compare_outputs(group)
            for row in group:
                row["identical"] = why is None
            if why is None:
                runs = sum(len(r["output_sha256"]) for r in group)
                print(f"  all {runs} outputs ({', '.join(map(str, WORKERS))} workers) are byte-identical", file=sys.stderr)
            else:
                print(f"  OUTPUTS NOT THE SAME: {why}", file=sys.stderr)
                failures.append(f"augment run {step}{label}: outputs not byte-identical across workers: {why}")
            rows.extend(group)

        print("baseline: raw nlpaug SynonymAug ...", file=sys.stderr)
        me = str(Path(__file__).resolve())
        try:
            rows.append(measure_baseline(me, texts_path, work / "baseline.json", args.n, stats["turns"], args.seed, args.repeat))
        except BenchError as exc:
            print(f"  {exc}", file=sys.stderr)
            failures.append(f"the baseline failed: {str(exc)[:500]}")
    finally:
        if tmp is not None:
            tmp.cleanup()

    others = others_cpu(stat_before, cpu_stat(), own_cpu() - own_before)
    wall = time.perf_counter() - wall_before
    changed = sorted(set(source_before.items()) ^ set(source_fingerprint().items()))
    if changed:
        files = sorted({path for path, _ in changed})
        failures.append(f"the package's source changed while the benchmark ran ({', '.join(files)}): the runs may mix versions")
    info = {**machine(), **versions(), "cpu_idle_before_start": idle_before, "others_cpu_seconds": others, "benchmark_seconds": wall}
    print()
    print(table(rows))
    print()
    print(
        f"machine: nproc {info['nproc']}, Python {info['python']} ({info['implementation']}), "
        f"{info.get('cpu', 'cpu unknown')}, {info['platform']}; nlpaug {info['nlpaug']}, nltk {info['nltk']}; "
        f"corpus: {args.n:,} conversations cycling the {stats['records_in_sample']} records of {SAMPLE.name}, "
        f"{stats['turns']:,} turns ({stats['distinct_turns']} distinct); best of {args.repeat}; "
        f"peak memory from {info['peak_rss_from']} (largest single process); CPU idle before the start {idle_before:.0%}"
    )
    if others is not None:
        print(
            f"other processes used {others:.1f} CPU seconds during the {wall:.0f} s of the benchmark "
            f"({others / (wall * info['nproc']):.1%} of the machine){'' if others < 0.02 * wall * info['nproc'] else ': the figures may be disturbed'}"
        )
    for base in (r for r in rows if r["kind"] == "baseline"):
        print(
            f"baseline: {BASELINE_NOTE}; aug_max=10 (nlpaug's default); {base['texts_changed']}/{base['turns']} texts changed; "
            f"only the augmentation loop is timed: WordNet load {base['wordnet_load_seconds']:.2f} s, "
            f"imports {base['import_seconds']:.2f} s, whole process {base['wall_seconds']:.2f} s"
        )
    start = {(r["kind"], r["workers"]): r for r in rows if r["conversations"] == 1 and r.get("kind") in STEPS}
    for r in rows:
        s = start.get((r.get("kind"), r["workers"]))
        if r["conversations"] == 1 or s is None or r["seconds"] is None or s["seconds"] is None:
            continue
        extra = r["seconds"] - s["seconds"]
        rate = f"{(r['conversations'] - 1) / extra:,.1f} conversations/s" if extra > 0 else "not measurable"
        r["seconds_after_start"] = extra
        print(
            f"{r['job']}, {r['workers']} worker(s): start cost {s['seconds']:.2f} s (1 conversation), "
            f"the other {r['conversations'] - 1:,} take {extra:.2f} s: {rate} after start"
        )
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps(
                {
                    "n": args.n,
                    "seed": args.seed,
                    "repeat": args.repeat,
                    "corpus": stats,
                    "machine": info,
                    "baseline_note": BASELINE_NOTE,
                    "jobs": rows,
                    "failures": failures,
                    "source_sha256": source_before,
                },
                indent=2,
            )
            + "\n"
        )
    if failures:
        raise BenchError("\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
