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
3. measures ``augment convert IN --to openai -o OUT -q``, ``--to sharegpt``
   and ``--to alpaca`` (also on 2 workers, and with ``--no-safety``);
4. measures the Python ceiling of the ShareGPT -> Alpaca job: a ``python -c``
   child that does only what this corpus needs (``orjson.loads``, the safety
   gate's first pass with the plugin's own functions, the Alpaca dict,
   ``orjson.dumps``: no checks of roles or shapes, no errors, no rejects, no
   resume journal), once with the gate and once without; each must write
   exactly the bytes ``augment convert --to alpaca`` wrote, so that it is the
   same work. ``augment convert`` does all of this and more (it reads any
   record, checks it, reports and rejects), so on one core it cannot be
   faster than this ceiling, and on two at best twice as fast;
5. prints a Markdown table (best wall time of ``--repeat`` runs, peak RSS) and
   the machine, and with ``--json FILE`` writes the numbers there.

Every job is a child process timed by ``harness.run`` (GNU time: the peak RSS
is the job's own). Every output must have exactly N lines, each a JSON object;
a wrong count, a non-zero exit or an unparsable line stops the benchmark
(exit status 1).
"""

from __future__ import annotations

import filecmp
import sys
import time
from pathlib import Path

from corpora import synthetic
from harness import BenchError, cell, check_jsonl, describe, find_augment, log, machine, measure, parser, positive, report, table, workdir


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

#: The Python ceiling of ShareGPT -> Alpaca, run as ``python -c CEILING IN OUT
#: gate|none``: the per-record work only (this corpus: a system prompt, an even
#: number of alternating turns, an "id"), the gate's first pass with the
#: safety plugin's own functions (a system prompt's answer kept, as the gate
#: keeps it).
CEILING = """
import sys, orjson
from augment_plugins.safety import maybe_sexual, read_through_all
loads, dumps = orjson.loads, orjson.dumps
gate = sys.argv[3] == "gate"
systems = {}
with open(sys.argv[1], "rb") as fin, open(sys.argv[2], "wb") as fout:
    write = fout.write
    for line in fin:
        rec = loads(line)
        turns = [turn["value"] for turn in rec["conversations"]]
        system = rec.get("system")
        if gate:
            if system is not None and system not in systems:
                systems[system] = maybe_sexual(read_through_all([system]))
            if (system is not None and systems[system]) or maybe_sexual(read_through_all(turns)):
                continue
        out = {}
        if system is not None:
            out["system"] = system
        if len(turns) > 2:
            out["history"] = [turns[i:i + 2] for i in range(0, len(turns) - 2, 2)]
        out["instruction"], out["output"] = turns[-2], turns[-1]
        out.update((k, v) for k, v in rec.items() if k not in ("conversations", "system"))
        write(dumps(out))
        write(b"\\n")
"""
#: The two ceilings' rows.
GATED = "python ceiling: orjson + the gate's first pass + the Alpaca dict"
UNGATED = "python ceiling without the gate (as --no-safety)"


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

        alpaca = work / "out.alpaca.jsonl"
        # (job, command, output, key every output line must have, a file the output must equal); None: no output
        jobs = [
            ("python startup + augment --version", [augment, "--version"], None, "", None),
            ("floor: orjson loads/dumps loop", [sys.executable, "-c", FLOOR, str(corpus), str(work / "out.floor.jsonl")],
             work / "out.floor.jsonl", "conversations", None),
            ("augment convert --to openai", convert("openai"), work / "out.openai.jsonl", "messages", None),
            ("augment convert --to sharegpt", convert("sharegpt"), work / "out.sharegpt.jsonl", "conversations", None),
            ("augment convert --to alpaca", convert("alpaca"), alpaca, "instruction", None),
            (GATED, [sys.executable, "-c", CEILING, str(corpus), str(work / "out.ceiling.jsonl"), "gate"],
             work / "out.ceiling.jsonl", "instruction", alpaca),
            (UNGATED, [sys.executable, "-c", CEILING, str(corpus), str(work / "out.ceiling.jsonl"), "none"],
             work / "out.ceiling.jsonl", "instruction", alpaca),
            ("augment convert --to alpaca --workers 2", convert("alpaca") + ["--workers", "2"], alpaca, "instruction", None),
            ("augment convert --to alpaca --no-safety", convert("alpaca") + ["--no-safety"], alpaca, "instruction", None),
        ]

        def check_output(out: Path, key: str, same_as: Path | None) -> int:
            lines = check_jsonl(out, key, args.n)
            if same_as is not None and not filecmp.cmp(out, same_as, shallow=False):
                raise BenchError(f"{out} holds other bytes than {same_as}")
            return lines

        rows = []
        for name, cmd, out, key, same_as in jobs:
            log(f"{name} ...")
            row = measure(name, cmd, args.repeat,
                          before=(lambda out=out: out.unlink(missing_ok=True)) if out else None,
                          check=(lambda _, out=out, key=key, same_as=same_as: check_output(out, key, same_as)) if out else None)
            row["conversations"] = args.n if out else None
            row["conversations_per_s"] = args.n / row["seconds"] if out else None
            rows.append(row)

    info = machine("orjson")
    floor_row = rows[1]
    by_job = {r["job"]: r for r in rows}
    against_ceiling = [(by_job[f"augment convert --to alpaca{flag}"], by_job[ceiling])
                       for flag, ceiling in (("", GATED), (" --workers 2", GATED), (" --no-safety", UNGATED))]
    report(
        [
            table(["job", "conversations", "seconds", "conversations/s", "peak memory (MiB)"],
                  [[r["job"], cell(r["conversations"], ","), cell(r["seconds"]), cell(r["conversations_per_s"], ",.0f"),
                    cell(r["peak_rss_mib"], ".1f")] for r in rows]),
            f"{describe(info)}; corpus {stats['bytes'] / 2**20:.1f} MiB, mean {stats['mean_line']:.0f} B/line, "
            f"best of {args.repeat}; peak memory from {info['peak_rss_from']}\n"
            + "\n".join(f"{r['job']}: {r['seconds']:.2f} s beside the floor's {floor_row['seconds']:.2f} s (same run): "
                        f"{floor_row['seconds'] / r['seconds']:.2f}x the floor's speed" for r in rows[2:])
            + "\n" + "\n".join(f"{r['job']}: {ceiling['seconds'] / r['seconds']:.2f}x the speed of the {ceiling['job']} "
                               f"({ceiling['seconds']:.2f} s, same run)" for r, ceiling in against_ceiling),
        ],
        args.json_path,
        {"n": args.n, "seed": args.seed, "repeat": args.repeat, "corpus": stats, "machine": info, "jobs": rows},
    )


if __name__ == "__main__":
    main()
