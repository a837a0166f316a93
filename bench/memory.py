"""Benchmark peak memory as the corpus grows: it must stay flat (JSON Lines stream).

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/memory.py                          # 10k, 100k, 1M conversations
    .venv/bin/python bench/memory.py --sizes 10000,100000 --json /tmp/memory.json
    .venv/bin/python bench/memory.py --workdir /data/augbench --keep   # keep (and reuse) the corpora

What it does:

1. checks that ``--workdir`` (default: a new temporary directory) has room for
   the corpora and the largest output (``shutil.disk_usage``), and stops with
   a message if not;
2. writes one seeded ShareGPT corpus per size with ``bench/convert.py``'s
   generator (about 1.5 KB a line, so 1,000,000 conversations are ~1.4 GiB);
   with ``--workdir`` and ``--keep`` a corpus written before with the same size
   and seed is reused;
3. runs, per size, (a) ``augment convert IN --to openai -o OUT -q`` and (b)
   ``augment run IN -o OUT -q --seed 1 --workers 2 typos --rate 0.1``, each
   as its own child process under GNU time (as ``bench/convert.py`` does): the
   best wall time of ``--repeat`` runs (default 2; sizes of ``--large`` and
   more run ``--repeat-large`` times, default 1) and the peak RSS of the largest
   single process (GNU time ``%M``). Every 0.2 s (``--interval``) a thread also
   sums VmRSS (``/proc/PID/status``) over the job's process tree (the job and
   its descendants, found through the ppid field of ``/proc/*/stat``) and keeps
   the peak of that total, which is what the machine must have for the typo
   chain's worker processes too. The same samples give each process's own
   peak (VmHWM) and the tree's total PSS (``/proc/PID/smaps_rollup``), which
   counts the pages the forked workers share with their parent once;
4. checks every output: convert writes exactly N lines, the typo run between N
   and 2N (the originals are kept and a variant identical to its source is
   dropped); first and last lines must be JSON records. Outputs are deleted
   after the check to save disk;
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
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True  # import convert.py without leaving a .pyc in bench/
sys.path.insert(0, str(Path(__file__).parent))
from convert import GNU_TIME, BenchError, check_output, find_augment, generate, machine  # noqa: E402


MIB = 1 << 20
#: Output bytes per corpus byte, measured on 10,000 conversations: convert --to openai 1.03,
#: the typo run (original + variant, with provenance) 2.21. Rounded up for the disk check.
OUTPUT_FACTOR = {"convert": 1.2, "typos": 2.6}
#: Memory is "flat" when the largest size's peak is within this of the smallest size's.
FLAT_MIB, FLAT_RATIO = 16.0, 0.10

# -- the process tree -----------------------------------------------------------------------


def _ppids() -> dict[int, int]:
    """pid -> ppid for every process, from /proc/*/stat."""
    out: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:  # gone in between
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        out[int(entry.name)] = int(fields[1])
    return out


def descendants(root: int) -> list[int]:
    """``root``'s descendants (not ``root`` itself), parents before children."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppids().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in KiB, or None when the process is gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return rss, hwm


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Every ``interval`` s: the summed VmRSS (and PSS) of the tree below ``root``
    (with ``root`` itself when ``include_root``); keeps the peaks, each process's
    own peak, and a coarse timeline. ``watch`` (a directory and a file-name
    prefix) reports the size of the files being written, for progress."""

    def __init__(self, root: int, include_root: bool, interval: float, label: str, watch: tuple[Path, str] | None) -> None:
        super().__init__(daemon=True)
        self.root, self.include_root, self.interval, self.label, self.watch = root, include_root, interval, label, watch
        self.stopping = threading.Event()
        self.samples = 0
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.peak_processes = 0
        self.processes: dict[int, dict] = {}  # pid -> role, peak VmRSS, VmHWM
        self.timeline: list[tuple[float, float, float, int]] = []  # (s, tree RSS MiB, parent RSS MiB, processes)
        self.start_time = time.perf_counter()

    def run(self) -> None:
        next_note = 60.0
        next_point = 0.0
        while not self.stopping.is_set():
            self.sample()
            elapsed = time.perf_counter() - self.start_time
            if elapsed >= next_point:
                next_point += 5.0
                self.timeline.append(self.last)
            if elapsed >= next_note:
                next_note += 60.0
                print(f"    ... {self.label}: {elapsed:.0f} s, tree {self.last[1]:.0f} MiB in {self.last[3]} "
                      f"process(es), peak {self.peak_rss_kib / 1024:.0f} MiB{self._written()}", file=sys.stderr)
            self.stopping.wait(self.interval)

    def _written(self) -> str:
        if self.watch is None:
            return ""
        folder, prefix = self.watch
        size = 0
        for entry in os.scandir(folder):
            if entry.name.startswith(prefix):
                try:
                    size += entry.stat().st_size
                except OSError:
                    pass
        return f", {size / MIB:.0f} MiB written"

    def sample(self) -> None:
        pids = descendants(self.root)
        if self.include_root:
            pids.insert(0, self.root)
        total = pss = parent = 0
        alive = 0
        for pid in pids:
            got = _status_kib(pid)
            if got is None or got[0] == 0:  # gone, or a zombie
                continue
            rss, hwm = got
            alive += 1
            total += rss
            pss += _pss_kib(pid)
            info = self.processes.get(pid)
            if info is None:
                role = "parent" if pid == pids[0] else "child"
                info = self.processes[pid] = {"pid": pid, "role": role, "peak_rss_kib": 0, "hwm_kib": 0}
            info["peak_rss_kib"] = max(info["peak_rss_kib"], rss)
            info["hwm_kib"] = max(info["hwm_kib"], hwm)
            if info["role"] == "parent":
                parent = rss
        self.samples += 1
        self.peak_rss_kib = max(self.peak_rss_kib, total)
        self.peak_pss_kib = max(self.peak_pss_kib, pss)
        self.peak_processes = max(self.peak_processes, alive)
        self.last = (round(time.perf_counter() - self.start_time, 1), round(total / 1024, 1), round(parent / 1024, 1), alive)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat): with the
    job's own CPU time, what others used while it ran, so a noisy machine shows."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is inside user already


def run_sampled(cmd: list[str], interval: float, label: str, watch: tuple[Path, str] | None) -> dict:
    """Run ``cmd`` like ``convert.run_child`` does, sampling its process tree meanwhile."""
    with tempfile.TemporaryDirectory() as scratch:
        err_path = os.path.join(scratch, "stderr")
        time_path = os.path.join(scratch, "time")
        argv = [GNU_TIME, "-f", "%M %U %S", "-o", time_path, *cmd] if GNU_TIME else cmd
        with open(err_path, "wb") as err:
            busy = busy_seconds()
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            # under GNU time the job is time's child: sum below it; without, the job is the root
            sampler = TreeSampler(proc.pid, include_root=GNU_TIME is None, interval=interval, label=label, watch=watch)
            sampler.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                seconds = time.perf_counter() - start
                busy = busy_seconds() - busy
                sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = Path(err_path).read_text("utf-8", "replace")
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr}")
        if GNU_TIME:
            kib, user, system = Path(time_path).read_text().split("\n")[-2].split()
            peak, cpu = int(kib) / 1024, float(user) + float(system)
        else:
            peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    procs = sorted(sampler.processes.values(), key=lambda p: (p["role"] != "parent", p["pid"]))
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        # CPU the rest of the machine used meanwhile (this script's sampler included)
        "others_cpu_seconds": max(0.0, busy - cpu),
        "peak_rss_mib": peak,
        "tree_peak_rss_mib": sampler.peak_rss_kib / 1024,
        "tree_peak_pss_mib": sampler.peak_pss_kib / 1024,
        "tree_samples": sampler.samples,
        "tree_max_processes": sampler.peak_processes,
        "processes": [
            {"pid": p["pid"], "role": p["role"], "peak_rss_mib": p["peak_rss_kib"] / 1024, "hwm_mib": p["hwm_kib"] / 1024}
            for p in procs
        ],
        "timeline": sampler.timeline,
        "stderr": stderr,
    }


# -- outputs ------------------------------------------------------------------------


def remove_outputs(out: Path) -> None:
    """The output and whatever augment writes beside it (dataset_info.json, a
    dataset card, partial and rejects files): outputs go to a directory of
    their own, made by this script, so everything in it is ours."""
    for entry in out.parent.iterdir():
        if entry.is_file() or entry.is_symlink():
            entry.unlink(missing_ok=True)


def measure(job: str, cmd: list[str], out: Path, n: int, lines: tuple[int, int], key: str, repeat: int, interval: float) -> dict:
    runs = []
    for i in range(repeat):
        remove_outputs(out)
        label = f"{job} {n:,} ({i + 1}/{repeat})"
        r = run_sampled(cmd, interval, label, (out.parent, f".{out.name}"))
        if r["stderr"].strip():
            print(f"  ({job} wrote to stderr: {r['stderr'].strip()[:500]})", file=sys.stderr)
        r["output_lines"] = check_output(out, lines[0], key, most=lines[1])
        if lines[0] == lines[1]:
            check_output(out, n, key)  # bench/convert.py's exact check, too
        remove_outputs(out)
        workers = [p for p in r["processes"] if p["role"] == "child"]
        print(
            f"  {label}: {r['seconds']:.2f} s wall, {r['cpu_seconds']:.2f} s CPU, largest process {r['peak_rss_mib']:.1f} MiB, "
            f"tree {r['tree_peak_rss_mib']:.1f} MiB RSS / {r['tree_peak_pss_mib']:.1f} MiB PSS "
            f"({len(workers)} child process(es), {r['tree_samples']} samples), {r['output_lines']:,} lines; "
            f"others used {r['others_cpu_seconds']:.1f} CPU s meanwhile",
            file=sys.stderr,
        )
        if r["others_cpu_seconds"] > 0.1 * r["seconds"] + 0.5:
            print(f"  WARNING: the machine was not quiet: other processes used {r['others_cpu_seconds'] / r['seconds']:.0%} "
                  "of a core during this run", file=sys.stderr)
        runs.append(r)
    best = min(runs, key=lambda r: r["seconds"])
    parent = [p["hwm_mib"] for r in runs for p in r["processes"] if p["role"] == "parent"]
    children = [p["hwm_mib"] for r in runs for p in r["processes"] if p["role"] == "child"]
    return {
        "job": job,
        "command": cmd,
        "conversations": n,
        "seconds": best["seconds"],
        "all_seconds": [r["seconds"] for r in runs],
        "all_cpu_seconds": [r["cpu_seconds"] for r in runs],
        "all_others_cpu_seconds": [r["others_cpu_seconds"] for r in runs],
        "conversations_per_s": n / best["seconds"],
        "output_lines": [r["output_lines"] for r in runs],
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "tree_peak_rss_mib": max(r["tree_peak_rss_mib"] for r in runs),
        "tree_peak_pss_mib": max(r["tree_peak_pss_mib"] for r in runs),
        "parent_peak_mib": max(parent) if parent else None,
        "child_peak_mib": max(children) if children else None,
        "children": max(sum(p["role"] == "child" for p in r["processes"]) for r in runs),
        "runs": [{k: v for k, v in r.items() if k != "stderr"} for r in runs],
    }


# -- corpora and disk -------------------------------------------------------------------


def mean_line(work: Path, seed: int) -> float:
    sample = work / ".sample.jsonl"
    try:
        return generate(sample, 2000, seed)["mean_line"]
    finally:
        sample.unlink(missing_ok=True)


def corpus(work: Path, n: int, seed: int, reuse: bool) -> tuple[Path, dict, bool]:
    """The corpus of ``n`` conversations (written, or reused when its stamp matches)."""
    path = work / f"corpus-{n}.sharegpt.jsonl"
    stamp = work / f"corpus-{n}.stamp.json"
    if reuse and path.exists() and stamp.exists():
        try:
            stats = json.loads(stamp.read_text())
        except ValueError:
            stats = {}
        if stats.get("n") == n and stats.get("seed") == seed and stats.get("bytes") == path.stat().st_size:
            return path, stats, True
    start = time.perf_counter()
    stats = {"n": n, "seed": seed, **generate(path, n, seed)}
    stats["generate_seconds"] = time.perf_counter() - start
    stamp.write_text(json.dumps(stats) + "\n")
    return path, stats, False


def fmt_gib(b: float) -> str:
    return f"{b / (1 << 30):.2f} GiB"


# -- report -----------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    out = [
        "| job | conversations | seconds | conversations/s | peak MiB (largest process) | peak MiB (whole process tree) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['job']} | {r['conversations']:,} | {r['seconds']:.2f} | {r['conversations_per_s']:,.0f} "
            f"| {r['peak_rss_mib']:.1f} | {r['tree_peak_rss_mib']:.1f} |"
        )
    return "\n".join(out)


def tree_table(rows: list[dict]) -> str:
    out = [
        "| job | conversations | runs | output lines | processes in tree | parent peak MiB | largest child peak MiB | tree peak PSS MiB | samples |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        child = f"{r['child_peak_mib']:.1f}" if r["child_peak_mib"] is not None else "-"
        parent = f"{r['parent_peak_mib']:.1f}" if r["parent_peak_mib"] is not None else "-"
        lines = ", ".join(f"{n:,}" for n in sorted(set(r["output_lines"])))
        samples = ", ".join(str(x["tree_samples"]) for x in r["runs"])
        out.append(
            f"| {r['job']} | {r['conversations']:,} | {len(r['runs'])} | {lines} | {1 + r['children']} | {parent} | {child} "
            f"| {r['tree_peak_pss_mib']:.1f} | {samples} |"
        )
    return "\n".join(out)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="corpus sizes, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per job below --large; the best time is reported (default 2)")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs per job at --large conversations and more (default 1)")
    parser.add_argument("--large", type=int, default=1_000_000, help="what counts as a large corpus (default 1000000)")
    parser.add_argument("--jobs", default="convert,typos", help="which jobs: convert, typos or both (default convert,typos)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between samples of the process tree (default 0.2)")
    parser.add_argument("--seed", type=int, default=1234, help="corpus seed (default 1234)")
    parser.add_argument("--workdir", help="where the corpora and outputs go (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the corpora (and reuse them next time with the same --workdir)")
    parser.add_argument("--json", dest="json_path", help="also write the numbers to this file")
    parser.add_argument("--augment", help="the augment executable (default: beside this Python)")
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    if not sizes or min(sizes) < 1 or args.repeat < 1 or args.repeat_large < 1 or args.interval <= 0:
        parser.error("--sizes, --repeat and --repeat-large must be at least 1, --interval above 0")
    if not set(jobs) <= {"convert", "typos"} or not jobs:
        parser.error("--jobs takes convert, typos or both")
    if not os.path.isdir("/proc/self"):
        raise BenchError("the process-tree sampling needs Linux's /proc")

    augment = find_augment(args.augment)
    created = False
    if args.workdir:
        work = Path(args.workdir).resolve()
        created = not work.exists()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="augment-memory-"))
        created = True
    made: list[Path] = []  # files of ours to remove at the end
    rows: list[dict] = []
    corpora: dict[int, dict] = {}
    outputs = Path(tempfile.mkdtemp(prefix="outputs-", dir=work))  # augment writes dataset_info.json beside each output
    try:
        # 1. room on the disk: every corpus at once, plus the largest output (outputs are removed after each check)
        per_line = mean_line(work, args.seed)
        reusable = {n: corpus_bytes for n in sizes if (corpus_bytes := _existing(work, n, args.seed)) is not None} if args.keep else {}
        need_corpora = sum(int(n * per_line) for n in sizes if n not in reusable)
        need_output = max(OUTPUT_FACTOR[j] for j in jobs) * max(sizes) * per_line
        need = int((need_corpora + need_output) * 1.05) + 256 * MIB
        free = shutil.disk_usage(work).free
        print(
            f"workdir {work}: {fmt_gib(free)} free; need about {fmt_gib(need)} "
            f"(corpora {fmt_gib(need_corpora)}, largest output {fmt_gib(need_output)}, mean line {per_line:.0f} B)",
            file=sys.stderr,
        )
        if free < need:
            raise BenchError(
                f"not enough disk space in {work}: about {fmt_gib(need)} needed, {fmt_gib(free)} free; "
                "point --workdir at a bigger disk or use smaller --sizes"
            )

        # 2. the corpora
        for n in sizes:
            made += [work / f"corpus-{n}.sharegpt.jsonl", work / f"corpus-{n}.stamp.json"]  # a half-written one too
            path, stats, reused = corpus(work, n, args.seed, reuse=args.keep)
            corpora[n] = {**stats, "path": str(path), "reused": reused}
            how = "reused" if reused else f"written in {stats['generate_seconds']:.1f} s"
            print(f"corpus {n:,}: {stats['bytes'] / MIB:.1f} MiB, mean {stats['mean_line']:.0f} B/line, {how}", file=sys.stderr)

        # 3. the jobs, smallest corpus first
        for n in sizes:
            src = corpora[n]["path"]
            repeat = args.repeat_large if n >= args.large else args.repeat
            if "convert" in jobs:
                out = outputs / f"out-{n}.openai.jsonl"
                cmd = [augment, "convert", src, "--to", "openai", "-o", str(out), "-q"]
                print(f"convert {n:,} ...", file=sys.stderr)
                rows.append(measure("augment convert --to openai", cmd, out, n, (n, n), "messages", repeat, args.interval))
            if "typos" in jobs:
                out = outputs / f"out-{n}.typos.jsonl"
                cmd = [augment, "run", src, "-o", str(out), "-q", "--seed", "1", "--workers", "2", "typos", "--rate", "0.1"]
                print(f"typos {n:,} ...", file=sys.stderr)
                rows.append(measure("augment run --workers 2 typos --rate 0.1", cmd, out, n, (n, 2 * n), "conversations", repeat, args.interval))
    finally:
        shutil.rmtree(outputs, ignore_errors=True)
        (work / ".sample.jsonl").unlink(missing_ok=True)
        if args.keep:
            print(f"kept the corpora in {work}", file=sys.stderr)
        else:
            for path in made:
                path.unlink(missing_ok=True)
            if created:
                try:
                    work.rmdir()  # only if empty: nothing of anyone else's is removed
                except OSError as exc:
                    print(f"left {work}: {exc.strerror}", file=sys.stderr)

    info = machine()
    verdicts = flatness(rows)
    print()
    print(table(rows))
    print()
    print(tree_table(rows))
    print()
    corpus_text = ", ".join(f"{n:,}: {c['bytes'] / MIB:.0f} MiB" for n, c in corpora.items())
    print(
        f"machine: nproc {info['nproc']}, Python {info['python']} ({info['implementation']}), orjson {info['orjson']}, "
        f"{info.get('cpu', 'cpu unknown')}, {info['platform']}; corpora {corpus_text}; best of {args.repeat} "
        f"below {args.large:,} conversations, {args.repeat_large} at and above; largest process from {info['peak_rss_from']}; "
        f"whole tree = peak of the summed VmRSS of the job and its descendants, sampled every {args.interval} s "
        "(pages a forked worker shares with its parent are counted in both: PSS counts them once)"
    )
    for v in verdicts:
        parts = []
        for key, label in (("peak_rss_mib", "largest process"), ("tree_peak_rss_mib", "tree"), ("parent_peak_mib", "parent"), ("child_peak_mib", "largest child")):
            if key in v:
                x = v[key]
                parts.append(f"{label} {x['from']:.1f} -> {x['to']:.1f} MiB ({x['grew_mib']:+.1f})")
        state = "flat" if v["flat"] else "GROWS"
        print(f"{state}: {v['job']}, {v['from']:,} -> {v['to']:,} conversations: " + "; ".join(parts))
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps(
                {
                    "sizes": sizes,
                    "seed": args.seed,
                    "repeat": args.repeat,
                    "repeat_large": args.repeat_large,
                    "large": args.large,
                    "interval": args.interval,
                    "corpora": corpora,
                    "machine": info,
                    "jobs": rows,
                    "flatness": verdicts,
                },
                indent=2,
            )
            + "\n"
        )


def _existing(work: Path, n: int, seed: int) -> int | None:
    """The size of a corpus a run with --keep left here for the same ``n`` and seed."""
    path, stamp = work / f"corpus-{n}.sharegpt.jsonl", work / f"corpus-{n}.stamp.json"
    try:
        stats = json.loads(stamp.read_text())
        size = path.stat().st_size
    except (OSError, ValueError):
        return None
    return size if stats.get("n") == n and stats.get("seed") == seed and stats.get("bytes") == size else None


if __name__ == "__main__":
    main()
