"""The lean path of conversion (records that need no repair are decoded,
checked and encoded in one pass) decides exactly what the full path decides,
and --workers changes no byte; the resume journal checkpoints by time."""

from __future__ import annotations

import copy

import orjson
import pytest
from conftest import SAMPLES, run_cli

from augment.conversation import Conversation, Preference, Turn
from augment.dataio.validation import _plainly_valid, order_problems, problems
from augment.engine.resume import Journal
from augment.plugins import registry
from augment.errors import RecordError, Unrepresentable

FORMATS = registry().formats

#: Messages the lean path must turn down (to the full path, which says why).
ODD_MESSAGES = [
    {"from": "human", "value": "hi", "name": "Rhys"},
    {"from": "robot", "value": "x"},
    {"from": "human", "value": 3},
    {"from": "human"},
    {"value": "x", "weight": 1},
    {"from": "system", "value": "late"},
    ["human", "x"],
]


def sharegpt_records():
    records = [orjson.loads(line) for name in ("tavern.sharegpt.jsonl", "wuxia.sharegpt.jsonl") for line in (SAMPLES / name).read_bytes().splitlines() if line.strip()]
    for odd in ODD_MESSAGES:
        for base in records[:3]:
            record = copy.deepcopy(base)
            record["conversations"].insert(1, odd)
            records.append(record)
    return records


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except (RecordError, Unrepresentable) as exc:
        return "error", str(exc)


def test_sharegpt_lean_decode_gives_the_full_paths_turns_or_steps_aside():
    fmt = FORMATS["sharegpt"]
    lean_used = 0
    for record in sharegpt_records():
        lean = fmt._plain_turns(record["conversations"])
        full = outcome(fmt._turns, record["conversations"])
        if lean is None:
            continue
        lean_used += 1
        assert full == ("ok", lean)
    assert lean_used >= 15  # the clean sample records take the lean path


def test_sharegpt_decode_still_says_why_an_odd_message_is_refused():
    fmt = FORMATS["sharegpt"]
    record = {"conversations": [{"from": "human", "value": "x"}, {"from": "robot", "value": "y"}]}
    with pytest.raises(RecordError, match="message 2: unknown role 'robot'"):
        fmt.decode(record)


def conversations():
    """Decoded samples, repaired and not, plus shapes Alpaca cannot hold."""
    out = []
    for record in sharegpt_records():
        ok, conv = outcome(FORMATS["sharegpt"].decode, record)
        if ok == "ok":
            out.append(conv)
    for line in (SAMPLES / "support.openai.jsonl").read_bytes().splitlines():
        out.append(FORMATS["openai"].decode(orjson.loads(line)))
    for record in orjson.loads((SAMPLES / "tutor.alpaca.json").read_bytes()):
        out.append(FORMATS["alpaca"].decode(record))
    u, a = Turn("user", "q"), Turn("assistant", "a")
    out += [
        Conversation([u, a], preference=Preference(a, a)),
        Conversation([Turn("system", "s"), u], preference=Preference(Turn("assistant", "c"), Turn("assistant", "r"))),
        Conversation([Turn("system", "s", name="Mira"), u, a]),
        Conversation([u, Turn("assistant", " ")]),
        Conversation([u, a, Turn("system", "late"), u, a]),
        Conversation([]),
    ]
    return out


def full_problems(conv):
    return order_problems(conv) + [t for t in conv.dialogue if t.role != "system" and not t.content.strip()]


def test_validation_lean_path_agrees_with_the_full_rules():
    for conv in conversations():
        if conv.preference is None and _plainly_valid(conv.turns):
            assert full_problems(conv) == []
        assert (problems(conv) == []) == (full_problems(conv) == [] and (conv.preference is None or problems(conv) == []))


def test_alpaca_lean_encode_agrees_with_the_full_checks():
    from augment_plugins.alpaca import _check, _plain_pairs

    lean = 0
    for conv in conversations():
        if _plain_pairs(conv):
            lean += 1
            _check(conv)  # the full checks find nothing either
    assert lean >= 10


@pytest.mark.parametrize("workers", ["1", "2"])
def test_convert_with_workers_writes_the_same_bytes(tmp_path, workers):
    source = tmp_path / "in.jsonl"
    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_bytes().splitlines() + [b"not json", b'{"conversations": [{"from": "robot", "value": "x"}]}']
    source.write_bytes(b"\n".join(lines * 30) + b"\n")
    outs = []
    for w in ("1", workers):
        out = tmp_path / f"w{w}-{len(outs)}" / "out.jsonl"
        done = run_cli("convert", str(source), "--repair", "--to", "alpaca", "-o", str(out), "--on-error", "skip", "--workers", w)
        assert done.returncode == 0, done.stderr.decode()
        outs.append((out.read_bytes(), (out.parent / "out.jsonl.rejects.jsonl").read_bytes(), done.stderr.decode().replace(str(out.parent), "D")))
    assert outs[0] == outs[1]
    assert outs[0][0].count(b"\n") > 100 and outs[0][1].count(b"\n") == 60


def test_journal_checkpoints_after_the_first_batch_then_by_time(tmp_path):
    now = [100.0]
    journal = Journal(tmp_path / "out.jsonl", "f", interval=2.0, clock=lambda: now[0])
    assert journal.due()  # the first batch
    now[0] += 1.9
    assert not journal.due()
    now[0] += 0.2
    assert journal.due()
    assert not journal.due()
    every_batch = Journal(tmp_path / "out.jsonl", "f", interval=0.0, clock=lambda: now[0])
    assert all(every_batch.due() for _ in range(3))
