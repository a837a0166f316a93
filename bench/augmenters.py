"""Benchmark the synonym and backtranslate augmenters, each figure beside a yardstick measured in the same run.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/augmenters.py --n 1600        # what `make bench` runs; best of 3
    .venv/bin/python bench/augmenters.py --n 2 --repeat 1 --steps backtranslate   # seconds

1. writes N ShareGPT conversations, a 1-conversation corpus, and
   ``turns.json``, every turn text: with ``--corpus distinct`` (the default)
   every turn is different (``corpora.distinct``: WordNet's English usage
   examples, each used once), so no cache of the tool's (language guesses,
   tags, lemmas) is helped by repeats the raw loop does not get; with
   ``--corpus samples`` they cycle the 12 real role-play records of
   ``samples/tavern.sharegpt.jsonl`` (``corpora.from_sample``: few distinct
   texts, as a corpus of variants of one record);
2. times ``augment run CORPUS -o OUT --seed 1 --no-originals --workers W -q
   synonym --rate 0.15`` (and ``backtranslate --via spa``) for W = 1 and 2, on
   the 1-conversation corpus (the start cost) and on all N, in rounds (1
   worker, 2 workers, then on all N the pair below), and checks that every
   output is byte-identical to the first 1-worker run's;
3. the raw nlpaug loop (with synonym): ``naw.SynonymAug(aug_src='wordnet',
   aug_p=0.15)`` over the same turns in one child process, only the loop timed
   (NLTK's POS tagger model cannot be installed offline: ``nltk.pos_tag`` is
   stubbed to tag ``NN``, ``nltk.download`` made to fail);
4. yardsticks: ``augment convert`` of the first 10 conversations beside
   ``augment run`` of synonym and typos on them (start-up, warm cache: one
   untimed run first; peak RSS), and the raw Apertium pipeline
   (``apertium -u eng-spa | apertium -u spa-eng``, one line per turn) beside
   backtranslate; and, in each round of step 2 on all N, the machine's own
   scaling on two cores: two ``--workers 1`` runs started at once (each output
   checked byte-identical to the 1-worker run's), 2 x one run's seconds over
   the seconds until both end: what two processes that share nothing get from
   this machine's two cores, beside which ``--workers 2``'s speed-up is read;
5. prints the runs' table, the notes, and the comparisons: figure, yardstick
   and ratio (synonym's steady turns/s = the turns after the first
   conversation over the seconds after the start cost, 1 worker; the workers'
   speed-up = 1-worker seconds over 2-worker seconds on all N, the median of
   the rounds' ratios, beside the machine's own scaling of the same rounds); ``--json FILE``
   writes the numbers.

Every job is a child process timed by ``harness.run`` (GNU time: wall, CPU of
the tree, peak RSS of the largest single process). A failed run, a wrong or
differing output, or a change to the package's source while the benchmark
runs makes it fail (exit status 1) after the tables are printed. The CPU idle
share before the start and the CPU other processes took are printed too.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

from corpora import SAMPLE, distinct, from_sample
from harness import (BenchError, cell, check_jsonl, describe, find_augment, idle_share, log, machine, measure,
                     parser, positive, report, table, workdir)

WORKERS = (1, 2)
STEPS = {
    "synonym": ["synonym", "--rate", "0.15"],
    "backtranslate": ["backtranslate", "--via", "spa"],
}
BASELINE_NOTE = "raw nlpaug, POS stubbed as NN because no tagger model can be installed offline"


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
    Path(result_path).write_text(json.dumps({
        "texts": len(texts),
        "changed": changed,
        "import_seconds": imported - start,
        "wordnet_load_seconds": loaded - imported,
        "loop_seconds": done - loaded,
    }))


def measure_baseline(texts_path: Path, result_path: Path, n: int, turns: int, seed: int, repeat: int) -> dict:
    def result(_) -> dict:
        if not result_path.exists():
            raise BenchError(f"the baseline wrote no result to {result_path}")
        got = json.loads(result_path.read_text())
        if got["texts"] != turns:
            raise BenchError(f"the baseline augmented {got['texts']} texts, expected {turns}")
        log(f"  baseline: loop {got['loop_seconds']:.2f} s, WordNet load {got['wordnet_load_seconds']:.2f} s, "
            f"{got['changed']}/{got['texts']} texts changed")
        return got

    cmd = [sys.executable, __file__, "--baseline", str(texts_path), str(result_path), str(seed)]
    m = measure("baseline", cmd, repeat, before=lambda: result_path.unlink(missing_ok=True), check=result)
    runs = m.pop("checked")
    best = min(runs, key=lambda r: r["loop_seconds"])
    seconds = best["loop_seconds"]
    return {
        **m,
        "job": "baseline: raw nlpaug SynonymAug, POS stubbed as NN (loop only)",
        "kind": "baseline",
        "workers": 1,
        "conversations": n,
        "turns": best["texts"],
        "seconds": seconds,
        "all_seconds": [r["loop_seconds"] for r in runs],
        "wall_seconds": m["seconds"],
        "conversations_per_s": n / seconds if seconds > 0 else None,
        "turns_per_s": best["texts"] / seconds if seconds > 0 else None,
        "wordnet_load_seconds": min(r["wordnet_load_seconds"] for r in runs),
        "import_seconds": min(r["import_seconds"] for r in runs),
        "texts_changed": best["changed"],
    }


# -- the augment runs ----------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_step(augment: str, step: str, corpus: Path, out: Path, n: int, turns: int, workers: int, seed: int,
             repeat: int, label: str) -> dict:
    """Best of ``repeat`` runs; every run's output is checked and its digest kept."""
    cmd = [augment, "run", str(corpus), "-o", str(out), "--seed", str(seed), "--no-originals",
           "--workers", str(workers), "-q", *STEPS[step]]
    name = f"augment run {step}{label}"
    log(f"{name}, {workers} worker(s) ...")

    def check(_) -> str:
        # on distinct turns the safety gate rejects a few records (1% of 1,600) whose random
        # dictionary sentences put a child term beside a sexual one: they are in the rejects file
        check_jsonl(out, "conversations", n * 95 // 100, n)
        return digest(out)

    m = measure(name, cmd, repeat, keep_going=True, before=lambda: out.unlink(missing_ok=True), check=check)
    seconds, digests = m["seconds"], m.pop("checked")
    return {
        **m,
        "kind": step,
        "workers": workers,
        "conversations": n,
        "turns": turns,
        "conversations_per_s": n / seconds if seconds else None,
        "turns_per_s": turns / seconds if seconds else None,
        "failed_runs": len(m["errors"]),
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
    """sha256 of every Python file of the package and its plugins, where the
    children import them from (an editable install: the working tree)."""
    out = {}
    for package in ("augment", "augment_plugins"):
        spec = importlib.util.find_spec(package)  # finds it without running it
        if spec is None or spec.origin is None:
            raise BenchError(f"cannot find the {package} package")
        folder = Path(spec.origin).parent
        out.update({f"{package}/{p.relative_to(folder)}": digest(p) for p in sorted(folder.rglob("*.py"))})
    return out


# -- yardsticks: each figure beside one measured in the same run ---------------------


def head(source: Path, target: Path, n: int) -> Path:
    target.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:n]))
    return target


