"""Benchmark ``augment convert`` on a synthetic ShareGPT JSON Lines corpus.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/convert.py                  # N=100000, best of 3
    .venv/bin/python bench/convert.py --n 10000 --json /tmp/bench-10k.json
    .venv/bin/python bench/convert.py --workdir /tmp/augbench   # keep the files

What it does:

1. writes N seeded, deterministic ShareGPT conversations (a ``system`` field,
   4-10 alternating human/gpt turns of role-play text with *actions*, about
   0.6-2 KB a line) to ``corpus.sharegpt.jsonl``;
2. measures the floor: a plain Python loop that reads the file line by line,
   ``orjson.loads`` each line and writes ``orjson.dumps`` of it to another file;
3. measures ``augment convert IN --to openai -o OUT -q`` and
   ``augment convert IN --to sharegpt -o OUT -q``;
4. prints a Markdown table (best wall time of ``--repeat`` runs, peak RSS) and
   the machine, and with ``--json FILE`` writes the numbers there.

Every job runs as its own child process under GNU time (``/usr/bin/time -f
%M``), which reports that child's peak RSS alone. Without GNU time the figure
is the child's own ``os.wait4`` rusage; that never mixes jobs up (as
``getrusage(RUSAGE_CHILDREN)``, a maximum over all children so far, would) but
cannot go below this script's own RSS (~18 MiB), because Linux carries the
forking process's high-water mark into the child across the exec.

Every output is checked to have exactly N lines; a wrong count, a non-zero
exit or an unparsable first or last line stops the benchmark (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

# -- the corpus --------------------------------------------------------------------

NAMES = [
    "Mira", "Rhys", "Captain Vale", "Elowen", "Brother Tomas", "Kestrel", "Lady Anwen",
    "Jory", "Old Maeve", "Sergeant Holt", "Isolde", "Finnick", "the Archivist", "Dara",
]
PLACES = [
    "the Drowned Lantern", "Saltmere harbor", "the north road", "the old lighthouse",
    "the market square", "the chapel ruins", "the smugglers' cove", "the guild hall",
    "the eastern watchtower", "the library vaults", "the Gull's Wing", "the frozen pass",
]
THINGS = [
    "the map", "a sealed letter", "the brass key", "your debt", "the storm", "that lantern",
    "the ledger", "a dagger", "the tide tables", "a bottle of rum", "the prophecy", "my patience",
]
ACTIONS = [
    "leans against the bar", "raises an eyebrow", "sets the tankard down with a thunk",
    "glances toward the door", "crosses her arms", "shakes the rain from his coat",
    "taps the table twice", "lowers her voice", "grins despite himself", "pulls up a stool",
    "narrows her eyes", "slides a coin across the counter", "sighs heavily",
    "wipes her hands on her apron", "peers out the rain-streaked window", "laughs under her breath",
    "tosses him a rag", "unrolls the parchment carefully", "rests a hand on the hilt of a sword",
    "stares into the fire for a long moment", "leans in closer", "shrugs off the cloak",
]
SENTENCES = [
    "You're dripping on my floor, {name}, so that had better be important.",
    "I haven't seen {thing} since the night we left {place}.",
    "Tell me you didn't bring trouble in with you again.",
    "If you want a room, it'll cost you three silver and an honest answer.",
    "The last person who asked about {thing} ended up at the bottom of {place}.",
    "I'm not asking twice, {name}. Where were you last night?",
    "We leave for {place} at first light, whether you're ready or not.",
    "Fine. But if this goes wrong, I'm telling everyone it was your idea.",
    "There's a price on your head, you know \u2014 a generous one.",
    "Keep your voice down; the walls in this place have ears.",
    "You think I'd forget {thing}? I've been waiting years for this.",
    "Sit. Eat something first, then we'll talk about {place}.",
    "The storm won't let up until morning, so you may as well stay.",
    "I can get you into {place}, but getting out is your own problem.",
    "Someone paid good coin to make sure {thing} never reached {place}.",
    "Don't look at me like that. I said I was sorry.",
    "What exactly did {name} tell you about {thing}?",
    "Every sailor in {place} has a story, and most of them are lies.",
    "I trusted you once, and look where that got me.",
    "Ha! You call that a bargain? I've seen better deals from pickpockets.",
    "Bring me {thing} and we'll call your debt settled.",
    "It's quiet tonight. Too quiet, if you ask me.",
    "The guards at {place} change shifts at midnight; that's our chance.",
    "You owe me a drink, a new door and an explanation, in that order.",
    "I'll help you, but only because {name} asked me to.",
    "Whatever you heard about me in {place}, it's only half true.",
    "Careful with {thing}. It's older than both of us put together.",
    "We should have turned back at {place} when we had the chance.",
    "Do you hear that? Something's moving out on the water.",
    "I'm listening. Start from the beginning and leave nothing out.",
]
SYSTEM_OPENERS = [
    "You are {name}, the sharp-tongued keeper of {place}.",
    "You are {name}, a weary mercenary who has seen too many winters on {place}.",
    "You are {name}, a scholar obsessed with {thing} and the secrets of {place}.",
    "You are {name}, a smuggler who knows every hidden path around {place}.",
]
SYSTEM_TRAITS = [
    "You speak plainly, tease without mercy, and keep your real kindness well hidden.",
    "You are cautious with strangers but fiercely loyal to the few you trust.",
    "You love a good story and will bend the truth to tell a better one.",
    "You are proud, quick-tempered, and secretly afraid of the sea.",
    "You never give anything away for free, least of all information.",
]
SYSTEM_RULES = (
    "Stay in character, put actions in *asterisks*, and keep replies to one to three sentences. "
    "The user plays {name}, an old acquaintance who owes you more than money. "
    "Scene: a storm is battering {place} late at night."
)
MAX_LINE = 2048


def _fill(rng: random.Random, template: str) -> str:
    return template.format(name=rng.choice(NAMES), place=rng.choice(PLACES), thing=rng.choice(THINGS))


def _message(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.7:
        parts.append(f"*{rng.choice(ACTIONS)}*")
    parts.extend(_fill(rng, rng.choice(SENTENCES)) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.25:
        parts.append(f"*{rng.choice(ACTIONS)}*")
    return " ".join(parts)


def _system(rng: random.Random) -> str:
    return " ".join(
        [_fill(rng, rng.choice(SYSTEM_OPENERS)), *rng.sample(SYSTEM_TRAITS, rng.randint(1, 2)), _fill(rng, SYSTEM_RULES)]
    )


def generate(path: Path, n: int, seed: int) -> dict:
    """Write ``n`` ShareGPT records to ``path``; deterministic for a seed.

    Fast because the text is composed once into pools and each record only
    picks from them: ``rng.choices`` and one ``orjson.dumps`` per line.
    """
    rng = random.Random(seed)
    humans = [_message(rng) for _ in range(4096)]
    gpts = [_message(rng) for _ in range(4096)]
    systems = [_system(rng) for _ in range(512)]
    turn_counts = (4, 6, 8, 10)  # even, so every record is valid for trainers
    size = 0
    smallest = 1 << 30
    largest = 0
    with open(path, "wb", buffering=1 << 20) as out:
        for i in range(n):
            pairs = rng.choice(turn_counts) // 2
            conversations = []
            for h, g in zip(rng.choices(humans, k=pairs), rng.choices(gpts, k=pairs)):
                conversations.append({"from": "human", "value": h})
                conversations.append({"from": "gpt", "value": g})
            record = {"id": f"rp-{i:07d}", "system": rng.choice(systems), "conversations": conversations}
            line = orjson.dumps(record) + b"\n"
            while len(line) > MAX_LINE and len(conversations) > 4:  # keep lines under ~2 KB
                del conversations[-2:]
                line = orjson.dumps(record) + b"\n"
            out.write(line)
            size += len(line)
            smallest = min(smallest, len(line))
            largest = max(largest, len(line))
    return {"bytes": size, "min_line": smallest, "max_line": largest, "mean_line": size / n if n else 0}


# -- the floor, run as a child: `python convert.py --floor IN OUT` ----------------------------


def floor(src: str, dst: str) -> None:
    loads, dumps = orjson.loads, orjson.dumps
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        write = fout.write
        for line in fin:
            write(dumps(loads(line)))
            write(b"\n")


# -- measuring ----------------------------------------------------------------------


class BenchError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"BENCHMARK FAILED: {message}")


def gnu_time() -> str | None:
    """GNU time, if installed: it forks each job from its own small process."""
    path = "/usr/bin/time"
    if not os.access(path, os.X_OK):
        return None
    probe = subprocess.run([path, "-f", "%M", "-o", os.devnull, "true"], capture_output=True)
    return path if probe.returncode == 0 else None


GNU_TIME = gnu_time()


def run_child(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; return (wall seconds, CPU seconds, peak RSS in MiB, stderr).

    Peak RSS comes from GNU time when it is installed. The fallback, this
    process's own ``os.wait4``, cannot report less than this benchmark's own
    RSS: Linux carries the forking process's high-water mark into the child's
    ``ru_maxrss`` across the exec.
    """
    with tempfile.TemporaryDirectory() as scratch:
        err_path = os.path.join(scratch, "stderr")
        time_path = os.path.join(scratch, "time")
        argv = [GNU_TIME, "-f", "%M %U %S", "-o", time_path, *cmd] if GNU_TIME else cmd
        with open(err_path, "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = Path(err_path).read_text("utf-8", "replace")
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr}")
        if GNU_TIME:
            # the last line; a first line says so when the command was signalled
            kib, user, system = Path(time_path).read_text().split("\n")[-2].split()
            return seconds, float(user) + float(system), int(kib) / 1024, stderr
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stderr  # KiB on Linux


