"""Benchmark peak memory as the corpus grows: it must stay flat (JSON Lines stream).

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/memory.py                          # 10k, 100k, 1M conversations
    .venv/bin/python bench/memory.py --sizes 10000,100000 --json /tmp/memory.json
    .venv/bin/python bench/memory.py --workdir /data/augbench --keep   # keep (and reuse) the corpora
    .venv/bin/python bench/memory.py --sizes 50,100 --repeat 1          # seconds

What it does:

1. checks that ``--workdir`` (default: a new temporary directory) has room for
   the corpora and the largest output (``shutil.disk_usage``), and stops with
   a message if not;
2. writes one seeded ShareGPT corpus per size with ``corpora.synthetic``
   (about 1.5 KB a line, so 1,000,000 conversations are ~1.4 GiB); with
   ``--keep`` a corpus written before in the same ``--workdir`` with the same
   size and seed is reused;
3. runs, per size, the jobs of ``--jobs``: ``validate`` (``augment validate
   IN``), ``stats`` (``augment stats IN --json``), ``near-duplicates``
   (``augment filter IN -o OUT -q near-duplicates``: its index grows with the
   output) and, by default, (a) ``augment convert IN --to openai -o OUT -q`` and (b)
   ``augment run IN -o OUT -q --seed 1 --workers 2 typos --rate 0.1``, each
   as its own child process (``harness.run``: GNU time): the best wall time of
   ``--repeat`` runs (default 2; sizes of ``--large`` and more run
   ``--repeat-large`` times, default 1) and the peak RSS of the largest single
   process (GNU time ``%M``). Every 0.2 s (``--interval``) a thread also sums
   VmRSS (``/proc/PID/status``) over the job's process tree (the job and its
   descendants, found through the ppid field of ``/proc/*/stat``) and keeps
   the peak of that total, which is what the machine must have for the typo
   chain's worker processes too. The same samples give each process's own
   peak (VmHWM) and the tree's total PSS (``/proc/PID/smaps_rollup``), which
   counts the pages the forked workers share with their parent once;
4. checks every output: convert writes exactly N lines, the typo run between N
   and 2N (the originals are kept and a variant identical to its source is
   dropped); every line must be a JSON record. Outputs are deleted after the
   check to save disk;
5. prints a Markdown table, a second one with the process tree's details, and
   whether each job's peaks stayed flat from the smallest size to the largest;
   with ``--json FILE`` writes all of it (with a coarse timeline of the tree's
   RSS during each run) there. The corpora are deleted at the end unless
   ``--keep``.

A failed job, a wrong output or too little disk stops the benchmark (exit 1).
Memory that grows is reported, not treated as a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from corpora import synthetic
from harness import (MIB, BenchError, Run, check_jsonl, describe, find_augment, log, machine, measure, parser, positive,
                     report, table, workdir)

#: Output bytes per corpus byte, measured on 10,000 conversations: convert --to openai 1.03,
#: the typo run (original + variant, with provenance) 2.21. Rounded up for the disk check.
OUTPUT_FACTOR = {"convert": 1.2, "typos": 2.6, "validate": 0.0, "stats": 0.0, "near-duplicates": 1.2}
#: Memory is "flat" when the largest size's peak is within this of the smallest size's.
FLAT_MIB, FLAT_RATIO = 16.0, 0.10

# -- the process tree -----------------------------------------------------------------------


def descendants(root: int) -> list[int]:
    """``root``'s descendants (not ``root`` itself), parents before children,
    from the ppid field of every ``/proc/PID/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:  # gone in between
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        children.setdefault(int(stat[stat.rfind(b")") + 2 :].split()[1]), []).append(int(entry.name))
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def kib(pid: int, name: str, *keys: bytes) -> list[int] | None:
    """The ``Key: N kB`` values of ``/proc/PID/name``, 0 where a key is missing;
    None when the process is gone."""
    values = dict.fromkeys(keys, 0)
    try:
        with open(f"/proc/{pid}/{name}", "rb") as fh:
            for line in fh:
                key = line.split(b":", 1)[0]
                if key in values:
                    values[key] = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return list(values.values())


