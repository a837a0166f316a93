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


def _convert_in_process(source, out, pack):
    """``augment convert SOURCE --repair --to alpaca -o OUT --on-error skip``
    run here, with or without the blocks of plainly written records; the
    summary's counts and every written file."""
    from augment.dataio.reading import Source
    from augment.engine.plan import prepare, write_beside
    from augment.plugins import registry
    from augment.spec import RunSpec

    spec = RunSpec(Source(str(source)), str(out), "alpaca", greeting="fold-into-system", on_error="skip", command=("convert",))
    run = prepare(spec, registry())
    run.job.pack = pack
    summary = run.execute()
    write_beside(spec, run, registry())
    files = {p.name: p.read_bytes() for p in sorted(out.parent.iterdir())}
    return summary.state(), files, run


def test_plainly_written_records_come_back_in_blocks_that_count_and_write_the_same(tmp_path):
    """Runs of records with nothing to count but their bytes travel as one
    block; between them, a record repaired, one with a reading note, one
    unreadable, one the gate rejects, one alpaca cannot hold. The counts,
    the output (JSON Lines and a .json array), the rejects, the
    dataset_info.json entry and the card are those of records one by one."""
    plain = [{"conversations": [{"from": "human", "value": f"Where is the lantern {i}?"}, {"from": "gpt", "value": f"*points* On hook {i}."}]}
             for i in range(150)]
    odd = {
        20: '{"conversations": [{"from": "gpt", "value": "Welcome."}, {"from": "human", "value": "Hi."}, {"from": "gpt", "value": "Sit."}]}',
        21: "not json",
        40: '{"conversations": [{"from": "human", "value": "Hi."}, {"from": "function_call", "value": "{}"}]}',
        90: json.dumps({"conversations": [{"from": "human", "value": "She is 12 years old."}, {"from": "gpt", "value": "They had sex."}]}),
    }
    lines = [odd.get(i, json.dumps(r)) for i, r in enumerate(plain)]
    for suffix in ("jsonl", "json"):
        source = tmp_path / f"in-{suffix}.jsonl"
        source.write_text("\n".join(lines) + "\n")
        runs = {}
        for pack in (True, False):
            out = tmp_path / f"{suffix}-{pack}" / "data" / f"out.{suffix}"  # the card is titled by the folder
            out.parent.mkdir(parents=True)
            runs[pack] = _convert_in_process(source, out, pack)
        (packed, packed_files, run), (one_by_one, files, _) = runs[True], runs[False]
        assert packed == one_by_one
        assert packed_files == files and set(files) == {f"out.{suffix}", f"out.{suffix}.rejects.jsonl", "dataset_info.json", "README.md"}
        assert packed["read"] == 150 and packed["written"] == 147 and packed["rejected"] == 3 and packed["repaired"] == 1
        # the blocks were there: the batches came back as blocks and single records
        from augment.engine.finish import Plain
        from augment.engine.records import Result
        from augment.engine.workers import batched

        kinds = [type(item) for batch in batched(enumerate(run.reader.read()), 64) for item in run.job(batch)]
        assert kinds.count(Plain) >= 3 and kinds.count(Result) == 4
