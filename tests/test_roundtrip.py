"""Round trips: every format, every pair of formats, over generated conversations
and over the sample files."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES, read_records, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augment import plugins
from augment.conversation import ASSISTANT, FUNCTION_CALL, OBSERVATION, SYSTEM, USER, Conversation, Turn
from augment.errors import Unrepresentable
from augment.dataio.streams import dumps, loads

REG = plugins.load()
WRITABLE = ["alpaca", "sharegpt", "openai"]

text = st.text(min_size=0, max_size=40)
names = st.none() | st.sampled_from(["Mira", "Captain Rhys", "林霜"])
turn_extras = st.dictionaries(st.sampled_from(["weight", "x_note"]), st.integers(0, 3) | text, max_size=2)
record_extras = st.dictionaries(
    st.sampled_from(["id", "meta", "lang", "x_score"]),
    st.integers() | text | st.lists(st.integers(), max_size=3) | st.dictionaries(st.sampled_from(["a", "b"]), text),
    max_size=3,
)


@st.composite
def function_call(draw):
    call = {"name": draw(st.sampled_from(["lookup_order", "roll_dice"])), "arguments": draw(st.dictionaries(st.sampled_from(["id", "n"]), text | st.integers(), max_size=2))}
    return json.dumps(call, ensure_ascii=False)


@st.composite
def conversations(draw, rich: bool):
    """Conversations in canonical form; ``rich`` ones use what Alpaca cannot hold."""
    turns = []
    if draw(st.booleans()):
        turns.append(Turn(SYSTEM, draw(text)))
    for _ in range(draw(st.integers(1, 4))):
        if rich and draw(st.booleans()):
            turns.append(Turn(USER, draw(text), draw(names), draw(turn_extras)))
            turns.append(Turn(FUNCTION_CALL, draw(function_call())))
            turns.append(Turn(OBSERVATION, draw(text), None, {"tool_call_id": "call_1"}))
            turns.append(Turn(ASSISTANT, draw(text), draw(names), draw(turn_extras)))
        elif rich:
            turns.append(Turn(USER, draw(text), draw(names), draw(turn_extras)))
            turns.append(Turn(ASSISTANT, draw(text), draw(names), draw(turn_extras)))
        else:
            turns.append(Turn(USER, draw(text)))
            turns.append(Turn(ASSISTANT, draw(text)))
    tools = None
    if rich and draw(st.booleans()):
        tools = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]
    return Conversation(turns=turns, tools=tools, extra=draw(record_extras))


def through_json(record):
    """What writing a record and reading it back gives."""
    return loads(dumps(record))


def can_hold(fmt, conv) -> bool:
    try:
        fmt.encode(conv)
    except Unrepresentable:
        return False
    return True


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(conv=conversations(rich=False) | conversations(rich=True), x=st.sampled_from(WRITABLE), y=st.sampled_from(WRITABLE))
def test_x_to_y_to_x_gives_back_the_same_records(conv, x, y):
    fx, fy = REG.formats[x], REG.formats[y]
    if not can_hold(fx, conv):
        return
    record = through_json(fx.encode(conv))
    middle = fx.decode(record)
    if x == y:
        assert can_hold(fy, middle), "a format must hold what it decoded"
    if not can_hold(fy, middle):
        return
    in_y = fy.decode(through_json(fy.encode(middle)))
    assert through_json(fx.encode(in_y)) == record


@settings(max_examples=100)
@given(conv=conversations(rich=False))
def test_every_format_holds_plain_conversations_exactly(conv):
    for name in WRITABLE:
        fmt = REG.formats[name]
        decoded = fmt.decode(through_json(fmt.encode(conv)))
        assert decoded.turns == conv.turns, name
        assert decoded.extra == conv.extra, name


@settings(max_examples=100)
@given(conv=conversations(rich=True))
def test_rich_conversations_survive_sharegpt_and_openai(conv):
    for name in ("sharegpt", "openai"):
        fmt = REG.formats[name]
        decoded = fmt.decode(through_json(fmt.encode(conv)))
        assert [(t.role, t.content, t.name) for t in decoded.turns] == [(t.role, t.content, t.name) for t in conv.turns]


@given(instruction=text, query=st.text(min_size=1, max_size=20), output=text, y=st.sampled_from(["sharegpt", "openai"]))
def test_alpaca_input_split_survives_a_trip(instruction, query, output, y):
    alpaca, other = REG.formats["alpaca"], REG.formats[y]
    record = {"instruction": instruction, "input": query, "output": output, "history": []}
    conv = alpaca.decode(record)
    assert conv.dialogue[0].content == f"{instruction}\n{query}"  # what the trainer sees
    back = alpaca.encode(alpaca.decode(alpaca.encode(other.decode(through_json(other.encode(conv))))))
    assert back == record


def test_what_alpaca_cannot_hold_is_refused_with_the_reason():
    alpaca = REG.formats["alpaca"]
    named = Conversation([Turn(USER, "hi", "Rhys"), Turn(ASSISTANT, "hello")])
    with pytest.raises(Unrepresentable, match="alpaca has no place for speaker names .turn 1: 'Rhys'"):
        alpaca.encode(named)
    tool = Conversation([Turn(USER, "where is my order"), Turn(FUNCTION_CALL, '{"name": "f", "arguments": {}}'), Turn(OBSERVATION, "x"), Turn(ASSISTANT, "ok")])
    with pytest.raises(Unrepresentable, match="alpaca has no place for function_call turns"):
        alpaca.encode(tool)
    greeting = Conversation([Turn(ASSISTANT, "*waves* Welcome!"), Turn(USER, "hi")])
    with pytest.raises(Unrepresentable, match="starts with an assistant turn"):
        alpaca.encode(greeting)


@pytest.mark.parametrize(
    "sample,x",
    [
        ("tavern.sharegpt.jsonl", "sharegpt"),
        ("wuxia.sharegpt.jsonl", "sharegpt"),
        ("support.openai.jsonl", "openai"),
        ("tutor.alpaca.json", "alpaca"),
    ],
)
@pytest.mark.parametrize("y", WRITABLE)
def test_sample_files_round_trip_through_the_cli(tmp_path, sample, x, y):
    source = SAMPLES / sample
    middle = tmp_path / "middle.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    first = run_cli("convert", str(source), "--to", y, "-o", str(middle), "--on-error", "skip", "--rejects", str(rejects), "-q")
    assert first.returncode == 0, first.stderr.decode()
    back = tmp_path / ("back.json" if sample.endswith(".json") else "back.jsonl")
    second = run_cli("convert", str(middle), "--to", x, "-o", str(back), "-q")
    assert second.returncode == 0, second.stderr.decode()
    original = read_records(source)
    refused = read_records(rejects) if rejects.exists() else []
    survivors = [r for r in original if r not in [rej["record"] for rej in refused]]
    assert read_records(back) == survivors
    # nothing lost silently: every record is written or refused with a reason
    assert len(read_records(middle)) + len(refused) == len(original)
    for rej in refused:
        assert rej["reason"].startswith(f"cannot write as {y}: ")