def check_output(path: Path, n: int, key: str, most: int | None = None) -> int:
    """``n`` lines (between ``n`` and ``most`` when given), and the first and
    last are JSON objects with ``key``. Returns the number of lines."""
    if not path.exists():
        raise BenchError(f"{path} was not written")
    lines = 0
    first = last = b""
    with open(path, "rb") as fh:
        for line in fh:
            if lines == 0:
                first = line
            last = line
            lines += 1
    if most is None and lines != n:
        raise BenchError(f"{path} has {lines} lines, expected {n}")
    if most is not None and not n <= lines <= most:
        raise BenchError(f"{path} has {lines} lines, expected between {n} and {most}")
    for which, line in (("first", first), ("last", last)):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise BenchError(f"{path}: {which} line is not JSON: {exc}") from None
        if not isinstance(record, dict) or key not in record:
            raise BenchError(f"{path}: {which} line has no {key!r} field")
    return lines


def measure(name: str, cmd: list[str], out: Path | None, n: int, key: str, repeat: int) -> dict:
    times, cpus, peaks = [], [], []
    for _ in range(repeat):
        if out is not None:
            out.unlink(missing_ok=True)
        seconds, cpu, peak, stderr = run_child(cmd)
        if stderr.strip():
            print(f"  ({name} wrote to stderr: {stderr.strip()[:500]})", file=sys.stderr)
        if out is not None:
            check_output(out, n, key)
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
        print(f"  {name}: {seconds:.2f} s wall, {cpu:.2f} s CPU, {peak:.1f} MiB", file=sys.stderr)
    best = min(times)
    return {
        "job": name,
        "command": cmd,
        "conversations": n if out is not None else None,
        "seconds": best,
        "all_seconds": times,
        "all_cpu_seconds": cpus,
        "conversations_per_s": n / best if out is not None and best > 0 else None,
        "peak_rss_mib": max(peaks),
        "all_peak_rss_mib": peaks,
    }


