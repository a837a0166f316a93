"""Benchmark: model-step throughput against a server with fixed latency.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python bench/llm.py [--latency 0.2] [--concurrency 1,8,32] [--json FILE]
    .venv/bin/python bench/llm.py --latency 0.01 --concurrency 1,4 --seconds 0.1   # seconds

Starts the scripted OpenAI-compatible server of the test kit on 127.0.0.1
(answering like the test suite's stand-in model, ``tests/fake_model.py``)
with a fixed latency per request (default 200 ms), then times ``augment run
... --no-cache --concurrency C dialogue-extension --turns 2`` for each C, and
compares requests/s with the ideal (concurrency / latency).

Each run gets about ``--seconds`` of requests (at least 16): N records
cycling ``samples/tavern.sharegpt.jsonl``, one request each. What a run costs
besides its requests (process start, litellm import) is measured as the best
of ``--repeat`` (default 2) 1-record runs less one latency, and subtracted. Every run is a child
process timed by ``harness.run`` (GNU time, so its peak RSS is shown too); a
failed run, a request count other than N or an output without N to 2N
records stops the benchmark (exit status 1).
"""

from __future__ import annotations

import os
import sys

from corpora import from_sample
from harness import ROOT, BenchError, cell, check_jsonl, describe, find_augment, log, machine, measure, parser, positive, report, table, workdir

sys.path.insert(0, str(ROOT / "tests"))
from fake_model import answer  # noqa: E402  (the test suite's stand-in model)

from augment.testing import ScriptedLLM  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per request (default 0.2)")
    p.add_argument("--concurrency", default="1,8,32", help="values to measure (default 1,8,32)")
    p.add_argument("--seconds", type=float, default=10.0, help="aim for about this long per measurement (default 10)")
    p.add_argument("--repeat", type=positive, default=2, help="runs of the 1-record start-up measurement (default 2)")
    args = p.parse_args(argv)
    try:
        levels = [int(c) for c in args.concurrency.split(",")]
    except ValueError:
        p.error("--concurrency takes whole numbers separated by commas")

    augment = find_augment(args.augment)
    env = dict(os.environ, OPENAI_API_KEY="bench")
    with workdir(args.workdir) as work, ScriptedLLM(responder=answer, latency=args.latency) as server:
        out = work / "out.jsonl"

        def timed(n: int, concurrency: int, repeat: int = 1) -> dict:
            source = work / f"in-{n}.jsonl"
            from_sample(source, n)
            cmd = [augment, "run", str(source), "-o", str(out), "--repair", "-q", "--model", "openai/bench",
                   "--api-base", server.url, "--no-cache", "--concurrency", str(concurrency),
                   "dialogue-extension", "--turns", "2"]
            sent = []

            def before() -> None:
                out.unlink(missing_ok=True)
                sent.append(len(server.requests))
                server.max_in_flight = 0

            def check(_) -> int:
                if len(server.requests) - sent[-1] != n:
                    raise BenchError(f"{len(server.requests) - sent[-1]} requests for {n} records")
                check_jsonl(out, "conversations", n, 2 * n)
                return server.max_in_flight

            log(f"{n} records, concurrency {concurrency} ...")
            return measure(f"dialogue-extension, concurrency {concurrency}", cmd, repeat, env=env, before=before, check=check)

        startup = timed(1, 1, repeat=args.repeat)["seconds"] - args.latency
        rows = []
        for concurrency in levels:
            ideal = concurrency / args.latency
            n = max(16, int(ideal * args.seconds))
            m = timed(n, concurrency)
            working = m["seconds"] - startup  # not above 0 when the start-up measure was disturbed
            rows.append({"concurrency": concurrency, "requests": n, "seconds": m["seconds"], "startup": startup,
                         "rps": n / working if working > 0 else None, "ideal": ideal, "max_in_flight": m["checked"][0],
                         "peak_rss_mib": m["peak_rss_mib"], "cpu_seconds": m["cpu_seconds"]})

    info = machine("litellm")
    report(
        [
            table(["concurrency", "requests", "seconds (whole run)", "requests/s (start-up excluded)",
                   f"ideal (concurrency / {args.latency:g} s)", "share of ideal", "most in flight", "peak MiB"],
                  [[str(r["concurrency"]), str(r["requests"]), f"{r['seconds']:.2f}", cell(r["rps"], ".1f"), f"{r['ideal']:.0f}",
                    cell(None if r["rps"] is None else r["rps"] / r["ideal"], ".0%"), str(r["max_in_flight"]), f"{r['peak_rss_mib']:.1f}"] for r in rows]),
            f"{describe(info)}; start-up (process, litellm import) measured at {startup:.2f} s and subtracted",
        ],
        args.json_path,
        {"latency": args.latency, "seconds": args.seconds, "machine": info, "startup_seconds": startup, "rows": rows},
    )


if __name__ == "__main__":
    main()