class TreeSampler(threading.Thread):
    """Every ``interval`` s: the summed VmRSS (and PSS) of the processes below
    ``root`` (GNU time: the job, its parent process, is the first); keeps the
    peaks, each process's own peak, and a coarse timeline. Every minute it
    notes progress, with the size of the files ``out`` names being written."""

    def __init__(self, root: int, interval: float, label: str, out: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.label, self.out = root, interval, label, out
        self.stopping = threading.Event()
        self.samples = self.peak_rss_kib = self.peak_pss_kib = self.peak_processes = 0
        self.processes: dict[int, dict] = {}  # pid -> role, peak VmRSS, VmHWM
        self.timeline: list[tuple[float, float, float, int]] = []  # (s, tree RSS MiB, parent RSS MiB, processes)
        self.last = (0.0, 0.0, 0.0, 0)
        self.start_time = time.perf_counter()

    def __enter__(self) -> "TreeSampler":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.join()

    def run(self) -> None:
        next_note, next_point = 60.0, 0.0
        while not self.stopping.is_set():
            self.sample()
            elapsed = time.perf_counter() - self.start_time
            if elapsed >= next_point:
                next_point += 5.0
                self.timeline.append(self.last)
            if elapsed >= next_note:
                next_note += 60.0
                written = sum(f.stat().st_size for f in self.out.parent.glob(f"*{self.out.name}*"))
                log(f"    ... {self.label}: {elapsed:.0f} s, tree {self.last[1]:.0f} MiB in {self.last[3]} "
                    f"process(es), peak {self.peak_rss_kib / 1024:.0f} MiB, {written / MIB:.0f} MiB written")
            self.stopping.wait(self.interval)

    def sample(self) -> None:
        pids = descendants(self.root)
        total = pss = parent = alive = 0
        for pid in pids:
            status = kib(pid, "status", b"VmRSS", b"VmHWM")
            if status is None or status[0] == 0:  # gone, or a zombie
                continue
            rss, hwm = status
            alive += 1
            total += rss
            pss += (kib(pid, "smaps_rollup", b"Pss") or [0])[0]
            role = "parent" if pid == pids[0] else "child"
            info = self.processes.setdefault(pid, {"pid": pid, "role": role, "peak_rss_kib": 0, "hwm_kib": 0})
            info["peak_rss_kib"] = max(info["peak_rss_kib"], rss)
            info["hwm_kib"] = max(info["hwm_kib"], hwm)
            if role == "parent":
                parent = rss
        self.samples += 1
        self.peak_rss_kib = max(self.peak_rss_kib, total)
        self.peak_pss_kib = max(self.peak_pss_kib, pss)
        self.peak_processes = max(self.peak_processes, alive)
        self.last = (round(time.perf_counter() - self.start_time, 1), round(total / 1024, 1), round(parent / 1024, 1), alive)

    def result(self) -> dict:
        procs = sorted(self.processes.values(), key=lambda p: (p["role"] != "parent", p["pid"]))
        return {
            "tree_peak_rss_mib": self.peak_rss_kib / 1024,
            "tree_peak_pss_mib": self.peak_pss_kib / 1024,
            "tree_samples": self.samples,
            "tree_max_processes": self.peak_processes,
            "processes": [{"pid": p["pid"], "role": p["role"], "peak_rss_mib": p["peak_rss_kib"] / 1024,
                           "hwm_mib": p["hwm_kib"] / 1024} for p in procs],
            "timeline": self.timeline,
        }


# -- a job ----------------------------------------------------------------------------


def remove_outputs(out: Path) -> None:
    """The output and whatever augment writes beside it (dataset_info.json, a
    dataset card, partial and rejects files): outputs go to a directory of
    their own, made by this script, so everything in it is ours."""
    for entry in out.parent.iterdir():
        if entry.is_file() or entry.is_symlink():
            entry.unlink(missing_ok=True)


def run_job(job: str, cmd: list[str], out: Path, n: int, lines: tuple[int, int], key: str, repeat: int,
            interval: float) -> dict:
    def check(r: Run) -> dict:
        tree = r.watched.result()
        if key:
            tree["output_lines"] = check_jsonl(out, key, *lines)
        else:  # a report on stdout (validate, stats): it must be there
            if not out.is_file() or not out.stat().st_size:
                raise BenchError(f"{job} wrote no report to {out}")
            tree["output_lines"] = len(out.read_bytes().splitlines())
        remove_outputs(out)
        log(f"    largest process {r.peak_rss_mib:.1f} MiB, tree {tree['tree_peak_rss_mib']:.1f} MiB RSS / "
            f"{tree['tree_peak_pss_mib']:.1f} MiB PSS ({tree['tree_max_processes']} process(es), "
            f"{tree['tree_samples']} samples), {tree['output_lines']:,} lines")
        return {"seconds": r.seconds, "cpu_seconds": r.cpu_seconds, "others_cpu_seconds": r.others_cpu_seconds,
                "peak_rss_mib": r.peak_rss_mib, **tree}

    m = measure(f"{job} {n:,}", cmd, repeat, before=lambda: remove_outputs(out), check=check,
                monitor=lambda pid: TreeSampler(pid, interval, f"{job} {n:,}", out))
    runs = m.pop("checked")
    del m["watched"]
    parent = [p["hwm_mib"] for r in runs for p in r["processes"] if p["role"] == "parent"]
    children = [p["hwm_mib"] for r in runs for p in r["processes"] if p["role"] == "child"]
    return {
        **m,
        "job": job,
        "conversations": n,
        "conversations_per_s": n / m["seconds"],
        "output_lines": [r["output_lines"] for r in runs],
        "tree_peak_rss_mib": max(r["tree_peak_rss_mib"] for r in runs),
        "tree_peak_pss_mib": max(r["tree_peak_pss_mib"] for r in runs),
        "parent_peak_mib": max(parent) if parent else None,
        "child_peak_mib": max(children) if children else None,
        "children": max(sum(p["role"] == "child" for p in r["processes"]) for r in runs),
        "runs": runs,
    }


# -- corpora and disk -------------------------------------------------------------------


def stamped(work: Path, n: int, seed: int) -> dict | None:
    """The stats of a corpus a run with --keep left in ``work`` for the same ``n`` and seed."""
    path, stamp = work / f"corpus-{n}.sharegpt.jsonl", work / f"corpus-{n}.stamp.json"
    try:
        stats = json.loads(stamp.read_text())
        size = path.stat().st_size
    except (OSError, ValueError):
        return None
    return stats if stats.get("n") == n and stats.get("seed") == seed and stats.get("bytes") == size else None


def corpus(work: Path, n: int, seed: int, reuse: bool) -> tuple[Path, dict, bool]:
    """The corpus of ``n`` conversations (written, or reused when its stamp matches)."""
    path = work / f"corpus-{n}.sharegpt.jsonl"
    if reuse and (stats := stamped(work, n, seed)) is not None:
        return path, stats, True
    start = time.perf_counter()
    stats = {"n": n, "seed": seed, **synthetic(path, n, seed)}
    stats["generate_seconds"] = time.perf_counter() - start
    (work / f"corpus-{n}.stamp.json").write_text(json.dumps(stats) + "\n")
    return path, stats, False


def check_disk(work: Path, sizes: list[int], jobs: list[str], seed: int, reuse: bool) -> None:
    """Room for every corpus at once, plus the largest output (outputs are removed after each check)."""
    sample = work / ".sample.jsonl"
    try:
        per_line = synthetic(sample, 2000, seed)["mean_line"]
    finally:
        sample.unlink(missing_ok=True)
    need_corpora = sum(int(n * per_line) for n in sizes if not (reuse and stamped(work, n, seed)))
    need_output = max(OUTPUT_FACTOR[j] for j in jobs) * max(sizes) * per_line
    need = int((need_corpora + need_output) * 1.05) + 256 * MIB
    free = shutil.disk_usage(work).free
    log(f"workdir {work}: {gib(free)} free; need about {gib(need)} "
        f"(corpora {gib(need_corpora)}, largest output {gib(need_output)}, mean line {per_line:.0f} B)")
    if free < need:
        raise BenchError(f"not enough disk space in {work}: about {gib(need)} needed, {gib(free)} free; "
                         "point --workdir at a bigger disk or use smaller --sizes")


def gib(b: float) -> str:
    return f"{b / (1 << 30):.2f} GiB"


# -- report -----------------------------------------------------------------------------


def flatness(rows: list[dict]) -> list[dict]:
    verdicts = []
    for job in dict.fromkeys(r["job"] for r in rows):
        mine = sorted((r for r in rows if r["job"] == job), key=lambda r: r["conversations"])
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        v = {"job": job, "from": small["conversations"], "to": large["conversations"]}
        for key in ("peak_rss_mib", "tree_peak_rss_mib", "parent_peak_mib", "child_peak_mib"):
            if small[key] is None or large[key] is None:
                continue
            grew = large[key] - small[key]
            v[key] = {"from": small[key], "to": large[key], "grew_mib": grew,
                      "flat": grew <= max(FLAT_MIB, FLAT_RATIO * small[key])}
        v["flat"] = all(x["flat"] for x in v.values() if isinstance(x, dict))
        verdicts.append(v)
    return verdicts


def verdict_line(v: dict) -> str:
    parts = [f"{label} {v[key]['from']:.1f} -> {v[key]['to']:.1f} MiB ({v[key]['grew_mib']:+.1f})"
             for key, label in (("peak_rss_mib", "largest process"), ("tree_peak_rss_mib", "tree"),
                                ("parent_peak_mib", "parent"), ("child_peak_mib", "largest child")) if key in v]
    return f"{'flat' if v['flat'] else 'GROWS'}: {v['job']}, {v['from']:,} -> {v['to']:,} conversations: " + "; ".join(parts)


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, repeat=2)
    p.add_argument("--sizes", default="10000,100000,1000000", help="corpus sizes, comma-separated (default 10000,100000,1000000)")
    p.add_argument("--repeat-large", type=positive, default=1, help="runs per job at --large conversations and more (default 1)")
    p.add_argument("--large", type=int, default=1_000_000, help="what counts as a large corpus (default 1000000)")
    p.add_argument("--jobs", default="convert,typos",
                   help="which jobs, comma-separated: convert, typos, validate, stats, near-duplicates (default convert,typos)")
    p.add_argument("--interval", type=float, default=0.2, help="seconds between samples of the process tree (default 0.2)")
    p.add_argument("--seed", type=int, default=1234, help="corpus seed (default 1234)")
    p.add_argument("--keep", action="store_true", help="keep the corpora (and reuse them next time with the same --workdir)")
    args = p.parse_args(argv)
    try:
        sizes = sorted({positive(s) for s in args.sizes.split(",") if s.strip()})
    except (ValueError, argparse.ArgumentTypeError):
        p.error("--sizes takes whole numbers of at least 1 separated by commas")
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    if not sizes or args.interval <= 0:
        p.error("--sizes must name a size, --interval be above 0")
    if not jobs or not set(jobs) <= set(OUTPUT_FACTOR):
        p.error(f"--jobs takes {', '.join(OUTPUT_FACTOR)}")

    augment = find_augment(args.augment)
    rows: list[dict] = []
    corpora: dict[int, dict] = {}
    with workdir(args.workdir, keep=args.keep) as work:
        outputs = Path(tempfile.mkdtemp(prefix="outputs-", dir=work))  # augment writes dataset_info.json beside each output
        try:
            check_disk(work, sizes, jobs, args.seed, reuse=args.keep)
            for n in sizes:
                path, stats, reused = corpus(work, n, args.seed, reuse=args.keep)
                corpora[n] = {**stats, "path": str(path), "reused": reused}
                how = "reused" if reused else f"written in {stats['generate_seconds']:.1f} s"
                log(f"corpus {n:,}: {stats['bytes'] / MIB:.1f} MiB, mean {stats['mean_line']:.0f} B/line, {how}")
            for n in sizes:  # smallest first
                src = corpora[n]["path"]
                repeat = args.repeat_large if n >= args.large else args.repeat
                if "convert" in jobs:
                    out = outputs / f"out-{n}.openai.jsonl"
                    cmd = [augment, "convert", src, "--to", "openai", "-o", str(out), "-q"]
                    rows.append(run_job("augment convert --to openai", cmd, out, n, (n, n), "messages", repeat, args.interval))
                if "typos" in jobs:
                    out = outputs / f"out-{n}.typos.jsonl"
                    cmd = [augment, "run", src, "-o", str(out), "-q", "--seed", "1", "--workers", "2", "typos", "--rate", "0.1"]
                    rows.append(run_job("augment run --workers 2 typos --rate 0.1", cmd, out, n, (n, 2 * n), "conversations",
                                        repeat, args.interval))
                if "validate" in jobs:
                    out = outputs / f"out-{n}.validate.txt"
                    cmd = ["sh", "-c", 'exec "$0" validate "$1" > "$2" 2>&1', augment, src, str(out)]  # its report is on stderr
                    rows.append(run_job("augment validate", cmd, out, n, (1, 1), "", repeat, args.interval))
                if "stats" in jobs:
                    out = outputs / f"out-{n}.stats.json"
                    cmd = ["sh", "-c", 'exec "$0" stats "$1" --json > "$2"', augment, src, str(out)]
                    rows.append(run_job("augment stats --json", cmd, out, n, (1, 1), "", repeat, args.interval))
                if "near-duplicates" in jobs:
                    out = outputs / f"out-{n}.near.jsonl"
                    cmd = [augment, "filter", src, "-o", str(out), "-q", "near-duplicates"]
                    rows.append(run_job("augment filter near-duplicates", cmd, out, n, (1, n), "conversations", repeat, args.interval))
        finally:
            shutil.rmtree(outputs, ignore_errors=True)
            if args.keep:
                log(f"kept the corpora in {work}")
            else:
                for n in sizes:
                    for name in (f"corpus-{n}.sharegpt.jsonl", f"corpus-{n}.stamp.json"):
                        (work / name).unlink(missing_ok=True)

    info = machine("orjson")
    verdicts = flatness(rows)
    corpus_text = ", ".join(f"{n:,}: {c['bytes'] / MIB:.0f} MiB" for n, c in corpora.items())
    report(
        [
            table(["job", "conversations", "seconds", "conversations/s", "peak MiB (largest process)", "peak MiB (whole process tree)"],
                  [[r["job"], f"{r['conversations']:,}", f"{r['seconds']:.2f}", f"{r['conversations_per_s']:,.0f}",
                    mib(r["peak_rss_mib"]), mib(r["tree_peak_rss_mib"])] for r in rows]),
            table(["job", "conversations", "runs", "output lines", "processes in tree", "parent peak MiB",
                   "largest child peak MiB", "tree peak PSS MiB", "samples"],
                  [[r["job"], f"{r['conversations']:,}", str(len(r["runs"])), ", ".join(f"{x:,}" for x in sorted(set(r["output_lines"]))),
                    str(1 + r["children"]), mib(r["parent_peak_mib"]), mib(r["child_peak_mib"]), mib(r["tree_peak_pss_mib"]),
                    ", ".join(str(x["tree_samples"]) for x in r["runs"])] for r in rows]),
            f"{describe(info)}; corpora {corpus_text}; best of {args.repeat} below {args.large:,} conversations, "
            f"{args.repeat_large} at and above; largest process from {info['peak_rss_from']}; whole tree = peak of the "
            f"summed VmRSS of the job and its descendants, sampled every {args.interval} s (pages a forked worker "
            "shares with its parent are counted in both: PSS counts them once)\n"
            + "\n".join(verdict_line(v) for v in verdicts),
        ],
        args.json_path,
        {"sizes": sizes, "seed": args.seed, "repeat": args.repeat, "repeat_large": args.repeat_large, "large": args.large,
         "interval": args.interval, "corpora": corpora, "machine": info, "jobs": rows, "flatness": verdicts},
    )


if __name__ == "__main__":
    main()