def machine() -> dict:
    info = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "orjson": orjson.__version__,
        "peak_rss_from": "GNU time %M" if GNU_TIME else "os.wait4 ru_maxrss (not below this script's RSS)",
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def table(rows: list[dict]) -> str:
    out = [
        "| job | conversations | seconds | conversations/s | peak memory (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        conv = f"{r['conversations']:,}" if r["conversations"] is not None else "-"
        rate = f"{r['conversations_per_s']:,.0f}" if r["conversations_per_s"] is not None else "-"
        out.append(f"| {r['job']} | {conv} | {r['seconds']:.2f} | {rate} | {r['peak_rss_mib']:.1f} |")
    return "\n".join(out)


def find_augment(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "augment"
    if beside.exists():
        return str(beside)
    found = shutil.which("augment")
    if found is None:
        raise BenchError("no augment executable beside this Python or on PATH; pass --augment")
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="conversations in the corpus (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per job; the best time is reported (default 3)")
    parser.add_argument("--seed", type=int, default=1234, help="corpus seed (default 1234)")
    parser.add_argument("--workdir", help="where the corpus and outputs go (kept); default a temporary directory")
    parser.add_argument("--json", dest="json_path", help="also write the numbers to this file")
    parser.add_argument("--augment", help="the augment executable (default: beside this Python)")
    parser.add_argument("--floor", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.floor:  # the child process of the floor measurement
        floor(*args.floor)
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
    try:
        corpus = work / "corpus.sharegpt.jsonl"
        print(f"generating {args.n:,} conversations in {corpus} ...", file=sys.stderr)
        start = time.perf_counter()
        stats = generate(corpus, args.n, args.seed)
        gen_seconds = time.perf_counter() - start
        print(
            f"  {stats['bytes'] / 2**20:.1f} MiB, lines {stats['min_line']}-{stats['max_line']} bytes "
            f"(mean {stats['mean_line']:.0f}), {gen_seconds:.2f} s",
            file=sys.stderr,
        )
        check_output(corpus, args.n, "conversations")

        me = str(Path(__file__).resolve())
        jobs = [
            ("python startup + augment --version", [augment, "--version"], None, ""),
            (
                "floor: orjson loads/dumps loop",
                [sys.executable, me, "--floor", str(corpus), str(work / "floor.jsonl")],
                work / "floor.jsonl",
                "conversations",
            ),
            (
                "augment convert --to openai",
                [augment, "convert", str(corpus), "--to", "openai", "-o", str(work / "out.openai.jsonl"), "-q"],
                work / "out.openai.jsonl",
                "messages",
            ),
            (
                "augment convert --to sharegpt",
                [augment, "convert", str(corpus), "--to", "sharegpt", "-o", str(work / "out.sharegpt.jsonl"), "-q"],
                work / "out.sharegpt.jsonl",
                "conversations",
            ),
        ]
        rows = []
        for name, cmd, out, key in jobs:
            print(f"{name} ...", file=sys.stderr)
            rows.append(measure(name, cmd, out, args.n, key, args.repeat))
    finally:
        if tmp is not None:
            tmp.cleanup()

    info = machine()
    print()
    print(table(rows))
    print()
    print(
        f"machine: nproc {info['nproc']}, Python {info['python']} ({info['implementation']}), "
        f"orjson {info['orjson']}, {info.get('cpu', 'cpu unknown')}, {info['platform']}; "
        f"corpus {stats['bytes'] / 2**20:.1f} MiB, mean {stats['mean_line']:.0f} B/line, "
        f"best of {args.repeat}; peak memory from {info['peak_rss_from']}"
    )
    floor_row = rows[1]
    for r in rows[2:]:
        print(f"{r['job']}: {r['seconds'] / floor_row['seconds']:.1f}x the floor's time")
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps(
                {
                    "n": args.n,
                    "seed": args.seed,
                    "repeat": args.repeat,
                    "corpus": {**stats, "generate_seconds": gen_seconds},
                    "machine": info,
                    "jobs": rows,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
