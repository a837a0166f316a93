"""Benchmark: model-step throughput against a server with fixed latency, beside
raw ``litellm.acompletion`` with a semaphore at the same concurrency.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/llm.py [--latency 0.2] [--concurrency 1,8,32] [--json FILE]
    .venv/bin/python bench/llm.py --latency 0.01 --concurrency 1,4 --seconds 0.1 --repeat 1   # seconds

Starts the scripted OpenAI-compatible server of the test kit on 127.0.0.1
(answering like the test suite's stand-in model, ``tests/fake_model.py``)
with a fixed latency per request (default 200 ms). For each concurrency C it
times, side by side and in turns:

- the tool: ``augment run ... --no-cache --concurrency C dialogue-extension
  --turns 2`` over N records (one request each);
- raw litellm: a child process that sends the very request bodies the tool
  sent (same prompts, schema, seeds) through ``litellm.acompletion`` behind
  an ``asyncio.Semaphore(C)``, and checks every answer came back;

and reports requests/s for both, the ideal (concurrency / latency) and the
ratio tool / raw. Each run gets about ``--seconds`` of requests (at least
16). Requests/s are counted as the server saw them: N requests over the time
from the first one's arrival to the last reply, so process start and
litellm's import (seconds, and noisy on a busy machine) are outside the
span for both sides and nothing has to be subtracted; the start-up alone (a
1-record run less one latency) is reported beside. Every run is a child
process timed by ``harness.run`` (GNU time: wall, CPU and peak RSS); each
side runs ``--repeat`` times, alternating with the other, and its best rate
counts. A failed run, a request count other than N or an output without N
to 2N records stops the benchmark (exit status 1). On a machine that others
are using, the figures move: the harness says how much CPU the rest of the
machine took.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from corpora import from_sample
from harness import ROOT, BenchError, cell, check_jsonl, describe, find_augment, log, machine, measure, parser, positive, report, table, workdir

sys.path.insert(0, str(ROOT / "tests"))
from fake_model import answer  # noqa: E402  (the test suite's stand-in model)

from augment.testing import ScriptedLLM  # noqa: E402

#: The fields of a recorded request body the raw client sends again.
RAW_FIELDS = ("messages", "temperature", "max_tokens", "seed", "response_format")


def raw_child(url: str, bodies_path: str, concurrency: int) -> None:
    """The raw side: every recorded body through litellm.acompletion behind a
    semaphore, as a user of litellm would write it."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    with open(bodies_path, encoding="utf-8") as fh:
        bodies = [json.loads(line) for line in fh]

    async def main() -> int:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(body: dict) -> str:
            async with semaphore:
                response = await litellm.acompletion(
                    model="openai/bench", api_base=url, api_key="bench", timeout=120, num_retries=0, max_retries=0,
                    **{k: body[k] for k in RAW_FIELDS if k in body},
                )
                return response.choices[0].message.content

        answers = await asyncio.gather(*(one(b) for b in bodies))
        return sum(1 for a in answers if a)

    done = asyncio.run(main())
    if done != len(bodies):
        raise SystemExit(f"raw litellm: {done} answers for {len(bodies)} requests")


