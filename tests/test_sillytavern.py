"""The sillytavern format: SillyTavern chat files (.jsonl, one chat per file).

The fixtures in tests/data/sillytavern/ are written the way SillyTavern saves
chats: no final newline unless noted, header line first (none in an older
group chat), message fields in SillyTavern's own order.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from augment import ASSISTANT, USER, Location, RecordError, UsageError
from augment.plugins import registry
from augment.testing import check_format
from augment_plugins.sharegpt import ShareGPT
from augment_plugins.sillytavern import SillyTavern, iso_date

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "sillytavern"
SAMPLES = ROOT / "samples" / "sillytavern"
GOOD = ["greeting-only", "headerless-group", "iso-dates", "mira-swipes", "no-final-newline", "old-style", "saltmere-group"]
HEAD = 1 << 16


def fixture(name: str) -> Path:
    return DATA / f"{name}.jsonl"


def read(path: Path, fmt: SillyTavern | None = None) -> list:
    fmt = fmt or SillyTavern()
    with open(path, "rb") as fh:
        return list(fmt.read(fh, str(path)))


def read_bytes(data: bytes, fmt: SillyTavern | None = None) -> list:
    return list((fmt or SillyTavern()).read(io.BytesIO(data), "chat.jsonl"))


def chat(name: str):
    (location, record), = read(fixture(name))
    return SillyTavern().decode(record)


def lines(*rows) -> bytes:
    """A chat file as SillyTavern writes it: JSON lines joined by \\n, no final newline."""
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode("utf-8")


HEADER = {"user_name": "Captain Rhys", "character_name": "Mira", "create_date": "2025-09-26@16h04m11s", "chat_metadata": {}}


def user(text: str, **more) -> dict:
    return {"name": "Captain Rhys", "is_user": True, "is_system": False, "send_date": "September 26, 2025 4:05pm", "mes": text, "extra": {}, **more}


def mira(text: str, **more) -> dict:
    return {"name": "Mira", "is_user": False, "is_system": False, "send_date": "September 26, 2025 4:06pm", "mes": text, "extra": {}, **more}


# -- the plugin ----------------------------------------------------------------


def test_registered_as_a_builtin_input_format():
    reg = registry()
    fmt = reg.format("sillytavern")
    assert isinstance(fmt, SillyTavern)
    assert not fmt.writable and fmt.suffixes == ()
    assert set(fmt.options) == {"swipes"}
    info = next(p for p in reg.plugins if p.name == "sillytavern")
    assert info.builtin and info.error is None
    assert info.registered == {"formats": ["sillytavern"]}


def test_conformance_check_applies_to_an_input_only_format():
    # input-only: the check has nothing to round-trip and must not complain
    check_format(registry().format("sillytavern"))


# -- sniff ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [fixture(n) for n in GOOD + ["broken-line"]] + sorted(SAMPLES.glob("*.jsonl")), ids=lambda p: p.name)
def test_sniff_claims_sillytavern_chats_and_no_other_format_does(path):
    head = path.read_bytes()[:HEAD]
    assert SillyTavern().sniff(str(path), head)
    claimed = [f.name for f in registry().formats.values() if f.sniff(str(path), head)]
    assert claimed == ["sillytavern"]


@pytest.mark.parametrize(
    "path", sorted(p for p in (ROOT / "samples").iterdir() if p.is_file() and p.suffix in (".jsonl", ".json", ".txt")), ids=lambda p: p.name
)
def test_sniff_does_not_claim_the_other_samples(path):
    assert not SillyTavern().sniff(str(path), path.read_bytes()[:HEAD])


@pytest.mark.parametrize(
    "head",
    [
        b'{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello."}]}\n',
        b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}\n',
        b'{"instruction": "Greet Rhys.", "input": "", "output": "Door, Captain."}\n',
        b'[{"user_name": "Captain Rhys", "character_name": "Mira"}]',
        b'{"name": "Mira", "description": "keeps the Drowned Lantern", "first_mes": "Door, Captain."}',
        b'{"user_name": "Captain Rhys"}\n{"mes": "Hi", "is_user": true}',  # not a header: one name only
        b'{"user_name": broken\n{"name": "Mira", "is_user": false, "mes": "Hi"}',
        b"Mira: Door, Captain.\n",
        b"",
    ],
)
def test_sniff_leaves_other_files_alone(head):
    assert not SillyTavern().sniff("data.jsonl", head)


def test_sniff_claims_a_header_longer_than_the_head_it_is_shown():
    big = {"integrity": "c41d2e90", "notes": "x" * (HEAD + 100)}
    single = json.dumps({"user_name": "Captain Rhys", "character_name": "Mira", "create_date": "2025-09-26@16h04m11s", "chat_metadata": big})
    group = json.dumps({"chat_metadata": big, "user_name": "unused", "character_name": "unused"})  # a group header starts with it
    for text in (single, group):
        assert SillyTavern().sniff("chat.jsonl", text.encode()[:HEAD])


def test_sniff_skips_a_byte_order_mark():
    assert SillyTavern().sniff("chat.jsonl", b"\xef\xbb\xbf" + lines(HEADER, mira("Door, Captain.")))


# -- read ----------------------------------------------------------------------


def test_read_yields_one_record_per_chat_at_line_1_with_the_line_of_each_message():
    (location, record), = read(fixture("mira-swipes"))
    assert location == Location(str(fixture("mira-swipes")), 1)
    assert record["header"]["character_name"] == "Mira"
    assert [m["line"] for m in record["messages"]] == list(range(2, 10))
    assert record["messages"][0]["message"]["name"] == "Mira"


def test_read_a_group_chat_without_a_header_starts_with_a_message():
    (location, record), = read(fixture("headerless-group"))
    assert location.line == 1
    assert record["header"] is None
    assert [m["line"] for m in record["messages"]] == [1, 2, 3, 4, 5]


def test_read_a_file_without_a_final_newline():
    data = fixture("no-final-newline").read_bytes()
    assert not data.endswith(b"\n")
    (_, record), = read(fixture("no-final-newline"))
    assert len(record["messages"]) == 3
    assert record["messages"][-1]["message"]["mes"].endswith("paid for it…")


def test_read_skips_blank_lines_a_byte_order_mark_and_crlf():
    data = b"\xef\xbb\xbf" + lines(HEADER, user("Evening."), mira("Door.")).replace(b"\n", b"\r\n\r\n") + b"\r\n"
    (_, record), = read_bytes(data)
    assert [m["line"] for m in record["messages"]] == [3, 5]
    assert SillyTavern().decode(record).turns[-1].content == "Door."


def test_a_broken_line_is_a_record_error_with_its_line_number():
    for fmt in (SillyTavern(), SillyTavern().configure(swipes="dpo")):
        with pytest.raises(RecordError) as err:
            read(fixture("broken-line"), fmt)
        assert str(err.value) == "line 4: invalid JSON: Unterminated string starting at column 96"
        assert err.value.line == 4


@pytest.mark.parametrize(
    "data, message, line",
    [
        (b"", "the file is empty", 1),
        (b"\n\n", "the file is empty", 1),
        (lines(HEADER, ["Mira", "Door."]), "line 2: a chat line must be an object, got an array", 2),
        (lines({"conversations": []}), "line 1: not a SillyTavern chat: the first line is neither a header (user_name, character_name, chat_metadata) nor a message (mes)", 1),
        (lines(HEADER) + b"\n\xff\xfe", "line 2: invalid UTF-8 (invalid start byte)", 2),
    ],
)
def test_unreadable_files_say_why_and_where(data, message, line):
    with pytest.raises(RecordError) as err:
        read_bytes(data)
    assert str(err.value) == message
    assert err.value.line == line


# -- decode --------------------------------------------------------------------


def test_decode_a_one_to_one_chat():
    conv = chat("mira-swipes")
    assert [(t.role, t.name) for t in conv.turns] == [
        (ASSISTANT, "Mira"),
        (USER, "Captain Rhys"),
        (ASSISTANT, "Mira"),
        (USER, "Captain Rhys"),  # line 5, the hidden OOC line, is left out
        (ASSISTANT, "Mira"),
        (USER, "Captain Rhys"),
        (ASSISTANT, "Mira"),
    ]
    assert conv.turns[0].content.startswith("*doesn't look up")  # the greeting, as shown (swipe 0)
    assert conv.turns[2].content.startswith("*ladles a bowl")  # the shown swipe (1), not the first
    assert conv.turns[4].content == "*snorts* Your tab's longer than the east pier, {{user}}. Pay the 3 copper or wash the bowl yourself."
    assert all(not t.extra for t in conv.turns)  # everything else is at the record level
    assert conv.notes == ["left out 1 system message(s)"]
    assert conv.preference is None and conv.system is None


def test_the_metadata_of_a_chat():
    meta = chat("mira-swipes").extra["sillytavern"]
    assert set(meta) == {"user_name", "character_name", "chat_type", "create_date", "create_date_raw", "chat_metadata", "header", "rejected_swipe", "messages"}
    assert meta["user_name"] == "Captain Rhys" and meta["character_name"] == "Mira" and meta["chat_type"] == "single"
    assert meta["create_date"] == "2025-09-26T16:04:11.000"
    assert meta["create_date_raw"] == '"2025-09-26@16h04m11s"'
    assert json.loads(meta["chat_metadata"])["integrity"] == "5b0e7c7e-3f7a-4d5e-9a51-2f7c8f0e6a11"
    assert meta["header"] == "{}" and meta["rejected_swipe"] == -1
    assert [m["line"] for m in meta["messages"]] == [2, 3, 4, 6, 7, 8, 9]  # one per turn, in turn order
    swiped = meta["messages"][2]
    assert swiped["line"] == 4 and swiped["name"] == "Mira" and swiped["swipe_id"] == 1
    assert swiped["send_date"] == "2025-09-26T16:07:00.000" and swiped["send_date_raw"] == '"September 26, 2025 4:07pm"'
    assert len(json.loads(swiped["swipes"])) == 3 and len(json.loads(swiped["swipe_info"])) == 3
    assert json.loads(swiped["extra"]) == {"api": "openai", "model": "gpt-4o-mini", "token_count": 31}
    assert json.loads(swiped["fields"]) == {"title": "", "gen_started": "2025-09-26T14:06:58.412Z", "gen_finished": "2025-09-26T14:07:01.093Z"}
    plain = meta["messages"][1]
    assert (plain["swipe_id"], plain["swipes"], plain["swipe_info"]) == (-1, "[]", "[]")
    assert json.loads(plain["fields"]) == {"force_avatar": "User Avatars/1727353911000-rhys.png"}


def test_metadata_has_the_same_fields_and_types_in_every_chat():
    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(value[0])]
        return type(value).__name__

    shapes = {json.dumps(shape(chat(name).extra["sillytavern"]), sort_keys=True) for name in GOOD}
    assert len(shapes) == 1
    assert "null" not in next(iter(shapes)) and "NoneType" not in next(iter(shapes))


def test_decode_a_group_chat():
    conv = chat("saltmere-group")
    assert [(t.role, t.name) for t in conv.turns] == [
        (ASSISTANT, "Mira"),
        (ASSISTANT, "Old Tam"),
        (USER, "Captain Rhys"),
        (ASSISTANT, "Mira"),
        (ASSISTANT, "Old Tam"),
        (USER, "Captain Rhys"),
        (ASSISTANT, "Old Tam"),
    ]
    meta = conv.extra["sillytavern"]
    assert meta["chat_type"] == "group" and meta["user_name"] == "unused" and meta["create_date"] == ""
    assert json.loads(meta["messages"][0]["fields"])["original_avatar"] == "Mira.png"


def test_decode_an_old_group_chat_without_a_header_leaves_out_system_and_narrator_messages():
    conv = chat("headerless-group")
    assert [(t.role, t.name) for t in conv.turns] == [(ASSISTANT, "Old Tam"), (USER, "Captain Rhys"), (ASSISTANT, "Mira")]
    assert conv.notes == ["left out 1 system message(s)", "left out 1 narrator message(s)"]
    meta = conv.extra["sillytavern"]
    assert meta["chat_type"] == "group"
    assert (meta["user_name"], meta["character_name"], meta["chat_metadata"], meta["create_date_raw"]) == ("", "", "{}", "")


def test_a_greeting_only_chat_is_one_assistant_turn():
    conv = chat("greeting-only")
    assert [(t.role, t.name) for t in conv.turns] == [(ASSISTANT, "Mira")]
    assert conv.turns[0].content.startswith("*wipes the counter*")  # swipe_id 1: the alternate greeting shown


def test_iso_dates():
    meta = chat("iso-dates").extra["sillytavern"]
    assert meta["create_date"] == "2025-10-02T19:30:05.000Z"
    assert [m["send_date"] for m in meta["messages"]] == ["2025-10-02T19:30:05.120Z", "2025-10-02T19:31:40.002Z", "2025-10-02T19:32:10.000Z"]
    assert meta["messages"][2]["send_date_raw"] == '"2025-10-02T21:32:10+02:00"'


def test_old_dates_epoch_numbers_and_humanized_forms():
    meta = chat("old-style").extra["sillytavern"]
    assert meta["create_date"] == "2023-06-19T20:13:44.512"
    assert meta["create_date_raw"] == '"2023-6-19 @20h 13m 44s 512ms"'
    assert meta["chat_metadata"] == "{}"
    assert [m["send_date"] for m in meta["messages"]] == ["2023-06-19T20:13:44.512Z", "2023-06-19T20:14:48.020Z", "2023-06-19T20:14:00.000"]
    assert [m["send_date_raw"] for m in meta["messages"]] == ["1687205624512", "1687205688020", '"June 19, 2023 8:14pm"']
    assert json.loads(meta["messages"][0]["fields"]) == {"is_name": True}
    assert meta["messages"][0]["extra"] == "{}"


@pytest.mark.parametrize(
    "value, iso",
    [
        ("September 26, 2025 4:04pm", "2025-09-26T16:04:00.000"),
        ("June 1, 2023 12:05am", "2023-06-01T00:05:00.000"),
        ("June 1, 2023 12:05pm", "2023-06-01T12:05:00.000"),
        ("Jun 18, 2026 3:42 PM", "2026-06-18T15:42:00.000"),
        ("2024-7-12@01h31m37s", "2024-07-12T01:31:37.000"),
        ("2024-6-5 @14h 56m 50s 682ms", "2024-06-05T14:56:50.682"),
        ("2024-6-5 @14h 56m 50s 05ms", "2024-06-05T14:56:50.005"),
        (1687205624512, "2023-06-19T20:13:44.512Z"),
        ("1687205624512", "2023-06-19T20:13:44.512Z"),
        (1695744240, "2023-09-26T16:04:00.000Z"),  # seconds
        (1695744240.5, "2023-09-26T16:04:00.500Z"),
        ("2025-10-02T19:30:05.120Z", "2025-10-02T19:30:05.120Z"),
        ("2025-10-02T21:30:05+02:00", "2025-10-02T19:30:05.000Z"),
        ("2025-10-02T19:30:05", "2025-10-02T19:30:05.000"),
        ("February 30, 2024 1:00pm", ""),
        ("Smarch 3, 2024 1:00pm", ""),
        ("13:00pm", ""),
        ("yesterday", ""),
        ("", ""),
        (None, ""),
        (True, ""),
        (-5, ""),
        ({"when": "now"}, ""),
    ],
)
def test_iso_date(value, iso):
    assert iso_date(value) == iso


def test_when_mes_and_the_shown_swipe_differ_mes_wins_with_a_note():
    data = lines(HEADER, mira("Door."), user("Evening."), mira("Stew's on, edited.", swipe_id=1, swipes=["Sit.", "Stew's on."]))
    (_, record), = read_bytes(data)
    conv = SillyTavern().decode(record)
    assert conv.turns[-1].content == "Stew's on, edited."
    assert conv.notes == ["used 'mes' where it differs from the shown swipe (1 message(s))"]


def test_a_message_without_a_name_takes_the_header_name_unless_unused():
    (_, record), = read_bytes(lines(HEADER, {"is_user": False, "mes": "Door."}, {"is_user": True, "mes": "Evening."}))
    assert [t.name for t in SillyTavern().decode(record).turns] == ["Mira", "Captain Rhys"]
    group = {"chat_metadata": {}, "user_name": "unused", "character_name": "unused"}
    (_, record), = read_bytes(lines(group, {"is_user": False, "mes": "Door."}))
    assert SillyTavern().decode(record).turns[0].name is None


@pytest.mark.parametrize(
    "rows, message",
    [
        ([HEADER], "the chat has no messages, only a header"),
        ([HEADER, mira("Hidden.", is_system=True), user("Also hidden.", is_system=True)], "no dialogue: all 2 message(s) are system or narrator messages"),
        ([HEADER, mira(None)], "line 2: 'mes' must be a string, got null"),
        ([HEADER, user("Hi."), mira("Door.", name=["Mira"])], "line 3: 'name' must be a string, got an array"),
    ],
)
def test_decode_refuses_chats_it_cannot_use(rows, message):
    (_, record), = read_bytes(lines(*rows))
    with pytest.raises(RecordError) as err:
        SillyTavern().decode(record)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "record",
    [
        [],
        {"header": None},
        {"header": "Mira", "messages": []},
        {"header": None, "messages": [{"mes": "Door."}]},
    ],
)
def test_decode_refuses_records_read_did_not_make(record):
    with pytest.raises(RecordError):
        SillyTavern().decode(record)


def test_a_chat_survives_conversion_to_sharegpt_and_back():
    for name in GOOD:
        conv = chat(name)
        back = ShareGPT().decode(json.loads(json.dumps(ShareGPT().encode(conv), ensure_ascii=False)))
        assert [(t.role, t.name, t.content) for t in back.turns] == [(t.role, t.name, t.content) for t in conv.turns]
        assert back.extra == conv.extra


# -- configure -----------------------------------------------------------------


def test_configure_returns_a_configured_copy():
    fmt = SillyTavern()
    assert fmt.swipes == "keep"
    assert fmt.configure() is fmt and fmt.configure(swipes=None) is fmt
    dpo = fmt.configure(swipes="dpo")
    assert isinstance(dpo, SillyTavern) and dpo.swipes == "dpo" and fmt.swipes == "keep"
    assert fmt.configure(swipes="keep").swipes == "keep"


def test_configure_refuses_what_it_does_not_know():
    with pytest.raises(UsageError, match="--swipes takes keep or dpo, not 'all'"):
        SillyTavern().configure(swipes="all")
    with pytest.raises(UsageError, match="format 'sillytavern' takes no option speaker"):
        SillyTavern().configure(speaker="Mira")


# -- swipes as preference pairs --------------------------------------------------

DPO = SillyTavern().configure(swipes="dpo")


def pairs(name: str) -> list:
    return [(location, DPO.decode(record)) for location, record in read(fixture(name), DPO)]


def test_dpo_gives_one_pair_per_rejected_swipe_at_the_line_of_its_message():
    found = pairs("mira-swipes")
    assert [loc.line for loc, _ in found] == [4, 4, 9]
    assert [c.extra["sillytavern"]["rejected_swipe"] for _, c in found] == [0, 2, 1]
    swipes = json.loads(fixture("mira-swipes").read_text(encoding="utf-8").split("\n")[3])["swipes"]
    first, second, last = (c for _, c in found)
    for conv in (first, second):
        assert [(t.role, t.name) for t in conv.turns] == [(ASSISTANT, "Mira"), (USER, "Captain Rhys")]
        assert conv.preference.chosen.content == swipes[1]  # the shown one
        assert (conv.preference.chosen.role, conv.preference.chosen.name) == (ASSISTANT, "Mira")
        assert (conv.preference.rejected.role, conv.preference.rejected.name) == (ASSISTANT, "Mira")
        assert conv.kind == "preference"
    assert (first.preference.rejected.content, second.preference.rejected.content) == (swipes[0], swipes[2])
    assert len(last.turns) == 6 and last.turns[-1].role == USER  # the hidden line 5 left out of the prompt
    assert last.preference.rejected.content == "{{char}} doesn't smile. *pockets the coins anyway* Eat your stew."


def test_dpo_metadata_ends_with_the_swiped_message():
    (_, conv), *_ = pairs("mira-swipes")
    meta = conv.extra["sillytavern"]
    assert [m["line"] for m in meta["messages"]] == [2, 3, 4]
    assert meta["messages"][-1]["swipe_id"] == 1 and meta["chat_type"] == "single"


def test_swipes_on_the_greeting_are_alternate_greetings_and_give_no_pair():
    found = pairs("mira-swipes")
    assert found[0][1].notes == ["no preference pair from the swipes on a greeting, with no user turn before it (1 message(s))"]
    assert found[1][1].notes == []  # said once per chat
    assert found[2][1].notes == ["left out 1 system message(s)"]
    assert pairs("greeting-only") == []  # nothing else to pair: no record at all


def test_dpo_in_a_group_chat_pairs_only_replies_to_the_user():
    found = pairs("saltmere-group")
    assert [loc.line for loc, _ in found] == [8]  # line 6 follows Mira's turn; line 8 has an empty swipe
    conv = found[0][1]
    assert conv.turns[-1].role == USER
    assert conv.preference.chosen.name == conv.preference.rejected.name == "Old Tam"
    assert conv.preference.rejected.content.startswith("Where else would I be?")
    assert conv.extra["sillytavern"]["chat_type"] == "group"
    assert conv.notes == [
        "no preference pair from the swipes on a reply that follows another character's turn (1 message(s))",
        "skipped 1 swipe(s) that are empty or repeat the shown reply or another swipe",
    ]


def test_dpo_skips_swipes_that_repeat_the_shown_reply_or_each_other():
    data = lines(HEADER, mira("Door."), user("Evening."), mira("Sit.", swipe_id=1, swipes=["Stew?", "Sit.", "Stew?", "Sit.", "  "]))
    found = read_bytes(data, DPO)
    assert [(loc.line, rec["rejected_swipe"]) for loc, rec in found] == [(4, 0)]
    assert DPO.decode(found[0][1]).notes == ["skipped 3 swipe(s) that are empty or repeat the shown reply or another swipe"]


def test_dpo_reads_nothing_from_a_chat_without_swipes():
    assert pairs("no-final-newline") == []
    assert pairs("old-style") == []


def test_a_preference_record_needs_a_user_turn_right_before_the_swiped_reply():
    record = {
        "header": HEADER,
        "messages": [{"line": 2, "message": mira("Door.", swipe_id=0, swipes=["Door.", "Sit."])}],
        "rejected_swipe": 1,
    }
    with pytest.raises(RecordError, match="line 2: a preference pair needs a user turn right before the swiped reply"):
        DPO.decode(record)
    record["rejected_swipe"] = 5
    with pytest.raises(RecordError, match="line 2: no swipe 5 to reject"):
        DPO.decode(record)


# -- the samples ------------------------------------------------------------------


def pairs_in(path: Path) -> list:
    return [DPO.decode(record) for _, record in read(path, DPO)]


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.jsonl")), ids=lambda p: p.name)
def test_samples_are_realistic_chats(path):
    (_, record), = read(path)
    assert 10 <= len(record["messages"]) <= 20
    assert not path.read_bytes().endswith(b"\n")
    conv = SillyTavern().decode(record)
    assert conv.turns[0].role == ASSISTANT  # the greeting comes first
    assert sum("swipes" in m["message"] for m in record["messages"]) >= 2
    assert pairs_in(path)


# -- datasets ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["keep", "dpo"])
def test_converted_chats_load_together_with_datasets(tmp_path, mode):
    datasets = pytest.importorskip("datasets")
    fmt = SillyTavern().configure(swipes=mode)
    sources = [fixture(n) for n in GOOD] + sorted(SAMPLES.glob("*.jsonl"))
    files, expected = [], 0
    for i, source in enumerate(sources):
        records = [ShareGPT().encode(fmt.decode(record)) for _, record in read(source, fmt)]
        if not records:
            continue
        out = tmp_path / f"{i:02d}-{source.stem.replace(' ', '_')}.jsonl"
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        files.append(str(out))
        expected += len(records)
    assert len(files) >= 4
    # each file is typed on its own and cast to the first one's types, so try both orders
    for order in (files, files[::-1]):
        ds = datasets.load_dataset("json", data_files=order, split="train", cache_dir=str(tmp_path / "cache"))
        assert ds.num_rows == expected
        meta = ds.features["sillytavern"]
        assert meta["rejected_swipe"].dtype == "int64"
        assert {k: v.dtype for k, v in meta["messages"].feature.items()} == {
            "line": "int64",
            "name": "string",
            "send_date": "string",
            "send_date_raw": "string",
            "swipe_id": "int64",
            "swipes": "string",
            "swipe_info": "string",
            "extra": "string",
            "fields": "string",
        }


def test_every_greeting_of_a_group_chat_is_a_greeting_for_dpo():
    group = {"chat_metadata": {}, "user_name": "unused", "character_name": "unused"}
    tam = {"name": "Old Tam", "is_user": False, "mes": "Evenin'.", "swipe_id": 0, "swipes": ["Evenin'.", "Knees say rain."]}
    data = lines(group, mira("Door.", swipe_id=0, swipes=["Door.", "Sit."]), tam, user("Drinks!"), mira("Pouring.", swipe_id=0, swipes=["Pouring.", "Coin first."]))
    found = read_bytes(data, DPO)
    assert [loc.line for loc, _ in found] == [5]
    assert DPO.decode(found[0][1]).notes == ["no preference pair from the swipes on a greeting, with no user turn before it (2 message(s))"]
