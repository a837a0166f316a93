"""Benchmark: model-step throughput against a server with fixed latency.

Starts the scripted OpenAI-compatible server from the test kit on 127.0.0.1
with a fixed latency per request (default 200 ms), then times
``augment run ... dialogue-extension`` at several --concurrency values, with
the cache off, and compares requests/s with the ideal (concurrency / latency).

    .venv/bin/python bench/llm.py [--latency 0.2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_model import answer  # noqa: E402  (the test suite's stand-in model)

from augment.testing import ScriptedLLM  # noqa: E402

AUGMENT = Path(sys.executable).parent / "augment"


def corpus(path: Path, n: int) -> None:
    lines = (ROOT / "samples" / "tavern.sharegpt.jsonl").read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            record = json.loads(lines[i % len(lines)])
            record["id"] = f"bench-{i}"
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per request")
    parser.add_argument("--concurrency", default="1,8,32", help="values to measure")
    parser.add_argument("--seconds", type=float, default=10.0, help="aim for about this long per measurement")
    parser.add_argument("--json", dest="json_path", help="also write the numbers here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ScriptedLLM(responder=answer, latency=args.latency) as server:
        tmpdir = Path(tmp)

        def timed(n: int, concurrency: int) -> float:
            source = tmpdir / f"in-{n}-{concurrency}.jsonl"
            corpus(source, n)
            before = len(server.requests)
            start = time.perf_counter()
            done = subprocess.run(
                [str(AUGMENT), "run", str(source), "-o", str(tmpdir / "out.jsonl"), "--repair", "-q",
                 "--model", "openai/bench", "--api-base", server.url, "--no-cache", "--concurrency", str(concurrency),
                 "dialogue-extension", "--turns", "2"],
                capture_output=True, env=dict(os.environ, OPENAI_API_KEY="bench"),
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"BENCHMARK FAILED: {done.stderr.decode()}")
            if len(server.requests) - before != n:
                raise SystemExit(f"BENCHMARK FAILED: {len(server.requests) - before} requests for {n} records")
            return elapsed

        # what a run costs besides its requests: process start, litellm import, one request
        startup = min(timed(1, 1) for _ in range(2)) - args.latency
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            ideal = concurrency / args.latency
            n = max(16, int(ideal * args.seconds))
            server.max_in_flight = 0
            elapsed = timed(n, concurrency)
            working = elapsed - startup
            rows.append({"concurrency": concurrency, "requests": n, "seconds": elapsed, "startup": startup, "rps": n / working, "ideal": ideal, "max_in_flight": server.max_in_flight})
    print(f"| concurrency | requests | seconds (whole run) | requests/s (start-up excluded) | ideal (concurrency / {args.latency:g} s) | share of ideal | most in flight |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['concurrency']} | {r['requests']} | {r['seconds']:.2f} | {r['rps']:.1f} | {r['ideal']:.0f} | {r['rps'] / r['ideal']:.0%} | {r['max_in_flight']} |")
    print(f"\nmachine: nproc {os.cpu_count()}, Python {sys.version.split()[0]}; start-up (process, litellm import) measured at {rows[0]['startup']:.2f} s and subtracted")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