def served_rate(server: ScriptedLLM, first: int) -> float | None:
    """Requests a second as the server saw them: from the first request's
    arrival to the last reply sent (process start and litellm's import are
    outside it: no start-up to subtract)."""
    timings = server.timings[first:]
    if len(timings) < 2:
        return None
    span = max(t[1] for t in timings) - min(t[0] for t in timings)
    return len(timings) / span if span > 0 else None


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--raw-child":
        raw_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    p = parser(__doc__)
    p.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per request (default 0.2)")
    p.add_argument("--concurrency", default="1,8,32", help="values to measure (default 1,8,32)")
    p.add_argument("--seconds", type=float, default=10.0, help="aim for about this long per measurement (default 10)")
    p.add_argument("--repeat", type=positive, default=2, help="runs of each side per concurrency, and of the 1-record start-up measurement (default 2)")
    args = p.parse_args(argv)
    try:
        levels = [int(c) for c in args.concurrency.split(",")]
    except ValueError:
        p.error("--concurrency takes whole numbers separated by commas")

    augment = find_augment(args.augment)
    env = dict(os.environ, OPENAI_API_KEY="bench")
    with workdir(args.workdir) as work, ScriptedLLM(responder=answer, latency=args.latency) as server:
        out = work / "out.jsonl"

        def tool(n: int, concurrency: int, repeat: int) -> dict:
            source = work / f"in-{n}.jsonl"
            from_sample(source, n)
            cmd = [augment, "run", str(source), "-o", str(out), "--repair", "-q", "--model", "openai/bench",
                   "--api-base", server.url, "--no-cache", "--concurrency", str(concurrency),
                   "dialogue-extension", "--turns", "2"]
            sent: list[int] = []

            def before() -> None:
                out.unlink(missing_ok=True)
                sent.append(len(server.requests))
                server.max_in_flight = 0

            def check(_) -> tuple[int, float | None]:
                if len(server.requests) - sent[-1] != n:
                    raise BenchError(f"{len(server.requests) - sent[-1]} requests for {n} records")
                check_jsonl(out, "conversations", n, 2 * n)
                return server.max_in_flight, served_rate(server, sent[-1])

            log(f"tool: {n} records, concurrency {concurrency} ...")
            result = measure(f"tool, concurrency {concurrency}", cmd, repeat, env=env, before=before, check=check)
            result["bodies"] = server.requests[sent[-1]:sent[-1] + n]
            return result

        def raw(bodies: list[dict], concurrency: int, repeat: int) -> dict:
            path = work / f"bodies-{len(bodies)}-{concurrency}.jsonl"
            path.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in bodies), encoding="utf-8")
            cmd = [sys.executable, os.path.abspath(__file__), "--raw-child", server.url, str(path), str(concurrency)]
            sent: list[int] = []

            def before() -> None:
                sent.append(len(server.requests))
                server.max_in_flight = 0

            def check(_) -> tuple[int, float | None]:
                if len(server.requests) - sent[-1] != len(bodies):
                    raise BenchError(f"raw litellm: {len(server.requests) - sent[-1]} requests for {len(bodies)}")
                return server.max_in_flight, served_rate(server, sent[-1])

            log(f"raw litellm: {len(bodies)} requests, concurrency {concurrency} ...")
            return measure(f"raw litellm, concurrency {concurrency}", cmd, repeat, env=env, before=before, check=check)

        one = tool(1, 1, args.repeat)
        tool_startup = one["seconds"] - args.latency
        raw_startup = raw(one["bodies"], 1, args.repeat)["seconds"] - args.latency
        rows = []
        for concurrency in levels:
            ideal = concurrency / args.latency
            n = max(16, int(ideal * args.seconds))
            tool_runs, raw_runs = [], []
            for _ in range(args.repeat):  # alternate, so a busy spell on the machine hits both sides
                tool_runs.append(tool(n, concurrency, 1))
                raw_runs.append(raw(tool_runs[-1]["bodies"], concurrency, 1))
            t = max(tool_runs, key=lambda m: m["checked"][0][1] or 0)
            r = max(raw_runs, key=lambda m: m["checked"][0][1] or 0)
            tool_rps, raw_rps = t["checked"][0][1], r["checked"][0][1]
            rows.append({
                "concurrency": concurrency, "requests": n, "ideal": ideal,
                "seconds": t["seconds"], "rps": tool_rps, "max_in_flight": t["checked"][0][0],
                "peak_rss_mib": t["peak_rss_mib"], "cpu_seconds": t["cpu_seconds"],
                "all_rps": [m["checked"][0][1] for m in tool_runs], "all_seconds": [m["seconds"] for m in tool_runs],
                "rps_startup_subtracted": n / (t["seconds"] - tool_startup) if t["seconds"] > tool_startup else None,
                "raw_seconds": r["seconds"], "raw_rps": raw_rps, "raw_max_in_flight": r["checked"][0][0], "raw_cpu_seconds": r["cpu_seconds"],
                "raw_all_rps": [m["checked"][0][1] for m in raw_runs], "raw_all_seconds": [m["seconds"] for m in raw_runs],
                "raw_rps_startup_subtracted": n / (r["seconds"] - raw_startup) if r["seconds"] > raw_startup else None,
                "ratio": tool_rps / raw_rps if tool_rps and raw_rps else None,
                "others_cpu_seconds": [m["all_others_cpu_seconds"][0] for m in tool_runs + raw_runs],
            })

    info = machine("litellm")
    report(
        [
            table(["concurrency", "requests", "seconds (whole run)", "requests/s (as served)",
                   f"ideal (concurrency / {args.latency:g} s)", "share of ideal", "most in flight", "peak MiB"],
                  [[str(r["concurrency"]), str(r["requests"]), f"{r['seconds']:.2f}", cell(r["rps"], ".1f"), f"{r['ideal']:.0f}",
                    cell(None if r["rps"] is None else r["rps"] / r["ideal"], ".0%"), str(r["max_in_flight"]), f"{r['peak_rss_mib']:.1f}"] for r in rows]),
            table(["concurrency", "tool req/s", "raw litellm req/s", "tool / raw", "most in flight (tool, raw)", "CPU s a run (tool, raw)"],
                  [[str(r["concurrency"]), cell(r["rps"], ".1f"), cell(r["raw_rps"], ".1f"), cell(r["ratio"], ".2f"),
                    f"{r['max_in_flight']}, {r['raw_max_in_flight']}", f"{r['cpu_seconds']:.1f}, {r['raw_cpu_seconds']:.1f}"] for r in rows]),
            f"{describe(info)}; requests/s as the server saw them (first arrival to last reply: start-up outside it); "
            f"start-up alone: tool {tool_startup:.2f} s, raw litellm {raw_startup:.2f} s; best of {args.repeat} alternating run(s) "
            "per side; CPU seconds the rest of the machine used meanwhile: "
            + ", ".join(f"{sum(r['others_cpu_seconds']):.0f} at c={r['concurrency']}" for r in rows),
        ],
        args.json_path,
        {"latency": args.latency, "seconds": args.seconds, "machine": info, "startup_seconds": tool_startup,
         "raw_startup_seconds": raw_startup, "rows": rows, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")},
    )


if __name__ == "__main__":
    main()