def timed(name: str, cmd: list[str], repeat: int, out: Path, check=None, key: str = "conversations") -> dict:
    """Best of ``repeat`` runs after one untimed (warm caches: the synonym table, the OS's)."""
    log(f"{name} ...")
    m = measure(name, cmd, repeat, warmup=True, before=lambda: out.unlink(missing_ok=True),
                check=check or (lambda _: check_jsonl(out, key, 1, 10**9)))
    m.pop("checked")
    return m


def yardsticks(augment: str, work: Path, texts: list[str], steps: list[str], args) -> dict:
    """Start-up on 10 conversations beside ``augment convert`` of them; the raw Apertium pipeline."""
    ten, out = head(work / "corpus.sharegpt.jsonl", work / "ten.sharegpt.jsonl", 10), work / "ten.out.jsonl"
    run_ten = [augment, "run", str(ten), "-o", str(out), "--seed", str(args.seed), "--no-originals", "--workers", "1", "-q"]
    got = {"convert": timed("augment convert (10 conversations)",
                            [augment, "convert", str(ten), "--to", "openai", "-o", str(out), "-q"], args.repeat, out,
                            key="messages"),
           "typos": timed("augment run typos (10 conversations)", run_ten + ["typos"], args.repeat, out)}
    if "synonym" in steps:
        got["synonym"] = timed("augment run synonym (10 conversations)", run_ten + STEPS["synonym"], args.repeat, out)
    if "backtranslate" in steps:
        lines, raw = work / "turns.txt", work / "turns.back.txt"
        lines.write_text("".join(" ".join(t.split()) + "\n" for t in texts), "utf-8")
        pipe = f"apertium -u eng-spa < '{lines}' | apertium -u spa-eng > '{raw}'"

        def same_count(_) -> None:
            if not raw.exists() or len(raw.read_text("utf-8").splitlines()) != len(texts):
                raise BenchError(f"the raw Apertium pipeline did not write {len(texts)} lines")
        got["apertium"] = timed("raw Apertium pipeline, eng-spa | spa-eng", ["sh", "-c", pipe], args.repeat, raw,
                                same_count)
        got["apertium"]["turns"] = len(texts)
    return got


