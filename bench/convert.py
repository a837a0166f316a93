"""Benchmark ``augment convert`` on a synthetic ShareGPT JSON Lines corpus.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/convert.py                  # N=100000, best of 3
    .venv/bin/python bench/convert.py --n 10000 --json /tmp/bench-10k.json
    .venv/bin/python bench/convert.py --workdir /tmp/augbench   # keep the files

What it does:

1. writes N seeded, deterministic ShareGPT conversations (``corpora.synthetic``:
   a ``system`` field, 4-10 alternating human/gpt turns of role-play text with
   *actions*, about 0.6-2 KB a line) to ``corpus.sharegpt.jsonl``;
2. measures the floor: a plain Python loop (a ``python -c`` child that imports
   only orjson) that reads the file line by line, ``orjson.loads`` each line
   and writes ``orjson.dumps`` of it to another file;
3. measures ``augment convert IN --to openai -o OUT -q`` and
   ``augment convert IN --to sharegpt -o OUT -q``;
4. prints a Markdown table (best wall time of ``--repeat`` runs, peak RSS) and
   the machine, and with ``--json FILE`` writes the numbers there.

Every job is a child process timed by ``harness.run`` (GNU time: the peak RSS
is the job's own). Every output must have exactly N lines, each a JSON object;
a wrong count, a non-zero exit or an unparsable line stops the benchmark
(exit status 1).
"""

from __future__ import annotations

import sys
import time

from corpora import synthetic
from harness import cell, check_jsonl, describe, find_augment, log, machine, measure, parser, positive, report, table, workdir


#: The floor, run as ``python -c FLOOR IN OUT``: only orjson is imported.
FLOOR = """
import sys, orjson
loads, dumps = orjson.loads, orjson.dumps
with open(sys.argv[1], "rb") as fin, open(sys.argv[2], "wb") as fout:
    write = fout.write
    for line in fin:
        write(dumps(loads(line)))
        write(b"\\n")
"""


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, repeat=3)
    p.add_argument("--n", type=positive, default=100_000, help="conversations in the corpus (default 100000)")
    p.add_argument("--seed", type=int, default=1234, help="corpus seed (default 1234)")
    args = p.parse_args(argv)

    augment = find_augment(args.augment)
    with workdir(args.workdir) as work:
        corpus = work / "corpus.sharegpt.jsonl"
        log(f"generating {args.n:,} conversations in {corpus} ...")
        start = time.perf_counter()
        stats = synthetic(corpus, args.n, args.seed)
        stats["generate_seconds"] = time.perf_counter() - start
        log(f"  {stats['bytes'] / 2**20:.1f} MiB, lines {stats['min_line']}-{stats['max_line']} bytes "
            f"(mean {stats['mean_line']:.0f}), {stats['generate_seconds']:.2f} s")
        check_jsonl(corpus, "conversations", args.n)

        def convert(to: str) -> list[str]:
            return [augment, "convert", str(corpus), "--to", to, "-o", str(work / f"out.{to}.jsonl"), "-q"]

        # (job, command, output, key every output line must have); None: no output
        jobs = [
            ("python startup + augment --version", [augment, "--version"], None, ""),
            ("floor: orjson loads/dumps loop", [sys.executable, "-c", FLOOR, str(corpus), str(work / "out.floor.jsonl")],
             work / "out.floor.jsonl", "conversations"),
            ("augment convert --to openai", convert("openai"), work / "out.openai.jsonl", "messages"),
            ("augment convert --to sharegpt", convert("sharegpt"), work / "out.sharegpt.jsonl", "conversations"),
            ("augment convert --to alpaca", convert("alpaca"), work / "out.alpaca.jsonl", "instruction"),
            ("augment convert --to alpaca --workers 2", convert("alpaca") + ["--workers", "2"], work / "out.alpaca.jsonl", "instruction"),
            ("augment convert --to alpaca --no-safety", convert("alpaca") + ["--no-safety"], work / "out.alpaca.jsonl", "instruction"),
        ]
        rows = []
        for name, cmd, out, key in jobs:
            log(f"{name} ...")
            row = measure(name, cmd, args.repeat,
                          before=(lambda out=out: out.unlink(missing_ok=True)) if out else None,
                          check=(lambda _, out=out, key=key: check_jsonl(out, key, args.n)) if out else None)
            row["conversations"] = args.n if out else None
            row["conversations_per_s"] = args.n / row["seconds"] if out else None
            rows.append(row)

    info = machine("orjson")
    floor_row = rows[1]
    report(
        [
            table(["job", "conversations", "seconds", "conversations/s", "peak memory (MiB)"],
                  [[r["job"], cell(r["conversations"], ","), cell(r["seconds"]), cell(r["conversations_per_s"], ",.0f"),
                    cell(r["peak_rss_mib"], ".1f")] for r in rows]),
            f"{describe(info)}; corpus {stats['bytes'] / 2**20:.1f} MiB, mean {stats['mean_line']:.0f} B/line, "
            f"best of {args.repeat}; peak memory from {info['peak_rss_from']}\n"
            + "\n".join(f"{r['job']}: {r['seconds']:.2f} s beside the floor's {floor_row['seconds']:.2f} s (same run): "
                        f"{floor_row['seconds'] / r['seconds']:.2f}x the floor's speed" for r in rows[2:]),
        ],
        args.json_path,
        {"n": args.n, "seed": args.seed, "repeat": args.repeat, "corpus": stats, "machine": info, "jobs": rows},
    )


if __name__ == "__main__":
    main()
