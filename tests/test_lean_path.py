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


# -- the conversion's direct path (RecordJob._converted) against the whole way -------

import pickle  # noqa: E402

from augment.conversation import Location  # noqa: E402
from augment.dataio.streams import Batch, Raw  # noqa: E402
from augment.engine.finish import Finish, Plain  # noqa: E402
from augment.engine.records import RecordJob  # noqa: E402
from augment_plugins.safety import Safety  # noqa: E402

#: Sentences written for these tests, as in test_safety: a signal word beside another, nothing explicit.
GATED = ["The character is 15 years old. The scene turns sexual.", "角色十四岁。这一幕涉及性行为。"]


def varied_lines() -> list[bytes]:
    """Clean samples, and records the direct path must hand to the whole
    way: odd messages, unreadable lines, gated content, shapes Alpaca cannot
    hold, speaker names, preference and labelled records, placeholders."""
    lines = [orjson.dumps(r) for r in sharegpt_records()]
    base = sharegpt_records()[0]
    for change in range(8):
        record = copy.deepcopy(base)
        msgs = record["conversations"]
        if change == 0:
            msgs[1]["value"] += " " + GATED[0]
        elif change == 1:
            msgs[2]["value"] += GATED[1]
        elif change == 2:
            msgs.pop()
        elif change == 3:
            msgs[1]["name"] = "Mira"
        elif change == 4:
            record["chosen"], record["rejected"] = {"from": "gpt", "value": "yes"}, {"from": "gpt", "value": "no"}
            msgs.pop()
        elif change == 5:
            record["kto_tag"] = False
        elif change == 6:
            msgs[1]["value"] = "{{char}} waves \u2014 \u201cwelcome\u201d, {{user}}\u2026"
        else:
            msgs[-1]["value"] = " "
        lines.append(orjson.dumps(record))
    lines += [b"{not json", b"[1]", b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}']
    return lines


def outcomes(results: list) -> list:
    """What the run would count and write of each item (blocks and records)."""
    out = []
    for item in results:
        if type(item) is Plain:
            out.append(("block", item.ordinal, item.records, item.format, item.data, item.seen, item.invalid))
        else:
            outputs = [(o.original, o.changes, o.rejected, o.error, o.written and o.written.data) for o in item.outputs or []]
            out.append(("record", item.ordinal, str(item.location), [repr(f) for f in item.fates], item.notes, outputs))
    return out


@pytest.mark.parametrize("target", ["alpaca", "openai", "sharegpt", None])
@pytest.mark.parametrize("expand,safety_off", [(False, False), (True, False), (False, True)])
def test_the_direct_path_of_a_conversion_gives_what_the_whole_way_gives(target, expand, safety_off):
    lines = varied_lines()

    passage = "They walk along the harbor and talk about the weather and the boats. " * 4
    read = [{"text": passage, "line": 1}, {"text": passage, "line": 9, "notes": ["left out 1 heading(s) with no text after them"]}]

    def batch():
        records = [(i, Raw(Location("in.jsonl", i + 1), line=line)) for i, line in enumerate(lines)]
        return records + [(len(lines) + i, Raw(Location("book.txt", r["line"]), value=dict(r), format=FORMATS["passages"])) for i, r in enumerate(read)]

    filters = [] if safety_off else [Safety()]
    job = RecordJob(list(FORMATS.values()))
    job.finish = Finish(filters, True, FORMATS[target] if target else None, expand, "Ana", safety_off)
    direct, whole = outcomes(job._converted(batch())), outcomes(job._worked(batch()))
    assert direct == whole
    assert outcomes(job(batch())) == direct  # a conversion's batch takes the direct path
    blocks = [item for item in direct if item[0] == "block"]
    assert sum(item[2] for item in blocks) >= 12  # most records went straight through
    assert len(direct) > len(blocks) >= 2  # and the rest the whole way, between blocks


def test_a_batch_of_lines_crosses_to_a_worker_as_one_string_and_comes_back_whole():
    lines = varied_lines()
    fmt = FORMATS["sharegpt"]
    batch = Batch((100 + i, Raw(Location("in.jsonl", 7 + 2 * i), format=fmt, line=line)) for i, line in enumerate(lines))
    data = pickle.dumps(batch)
    assert len(data) < sum(map(len, lines)) + 2000  # the lines and a few numbers, not an object each
    back = pickle.loads(data)
    assert type(back) is Batch
    assert [(o, r.location, r.format.name, r.value, r.error) for o, r in back] == [(o, r.location, r.format.name, r.value, r.error) for o, r in batch]
    # records already parsed, or of two files, still cross, each as itself
    mixed = Batch([(0, Raw(Location("a.jsonl", 1), line=lines[0])), (1, Raw(Location("b.jsonl", 1), value={"x": 1}))])
    assert [(o, r.location, r.value) for o, r in pickle.loads(pickle.dumps(mixed))] == [(o, r.location, r.value) for o, r in mixed]
    assert pickle.loads(pickle.dumps(Batch())) == []
