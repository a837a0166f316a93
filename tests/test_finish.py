"""Filters that carry nothing from one record to the next, and the encoding,
run beside the steps in the worker processes; filters that remember earlier
records stay in the main process. Either way the bytes are those of one
process."""

from __future__ import annotations

import json

from conftest import install_plugin, read_records, run_cli

# Two filters written as a third party would: ``where`` only notes the process it
# runs in (main or worker: start() runs in the main process, before the workers
# are forked), ``every-other`` drops every second record it sees, so it must
# see all of them, in order.
PLUGIN = '''
import os
import augment
from augment import Filter


class Where(Filter):
    name = "where"
    summary = "note the process each record is checked in"
    stateless = True

    def start(self):
        self.main = os.getpid()

    def transform(self, conversation, context):
        return conversation, ["main process" if os.getpid() == self.main else "worker process"]


class EveryOther(Filter):
    name = "every-other"
    summary = "drop every second record seen"

    def start(self):
        self.seen = 0

    def check(self, conversation, context):
        self.seen += 1
        return None if self.seen % 2 else "every second record"


@augment.hookimpl
def register_filters(register):
    register(Where)
    register(EveryOther)
'''


def _corpus(path, n=300):
    lines = []
    for i in range(n):
        turns = [{"from": "human", "value": f"Question {i}: where is the lighthouse keeper tonight?"},
                 {"from": "gpt", "value": f"*points north* Past the harbor wall, number {i}."}]
        if i % 7 == 0:
            turns[1]["value"] = "<p>Past the harbor&nbsp;wall.</p>\u200b"  # clean changes it
        if i % 11 == 0:
            turns[1]["value"] = "Join now: https://a.example https://b.example https://c.example promo code"  # spam
        if i % 13 == 0:
            turns = [{"from": "human", "value": "Same question."}, {"from": "gpt", "value": "Same answer."}]  # duplicates
        lines.append(json.dumps({"conversations": turns}))
    path.write_text("\n".join(lines) + "\n")


def _site(tmp_path):
    return install_plugin(tmp_path / "site", "augment-where", {"where_plugin": PLUGIN}, {"where": "where_plugin"})


def test_stateless_filters_run_in_the_workers_and_give_the_same_bytes(tmp_path):
    src = tmp_path / "in.jsonl"
    _corpus(src)
    env = {"PYTHONPATH": str(_site(tmp_path))}
    outs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        done = run_cli("filter", str(src), "where", "clean", "spam", "exact-duplicates", "-o", str(out),
                       "--workers", workers, env=env)
        assert done.returncode == 0, done.stderr.decode()
        outs[workers] = (out.read_bytes(), (tmp_path / f"out{workers}.jsonl.rejects.jsonl").read_bytes(), done.stderr.decode())
    (one, one_rejects, one_log), (two, two_rejects, two_log) = outs["1"], outs["2"]
    assert one == two and one_rejects == two_rejects
    assert "where: main process: 300" in one_log
    assert "where: worker process: 300" in two_log  # handed over: the workers checked every record
    reasons = {json.loads(line)["reason"].split(":")[0] for line in one_rejects.splitlines()}
    assert reasons == {"spam", "exact-duplicates"}  # the corpus exercises the filters
    assert b"<p>" not in one and b"&nbsp;" not in one  # clean's changes are written


def test_a_filter_that_remembers_stays_in_the_main_process(tmp_path):
    """``every-other`` does not say it is stateless: it sees every record, in
    input order, with any number of workers, and so do the filters after it."""
    src = tmp_path / "in.jsonl"
    _corpus(src, 120)
    env = {"PYTHONPATH": str(_site(tmp_path))}
    kept = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        done = run_cli("filter", str(src), "every-other", "where", "-o", str(out), "--workers", workers, env=env)
        assert done.returncode == 0, done.stderr.decode()
        assert "where: main process: 60" in done.stderr.decode()  # after a stateful filter: main process
        kept[workers] = [r["conversations"][0]["value"] for r in read_records(out)]
    assert kept["1"] == kept["2"]
    # the safety gate (first, stateless) passes all; every-other keeps the 1st, 3rd, ... record
    firsts = [json.loads(line)["conversations"][0]["value"] for line in src.read_text().splitlines()]
    assert kept["1"] == firsts[::2]