def side_by_side(step: str, cmd: list[str], outs: list[Path], expected: str | None) -> dict:
    """The machine's own scaling, one measure: ``cmd`` twice at once (each
    writing its own output), the seconds until both end; each output must be
    byte-identical to ``expected`` (the 1-worker run's digest)."""
    import subprocess

    name = f"two augment run {step} --workers 1 at once"
    for out in outs:
        out.unlink(missing_ok=True)
    at = cmd.index("-o") + 1
    start = time.perf_counter()
    procs = [subprocess.Popen([*cmd[:at], str(out), *cmd[at + 1:]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for out in outs]
    errors = [proc.communicate()[1] for proc in procs]
    wall = time.perf_counter() - start
    for proc, err in zip(procs, errors):
        if proc.returncode != 0:
            raise BenchError(f"{name}: exited with {proc.returncode}: {err.decode('utf-8', 'replace')[:500]}")
    for out in outs:
        if expected is not None and digest(out) != expected:
            raise BenchError(f"{name}: {out.name} differs from the 1-worker run's output")
    log(f"  {name}: {wall:.2f} s wall for both")
    return {"job": name, "seconds": wall}


def merged(runs: list[dict]) -> dict:
    """One job's row from its rounds' rows (each of one run)."""
    ok = [r for r in runs if r["seconds"] is not None]
    row = dict(runs[0])
    best = min(ok, key=lambda r: r["seconds"]) if ok else None
    row.update(
        seconds=best["seconds"] if best else None,
        median_seconds=statistics.median(r["seconds"] for r in ok) if ok else None,
        cpu_seconds=best["cpu_seconds"] if best else None,
        peak_rss_mib=max(r["peak_rss_mib"] for r in ok) if ok else None,
        conversations_per_s=best["conversations_per_s"] if best else None,
        turns_per_s=best["turns_per_s"] if best else None,
        failed_runs=sum(r["failed_runs"] for r in runs),
        errors=[e for r in runs for e in r["errors"]],
        output_sha256=[d for r in runs for d in r["output_sha256"]],
    )
    for key in ("all_seconds", "all_cpu_seconds", "all_peak_rss_mib", "all_others_cpu_seconds"):
        row[key] = [v for r in runs for v in r[key]]
    return row


def per_round(rounds: list[dict], i: int, j: int, scale: float = 1.0) -> float | None:
    """The median over the rounds of ``scale`` x (seconds of run ``i`` / seconds of run ``j``)."""
    ratios = [scale * r["seconds"][i] / r["seconds"][j] for r in rounds
              if len(r["seconds"]) > max(i, j) and r["seconds"][i] and r["seconds"][j]]
    return statistics.median(ratios) if ratios else None


def comparisons(rows: list[dict], got: dict) -> list[dict]:
    """Figure, yardstick and ratio, from this run's rows and ``yardsticks``."""
    by = {(r["kind"], r["workers"], r["conversations"] == 1): r for r in rows if r["kind"] in STEPS}
    base = next((r for r in rows if r["kind"] == "baseline" and r["seconds"]), None)
    out = []

    def add(figure, value, yard, yard_value, unit, higher_better):
        if value is None or not yard_value:
            return
        out.append({"figure": figure, "value": value, "yardstick": yard, "yardstick_value": yard_value, "unit": unit,
                    "ratio": value / yard_value, "higher_is_better": higher_better})

    convert = got["convert"]
    for step in ("synonym", "typos"):
        if step in got:
            add(f"{step} start-up, 10 conversations (warm cache)", got[step]["seconds"],
                "augment convert of the same 10", convert["seconds"], "s", False)
            add(f"{step} peak RSS, 10 conversations", got[step]["peak_rss_mib"],
                "augment convert of the same 10", convert["peak_rss_mib"], "MiB", False)
    for step in STEPS:
        one, many, two = by.get((step, 1, True)), by.get((step, 1, False)), by.get((step, 2, False))
        if not (one and many and one["seconds"] and many["seconds"]):
            continue
        extra = many["seconds"] - one["seconds"]
        steady = (many["turns"] - one["turns"]) / extra if extra > 0 else None
        if step == "synonym" and base:
            add("synonym steady turns/s, 1 worker (after start-up)", steady,
                "raw nlpaug SynonymAug loop, same turns, 1 process", base["turns_per_s"], "turns/s", True)
        if step == "backtranslate" and "apertium" in got and got["apertium"]["seconds"]:
            add("backtranslate turns/s, 1 worker (whole run)", many["turns_per_s"],
                "raw Apertium pipeline over the same turns", got["apertium"]["turns"] / got["apertium"]["seconds"],
                "turns/s", True)
        rounds = many.get("rounds", [])
        speedup = per_round(rounds, 0, 1)
        if speedup:
            add(f"{step} --workers 2, {many['conversations']:,} conversations", speedup,
                "--workers 1 (speed-up; 2 cores; median of the rounds' ratios)", 1.0, "x", True)
            machine = per_round(rounds, 0, 2, scale=2.0)
            if machine:
                add(f"{step} --workers 2 speed-up, {many['conversations']:,} conversations", speedup,
                    "two --workers 1 runs at once: 2 x one run / both (the machine's 2-core scaling)",
                    machine, "x", True)
        add(f"{step} peak RSS, {many['conversations']:,} conversations, 1 worker", many["peak_rss_mib"],
            "augment convert of 10", convert["peak_rss_mib"], "MiB", False)
    return out


def comparison_row(c: dict) -> list[str]:
    spec = ".2f" if c["unit"] in ("s", "x") else ",.1f"
    return [c["figure"], f"{c['value']:{spec}} {c['unit']}", c["yardstick"],
            f"{c['yardstick_value']:{spec}} {c['unit']}", f"{c['ratio']:.2f}x"]


# -- reporting -----------------------------------------------------------------------


def table_row(r: dict) -> list[str]:
    job = r["job"]
    if r.get("failed_runs"):
        job += f" **FAILED in {r['failed_runs']} of {r['failed_runs'] + len(r['all_seconds'])} runs**"
        if r["seconds"] is not None:
            job += "; figures from the runs that passed"
    if r.get("identical") is False:
        job += " **OUTPUT DIFFERS**"
    if r["seconds"] is None:
        return [job, str(r["workers"]), f"{r['conversations']:,}", "FAILED", "-", "-", "-"]
    return [job, str(r["workers"]), f"{r['conversations']:,}", cell(r["seconds"]), cell(r["conversations_per_s"], ",.1f"),
            cell(r["turns_per_s"], ",.1f"), cell(r["peak_rss_mib"], ".1f")]


def _corpus_said(args, stats: dict) -> str:
    if args.corpus == "samples":
        return f"cycling the {stats['records_in_sample']} records of {SAMPLE.name}"
    return "of distinct turns (WordNet's usage examples)"


def _write_corpus(args, path: Path, n: int) -> dict:
    return from_sample(path, n) if args.corpus == "samples" else distinct(path, n, args.seed)


def notes(rows: list[dict], stats: dict, info: dict, idle_before: float, args) -> str:
    timed = sum(sum(r["all_seconds"]) for r in rows if r["kind"] != "baseline")
    others = sum(sum(r["all_others_cpu_seconds"]) for r in rows)
    lines = [
        f"{describe(info)}; corpus: {args.n:,} conversations {_corpus_said(args, stats)}, "
        f"{stats['turns']:,} turns ({stats['distinct_turns']:,} distinct); best of {args.repeat}; "
        f"peak memory from {info['peak_rss_from']}; CPU idle before the start {idle_before:.0%}",
        f"other processes used {others:.1f} CPU seconds during the {timed:.0f} s of timed runs "
        f"({others / max(timed * info['nproc'], 1e-9):.1%} of the machine)"
        + ("" if others < 0.02 * timed * info["nproc"] else ": the figures may be disturbed"),
    ]
    for base in (r for r in rows if r["kind"] == "baseline"):
        lines.append(
            f"baseline: {BASELINE_NOTE}; aug_max=10 (nlpaug's default); {base['texts_changed']}/{base['turns']} texts changed; "
            f"only the augmentation loop is timed: WordNet load {base['wordnet_load_seconds']:.2f} s, "
            f"imports {base['import_seconds']:.2f} s, whole process {base['wall_seconds']:.2f} s"
        )
    start = {(r["kind"], r["workers"]): r for r in rows if r["conversations"] == 1 and r["kind"] in STEPS}
    for r in rows:
        s = start.get((r["kind"], r["workers"]))
        if r["conversations"] == 1 or s is None or r["seconds"] is None or s["seconds"] is None:
            continue
        extra = r["seconds"] - s["seconds"]
        rate = f"{(r['conversations'] - 1) / extra:,.1f} conversations/s" if extra > 0 else "not measurable"
        r["seconds_after_start"] = extra
        lines.append(f"{r['job']}, {r['workers']} worker(s): start cost {s['seconds']:.2f} s (1 conversation), "
                     f"the other {r['conversations'] - 1:,} take {extra:.2f} s: {rate} after start")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, repeat=3)
    p.add_argument("--n", type=positive, default=400, help="conversations in the corpus (default 400)")
    p.add_argument("--seed", type=int, default=1, help="augment --seed and the baseline's seed (default 1)")
    p.add_argument("--corpus", choices=("distinct", "samples"), default="distinct",
                   help="distinct English turns (default) or the tavern samples cycled")
    p.add_argument("--steps", default="synonym,backtranslate",
                   help="which steps: synonym, backtranslate or both (default both); the baseline runs with synonym")
    p.add_argument("--baseline", nargs=3, metavar=("TEXTS", "RESULT", "SEED"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.baseline:  # the child process of the baseline measurement
        return baseline(args.baseline[0], args.baseline[1], int(args.baseline[2]))
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if not steps or not set(steps) <= set(STEPS):
        p.error("--steps takes synonym, backtranslate or both")

    augment = find_augment(args.augment)
    failures: list[str] = []
    rows: list[dict] = []
    source_before = source_fingerprint()
    idle_before = idle_share()
    log(f"CPU idle before the start: {idle_before:.0%}")
    with workdir(args.workdir) as work:
        corpus, single, texts_path = work / "corpus.sharegpt.jsonl", work / "one.sharegpt.jsonl", work / "turns.json"
        log(f"writing {args.n:,} conversations ({_corpus_said(args, {'records_in_sample': 12})}) to {corpus} ...")
        stats = _write_corpus(args, corpus, args.n)
        texts_path.write_text(json.dumps(stats.pop("texts"), ensure_ascii=False), "utf-8")
        one = _write_corpus(args, single, 1)
        check_jsonl(corpus, "conversations", args.n)
        log(f"  {stats['bytes'] / 1024:.0f} KiB, {stats['turns']:,} turns ({stats['turns'] / args.n:.2f} a conversation, "
            f"{stats['distinct_turns']} distinct)")

        jobs = [(step, single, 1, one["turns"], " (1 conversation: start cost)") for step in steps]
        jobs += [(step, corpus, args.n, stats["turns"], "") for step in steps]
        for step, source, n, turns, label in jobs:
            # in rounds (1 worker, 2 workers, and on the whole corpus the machine's own
            # scaling), so each ratio compares runs a few seconds apart: this machine's
            # speed drifts by a fifth over minutes
            rounds = []
            for _ in range(args.repeat):
                rounds.append([run_step(augment, step, source, work / f"out.{step}.n{n}.w{w}.jsonl", n, turns, w,
                                        args.seed, 1, label) for w in WORKERS])
                if n > 1 and rounds[-1][0]["seconds"]:
                    outs = [work / f"pair.{step}.{i}.jsonl" for i in (1, 2)]
                    try:
                        rounds[-1].append(side_by_side(step, rounds[-1][0]["command"], outs,
                                                       rounds[-1][0]["output_sha256"][0]))
                    except BenchError as exc:
                        log(f"  {exc}")
                        failures.append(f"the machine's scaling yardstick failed: {str(exc)[:500]}")
            group = [merged([r[i] for r in rounds]) for i in range(len(WORKERS))]
            group[0]["rounds"] = [{"seconds": [r["seconds"] for r in rnd]} for rnd in rounds]
            for row in group:
                if row["failed_runs"]:
                    first = row["errors"][0].splitlines()
                    why = next((line for line in first if line.startswith("Error")), first[0])
                    failures.append(f"{row['job']}, {row['workers']} worker(s): {row['failed_runs']} of {args.repeat} "
                                    f"runs failed ({why[:300]})")
            why = compare_outputs(group)
            for row in group:
                row["identical"] = why is None
            if why is None:
                log(f"  all {sum(len(r['output_sha256']) for r in group)} outputs "
                    f"({', '.join(map(str, WORKERS))} workers) are byte-identical")
            else:
                log(f"  OUTPUTS NOT THE SAME: {why}")
                failures.append(f"augment run {step}{label}: outputs not byte-identical across workers: {why}")
            rows.extend(group)

        if "synonym" in steps:
            log("baseline: raw nlpaug SynonymAug ...")
            try:
                rows.append(measure_baseline(texts_path, work / "baseline.json", args.n, stats["turns"], args.seed, args.repeat))
            except BenchError as exc:
                log(f"  {exc}")
                failures.append(f"the baseline failed: {str(exc)[:500]}")

        try:
            got = yardsticks(augment, work, json.loads(texts_path.read_text("utf-8")), steps, args)
        except BenchError as exc:
            log(f"  {exc}")
            failures.append(f"a yardstick failed: {str(exc)[:500]}")
            got = None
    compared = comparisons(rows, got) if got else []

    changed = sorted({path for path, _ in set(source_before.items()) ^ set(source_fingerprint().items())})
    if changed:
        failures.append(f"the package's source changed while the benchmark ran ({', '.join(changed)}): "
                        "the runs may mix versions")
    info = machine("roleplay-augment", "nlpaug", "nltk", "numpy", "lemminflect")
    report(
        [
            table(["job", "workers", "conversations", "seconds", "conversations/s", "turns/s", "peak MiB"],
                  [table_row(r) for r in rows]),
            notes(rows, stats, info, idle_before, args),
            table(["figure", "value", "yardstick (same run)", "its value", "ratio"], [comparison_row(c) for c in compared]),
        ],
        args.json_path,
        {"n": args.n, "seed": args.seed, "repeat": args.repeat, "steps": steps, "corpus": stats, "machine": info,
         "cpu_idle_before_start": idle_before,
         "baseline_note": BASELINE_NOTE, "jobs": rows, "comparisons": compared, "yardsticks": got, "failures": failures, "source_sha256": source_before},
    )
    if failures:
        raise BenchError("\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
