"""Benchmark `augment run --executor ray` on 1 and 2 Ray workers beside local `--workers 1` and `--workers 2`.

Usage (from the repository root, with the project's virtualenv and Ray installed)::

    .venv/bin/python bench/ray_scaling.py                      # N=1600, best of 2
    .venv/bin/python bench/ray_scaling.py --n 200 --repeat 1   # a quick look

What it does:

1. writes N ShareGPT conversations cycling the 12 records of
   ``samples/tavern.sharegpt.jsonl`` (``corpora.from_sample``), and a
   1-conversation corpus for the start cost;
2. times ``augment run CORPUS -o OUT --seed 1 --no-originals STEP...``
   (default ``synonym --rate 0.15``: CPU-bound, WordNet loaded once per
   process) with ``--workers 1`` and ``--workers 2``, then on a real Ray
   cluster on this machine (``augment.testing.ray_cluster``: ``ray start``
   processes, 1 CPU per node) of 1 node, then of 2 nodes
   (``--executor ray --ray-address``); every output is checked to be
   byte-identical to the first local run's;
3. reads the per-batch costs: the work per batch inside the Ray tasks (the
   executor's closing ``ray:`` line) and the driver's CPU seconds (GNU time
   measures the driver alone: Ray's workers are not its children), from
   which the expected scaling is written out;
4. prints a Markdown table and the notes, and with ``--json FILE`` writes the numbers.

The machine's other load is measured and printed with every run (harness):
these figures are only as quiet as the machine was.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path

from corpora import SAMPLE, from_sample
from harness import (ROOT, BenchError, cell, check_jsonl, describe, find_augment, idle_share, log, machine, measure,
                     parser, positive, report, table, workdir)

sys.path.insert(0, str(ROOT))
from augment.testing.ray_cluster import LocalRayCluster  # noqa: E402

STATS = re.compile(r"ray: (\d+) batch\(es\) on (\d+) node\(s\), (\d+) worker process\(es\); "
                   r"work ([\d.]+) s a batch on the workers, the driver waited ([\d.]+) s in all")


def shipped_size() -> dict:
    """What goes to the workers: the staged packages, raw and zipped (as Ray zips a working_dir)."""
    import tempfile

    import augment
    import augment_plugins  # noqa: F401
    from augment.engine.ray_executor import PACKAGES, stage

    with tempfile.TemporaryDirectory() as folder:
        stage(list(PACKAGES), Path(folder))
        files = [p for p in Path(folder).rglob("*") if p.is_file()]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for p in files:
                z.write(p, p.relative_to(folder))
        return {"files": len(files), "bytes": sum(p.stat().st_size for p in files), "zipped_bytes": buffer.tell(),
                "augment": augment.__file__}


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__, repeat=2)
    p.add_argument("--n", type=positive, default=1600, help="conversations in the corpus (default 1600)")
    p.add_argument("--steps", default="synonym --rate 0.15", help="the chain (default: 'synonym --rate 0.15')")
    args = p.parse_args(argv)
    steps = args.steps.split()
    augment = find_augment(args.augment)
    idle_before = idle_share()
    log(f"CPU idle before the start: {idle_before:.0%}")
    rows: list[dict] = []
    failures: list[str] = []
    with workdir(args.workdir) as work:
        corpus, single = work / "corpus.jsonl", work / "one.jsonl"
        stats = from_sample(corpus, args.n)
        stats.pop("texts")
        from_sample(single, 1)
        reference: dict[int, bytes] = {}

        def job(label: str, source: Path, n: int, extra: list[str], env: dict | None = None) -> dict:
            out = work / "out.jsonl"
            cmd = [augment, "run", str(source), "-o", str(out), "--seed", "1", "--no-originals", *extra, *steps]

            def check(r) -> dict:
                check_jsonl(out, "conversations", 1, 10 ** 9)
                data = out.read_bytes()
                if reference.setdefault(n, data) != data:
                    raise BenchError(f"{label}: the output differs from the first local run's")
                found = STATS.search(r.stderr)
                return {"batches": int(found[1]), "nodes": int(found[2]), "processes": int(found[3]),
                        "work_per_batch": float(found[4]), "waited": float(found[5])} if found else {}

            log(f"{label}, {n} conversation(s) ...")
            m = measure(label, cmd, args.repeat, before=lambda: out.unlink(missing_ok=True), check=check, env=env)
            best = min(range(len(m["all_seconds"])), key=m["all_seconds"].__getitem__)
            return {**m, "label": label, "conversations": n, "ray": m["checked"][best],
                    "cpu": m["all_cpu_seconds"][best], "others": m["all_others_cpu_seconds"][best]}

        def pair(label: str, extra: list[str], env: dict | None = None) -> None:
            start = job(label, single, 1, extra, env)
            full = job(label, corpus, args.n, extra, env)
            full["start_seconds"] = start["seconds"]
            full["start_cpu"] = start["cpu"]
            rows.append(full)

        import os

        pair("local --workers 1", ["--workers", "1"])
        pair("local --workers 2", ["--workers", "2"])
        log("starting a Ray cluster of 1 node (1 CPU) ...")
        with LocalRayCluster(nodes=1, cpus=1) as cluster:
            env = {**os.environ, **cluster.env}
            ray = ["--executor", "ray", "--ray-address", cluster.address]
            pair("ray, 1 worker (1 node)", ray, env)
            log("adding a second node ...")
            cluster.add_node()
            cluster.wait_for_nodes(2)
            pair("ray, 2 workers (2 nodes)", ray, env)
        shipped = shipped_size()

    batches = next((r["ray"]["batches"] for r in rows if r["ray"]), None)
    table_rows = []
    for r in rows:
        rate_after = (args.n - 1) / (r["seconds"] - r["start_seconds"]) if r["seconds"] > r["start_seconds"] else None
        driver = (r["cpu"] - r["start_cpu"]) / batches if r["label"].startswith("ray") and batches else None
        r.update(rate_after_start=rate_after, driver_cpu_per_batch=driver)
        table_rows.append([r["label"], f"{args.n:,}", cell(r["seconds"]), cell(r["start_seconds"]), cell(rate_after, ",.1f"),
                           cell(r["ray"].get("work_per_batch")), cell(driver, ".3f"), cell(r["others"], ".1f")])
    base = {r["label"]: r for r in rows}
    notes = [describe(machine("roleplay-augment", "ray", "nlpaug", "nltk")),
             f"corpus: {args.n:,} conversations cycling {SAMPLE.name} ({stats['turns']:,} turns); chain: {' '.join(steps)}; "
             f"best of {args.repeat}; CPU idle before the start {idle_before:.0%}",
             f"shipped to the workers: {shipped['files']} files, {shipped['bytes'] / 1024:.0f} KiB ({shipped['zipped_bytes'] / 1024:.0f} KiB zipped)"]
    for one, two in (("local --workers 1", "local --workers 2"), ("ray, 1 worker (1 node)", "ray, 2 workers (2 nodes)")):
        a, b = base[one], base[two]
        notes.append(f"{one} -> {two}: {a['seconds'] / b['seconds']:.2f}x on the whole run, "
                     + (f"{b['rate_after_start'] / a['rate_after_start']:.2f}x after the start cost" if a["rate_after_start"] and b["rate_after_start"] else ""))
    two = base["ray, 2 workers (2 nodes)"]
    if two["ray"] and two["driver_cpu_per_batch"]:
        w, d = two["ray"]["work_per_batch"], two["driver_cpu_per_batch"]
        notes.append(f"per batch: {w:.2f} s of work in a task, {d:.3f} s of driver CPU (read, filters, encode, write, "
                     f"Ray's submit and fetch): the driver keeps up with about {w / d:.0f} busy workers")
    report([table(["job", "conversations", "seconds", "start (1 conversation)", "conversations/s after start",
                   "work per batch (s)", "driver CPU per batch (s)", "others' CPU s"], table_rows), "\n".join(notes)],
           args.json_path, {"n": args.n, "steps": steps, "rows": rows, "shipped": shipped, "failures": failures,
                            "cpu_idle_before_start": idle_before})


if __name__ == "__main__":
    main()
