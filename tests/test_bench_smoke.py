"""Every benchmark in bench/ still runs: on a tiny input it exits 0, prints its
Markdown table with a real row, and writes its numbers with ``--json``.

No figure is asserted (timings depend on the machine); the rows are matched
by shape, and the JSON for what the benchmark counted and checked. The five
scripts run two at a time (they are mostly one process busy on one core), so
the file takes about half of their sum: ~20-30 s. The synonym step and its
raw-nlpaug baseline are left out of ``bench/augmenters.py``'s run here:
WordNet's load alone takes ~9 s a process. The harness's own way of measuring
(GNU time) is tested directly below.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402

NUM = r"[\d,]+(?:\.\d+)?"

#: script -> (tiny arguments, a row its table must have); longest first, so the pool finishes soonest.
CASES = {
    "llm": (["--latency", "0.01", "--concurrency", "4", "--seconds", "0.1", "--repeat", "1"],
            rf"\| 4 \| 40 \| {NUM} \| (?:{NUM}|-) \| 400 \| (?:\d+%|-) \| [1-4] \| {NUM} \|"),
    "augmenters": (["--n", "2", "--repeat", "1", "--steps", "backtranslate"],
                   rf"\| augment run backtranslate \| 2 \| 2 \| {NUM} \| {NUM} \| {NUM} \| {NUM} \|"),
    # more than one batch (64): one is worked on without workers. The workers of
    # so small a run live a fraction of a second: sampled every 0.01 s, not 0.2 s.
    "memory": (["--sizes", "70,140", "--repeat", "1", "--interval", "0.01"],
               rf"\| augment run --workers 2 typos --rate 0\.1 \| 140 \| {NUM} \| {NUM} \| {NUM} \| {NUM} \|"),
    "startup": (["--quick"], rf"\| `augment convert ONE --to openai -o OUT -q` \| {NUM} \| {NUM} \| {NUM}x \|"),
    "convert": (["--n", "20", "--repeat", "1"], rf"\| augment convert --to openai \| 20 \| {NUM} \| {NUM} \| {NUM} \|"),
}


def bench(name: str, folder: Path) -> tuple[subprocess.CompletedProcess, Path]:
    numbers = folder / "numbers.json"
    cmd = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *CASES[name][0],
           "--workdir", str(folder / "work"), "--json", str(numbers)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300), numbers


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """The selected benchmarks, started two at a time as soon as the first test asks."""
    wanted = {item.callspec.params["name"] for item in request.session.items
              if item.module is request.module and "name" in getattr(getattr(item, "callspec", None), "params", {})}
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(bench, name, tmp_path_factory.mktemp(name)) for name in CASES if name in wanted}


@pytest.mark.parametrize("name", list(CASES))
def test_benchmark_runs_and_prints_its_table(runs, name):
    done, numbers = runs[name].result()
    assert done.returncode == 0, f"bench/{name}.py exited with {done.returncode}:\n{done.stderr[-3000:]}"
    lines = done.stdout.splitlines()
    row = re.compile(CASES[name][1])
    assert any(row.fullmatch(line) for line in lines), f"no row like {CASES[name][1]!r} in:\n{done.stdout}"
    assert any(line.startswith("|---|") for line in lines)
    assert any(line.startswith("machine: nproc ") for line in lines)
    data = json.loads(numbers.read_text())
    CHECKS[name](data)


def _convert(data):
    assert [j["checked"] for j in data["jobs"]] == [[None]] + [[20]] * 8  # --version has no output


def _startup(data):
    checked = {j["job"]: j["checked"] for j in data["modes"]["inherited env"]}
    assert checked["augment --help"] == [None] and checked["augment convert ONE --to openai -o OUT -q"] == [1]
    assert checked["augment run ONE -o OUT -q --seed 1 typos"][0] in (1, 2)  # typos: the original, and a variant unless identical
    assert "yardstick: python -c 'import click'" in checked
    control = data["modules_check"][-1]
    assert "[control]" in control["step"] and "langdetect" in control["top_level"]
    assert all(not step["heavy"] for step in data["modules_check"][:-1])


def _augmenters(data):
    assert data["failures"] == []
    assert [(j["conversations"], j["workers"], j["identical"]) for j in data["jobs"]] == [
        (1, 1, True), (1, 2, True), (2, 1, True), (2, 2, True)]
    # rounds of 1 worker, 2 workers and the machine's own 2-core scaling (two 1-worker
    # runs at once, each output checked against the 1-worker run's) on the whole corpus
    whole = next(j for j in data["jobs"] if j["conversations"] == 2 and j["workers"] == 1)
    assert [len(r["seconds"]) for r in whole["rounds"]] == [3] and all(t > 0 for t in whole["rounds"][0]["seconds"])
    assert [c["figure"] for c in data["comparisons"] if "2-core scaling" in c["yardstick"]] == [
        "backtranslate --workers 2 speed-up, 2 conversations"]


def _llm(data):
    (row,) = data["rows"]
    assert row["requests"] == 40 and 1 <= row["max_in_flight"] <= 4


def _memory(data):
    lines = {(j["job"], j["conversations"]): j["output_lines"] for j in data["jobs"]}
    assert lines[("augment convert --to openai", 70)] == [70]
    assert lines[("augment convert --to openai", 140)] == [140]
    assert 140 <= lines[("augment run --workers 2 typos --rate 0.1", 140)][0] <= 280
    assert [v["job"] for v in data["flatness"]] == ["augment convert --to openai", "augment run --workers 2 typos --rate 0.1"]
    typos = [j for j in data["jobs"] if "typos" in j["job"]]
    for job in typos:  # the workers were seen, and the tree counts them with the parent
        assert job["children"] >= 1, job
        for run in job["runs"]:
            assert run["tree_max_processes"] >= 2, run
            assert all(run["tree_peak_rss_mib"] >= p["peak_rss_mib"] for p in run["processes"]), run


CHECKS = {"convert": _convert, "startup": _startup, "augmenters": _augmenters, "llm": _llm, "memory": _memory}


# -- the harness's measurement itself --------------------------------------------------


def test_peak_memory_is_the_childs_own():
    """GNU time reports the job's own peak: a 64 MiB job shows it, and a tiny one
    shows far less than this test process holds (no inherited high-water mark)."""
    big = harness.run([sys.executable, "-c", "data = b'x' * (64 << 20)"])
    small = harness.run(["true"])
    assert big.peak_rss_mib >= 64
    assert small.peak_rss_mib < 8
    assert big.seconds > 0 and big.cpu_seconds >= 0 and big.others_cpu_seconds >= 0


def test_a_failing_job_or_a_wrong_output_stops_the_benchmark(tmp_path):
    with pytest.raises(harness.BenchError, match="exited with 3"):
        harness.run([sys.executable, "-c", "import sys; sys.exit(3)"])
    out = tmp_path / "out.jsonl"
    out.write_text('{"messages": []}\n{"messages": []}\n')
    assert harness.check_jsonl(out, "messages", 2) == 2
    with pytest.raises(harness.BenchError, match="has 2 lines, expected 3"):
        harness.check_jsonl(out, "messages", 3)
    with pytest.raises(harness.BenchError, match="no 'conversations' field"):
        harness.check_jsonl(out, "conversations", 2)
