"""Outputs: dataset_info.json entries, custom tags, and no complete-looking file
after a crash or Ctrl-C."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES, install_plugin, read_records, run_cli

CUSTOM = [
    {"dialog": [{"speaker": "player", "text": "Any work for a sellsword?"}, {"speaker": "npc", "text": "*spits* Rats in the cellar. 5 copper."}], "sys": "You are Brann, a dwarf innkeeper."},
    {"dialog": [{"speaker": "player", "text": "Is the road north safe?"}, {"speaker": "npc", "text": "Safe as a bear's breakfast."}]},
]


def test_custom_tags_from_dataset_info_are_read(tmp_path):
    src = tmp_path / "npc.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in CUSTOM))
    info = tmp_path / "dataset_info.json"
    info.write_text(json.dumps({"npc": {"file_name": "npc.jsonl", "formatting": "sharegpt", "columns": {"messages": "dialog", "system": "sys"}, "tags": {"role_tag": "speaker", "content_tag": "text", "user_tag": "player", "assistant_tag": "npc"}}}))
    out = tmp_path / "out" / "npc_openai.jsonl"
    done = run_cli("convert", str(src), "--dataset-info", str(info), "--dataset", "npc", "--to", "openai", "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr.decode()
    assert read_records(out) == [
        {"messages": [{"role": "system", "content": "You are Brann, a dwarf innkeeper."}, {"role": "user", "content": "Any work for a sellsword?"}, {"role": "assistant", "content": "*spits* Rats in the cellar. 5 copper."}]},
        {"messages": [{"role": "user", "content": "Is the road north safe?"}, {"role": "assistant", "content": "Safe as a bear's breakfast."}]},
    ]


def test_unknown_dataset_name_is_a_clear_error(tmp_path):
    info = tmp_path / "dataset_info.json"
    info.write_text(json.dumps({"npc": {"file_name": "npc.jsonl"}}))
    done = run_cli("convert", str(SAMPLES / "tavern.sharegpt.jsonl"), "--dataset-info", str(info), "--dataset", "pc", "--to", "openai")
    assert done.returncode == 1
    assert done.stderr.decode().strip() == f"Error: {info}: no dataset named 'pc' (known: npc)"


def test_written_dataset_info_entry_reads_the_output_back(tmp_path):
    """The entry written beside an output describes it: reading the output
    through its own entry gives the same conversations."""
    for fmt in ("sharegpt", "openai", "alpaca"):
        out = tmp_path / f"tutor_{fmt}.jsonl"
        assert run_cli("convert", str(SAMPLES / "tutor.alpaca.json"), "--to", fmt, "-o", str(out), "-q").returncode == 0
        back = tmp_path / f"back_{fmt}.json"
        done = run_cli("convert", str(out), "--dataset-info", str(tmp_path / "dataset_info.json"), "--dataset", f"tutor_{fmt}", "--to", "alpaca", "-o", str(back), "-q")
        assert done.returncode == 0, done.stderr.decode()
        assert read_records(back) == read_records(SAMPLES / "tutor.alpaca.json")
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert set(info) >= {"tutor_sharegpt", "tutor_openai", "tutor_alpaca"}
    assert info["tutor_openai"]["tags"]["role_tag"] == "role"
    assert info["tutor_alpaca"]["columns"]["prompt"] == "instruction"


INTERRUPT = '''
import os, signal
import augment
from augment.engine.augmenters import Augmenter

def _first():
    """Only the first process to get here acts (each worker counts its own records)."""
    try:
        os.close(os.open({flag!r}, os.O_CREAT | os.O_EXCL))
        return True
    except FileExistsError:
        return False


class Stop(Augmenter):
    name = "stop"
    seen = 0

    def augment(self, conversation, context):
        Stop.seen += 1
        if Stop.seen == 3 and _first():
            {action}
        return conversation.copy()

@augment.hookimpl
def register_augmenters(register):
    register(Stop)
'''


def _stop_plugin(tmp_path, action):
    """The ``stop`` augmenter, doing ``action`` at the third record."""
    source = INTERRUPT.replace("{action}", action).replace("{flag!r}", repr(str(tmp_path / "acted")))
    return install_plugin(tmp_path / "site", "augment-stop", {"stop_plugin": source}, {"stop": "stop_plugin"})


def _run_until_stopped(tmp_path, action, workers):
    site = _stop_plugin(tmp_path, action)
    out = tmp_path / "out" / "result.jsonl"
    done = run_cli(
        "run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--workers", str(workers), "--batch-size", "2", "stop",  # several batches (one would be worked on in this process)
        env={"PYTHONPATH": str(site)}, new_session=True,
    )
    return done, out


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_leaves_no_output_and_no_temporary_file(tmp_path, workers):
    # what a terminal does on Ctrl-C: SIGINT to the whole foreground process group
    done, out = _run_until_stopped(tmp_path, "os.killpg(os.getpgrp(), signal.SIGINT)", workers)
    assert done.returncode == 130, done.stderr.decode()
    assert done.stderr.decode().strip().endswith(
        "interrupted: nothing was written; run the same command with --resume to go on from the last checkpoint"
    )
    assert not out.exists()
    assert _hidden_leftovers(out)


def test_a_hard_crash_never_leaves_a_complete_looking_output(tmp_path):
    done, out = _run_until_stopped(tmp_path, "os._exit(3)", workers=1)
    assert done.returncode == 3
    assert not out.exists()
    assert _hidden_leftovers(out)


def _hidden_leftovers(out) -> bool:
    """Only the hidden partial file (and journal) that --resume uses are left."""
    names = {p.name for p in out.parent.iterdir()}
    return bool(names) and names <= {f".{out.name}.partial", f".{out.name}.journal"}


def test_a_dead_worker_stops_the_run_instead_of_hanging(tmp_path):
    done, out = _run_until_stopped(tmp_path, "os._exit(3)", workers=2)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == (
        "Error: a worker process died; nothing was written (rerun with --workers 1 to see why)"
    )
    assert not out.exists() and _hidden_leftovers(out)


def test_a_plugin_bug_costs_one_record_not_the_run(tmp_path):
    site = _stop_plugin(tmp_path, "raise ValueError('bad luck')")
    out = tmp_path / "result.jsonl"
    done = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--on-error", "skip", "--no-originals", "stop", env={"PYTHONPATH": str(site)})
    # every record went on through the chain; none gave anything to write, which fails the run
    assert done.returncode == 1, done.stderr.decode()
    assert done.stderr.decode().splitlines()[-1] == "Error: read 12 record(s) and wrote none: every one was rejected (see the reasons above and the rejects file)"
    assert f"{SAMPLES / 'tavern.sharegpt.jsonl'}:3: step stop failed: ValueError: bad luck" in done.stderr.decode()
    rejects = {r["location"].rsplit(":", 1)[1]: r["reason"] for r in read_records(tmp_path / "result.jsonl.rejects.jsonl")}
    assert rejects.pop("3") == "step stop failed: ValueError: bad luck"
    # Stop returns identical copies: with --no-originals every other record is
    # reported as giving nothing new, not lost without a word
    assert sorted(map(int, rejects)) == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert set(rejects.values()) == {"no output for this record: identical to its source or to another variant"}
    assert not out.exists() or out.read_text() == ""


def test_atomic_files_write_to_partial_files_of_their_own(tmp_path, monkeypatch):
    """Two writers of one path each get a new hidden partial file (created
    exclusively, readable by the owner only until it is complete); a file an
    earlier process left under the next name is passed over, not reused."""
    import itertools
    import os
    import stat

    from augment.dataio import streams

    target = tmp_path / "out.jsonl"
    monkeypatch.setattr(streams, "_numbers", itertools.count(5))
    left = tmp_path / f".out.jsonl.{os.getpid()}-5.partial"
    left.write_bytes(b"an earlier crash")
    first, second = streams.AtomicFile(target), streams.AtomicFile(target)
    assert first.tmp != second.tmp and left not in (first.tmp, second.tmp)
    assert {first.tmp.name, second.tmp.name} == {f".out.jsonl.{os.getpid()}-6.partial", f".out.jsonl.{os.getpid()}-7.partial"}
    assert stat.S_IMODE(first.tmp.stat().st_mode) == 0o600
    with first as fh:
        fh.write(b"one\n")
    second.abort()
    assert target.read_bytes() == b"one\n" and left.read_bytes() == b"an earlier crash"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 & ~streams._umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([left.name, "out.jsonl"])
