"""Character cards: the ``card`` format (examples and greetings as
conversations), and ``augment personas import/export/show`` with v1, v2 and
v3 cards in JSON and PNG. The fixtures are in tests/data/cards (written by
make_cards.py there)."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from augment import ASSISTANT, SYSTEM, USER, Conversation, RecordError, Turn
from augment.corpus import personas
from augment.dataio.validation import repair
from augment.plugins import registry
from augment_plugins.card_dialogues import CardDialogues, story_string
from augment_plugins.card_files import png_texts

CARDS = ROOT / "tests" / "data" / "cards"
FIXTURES = ["bram.v1.json", "wren.v2.json", "isolde.v3.json", "wren.v2.png", "isolde.v3.png"]
V2_REQUIRED = ["name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes", "system_prompt",
               "post_history_instructions", "alternate_greetings", "tags", "creator", "character_version", "extensions"]


def read(path: Path, fmt=None) -> list[tuple[int, Conversation]]:
    fmt = fmt or CardDialogues()
    with open(path, "rb") as fh:
        return [(loc.line, fmt.decode(record)) for loc, record in fmt.read(fh, str(path))]


def blocks(path: Path) -> list[str]:
    return [conv.extra["block"] for _, conv in read(path)]


def turns(conv: Conversation) -> list[tuple[str, str | None, str]]:
    return [(t.role, t.name, t.content) for t in conv.turns]


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + body)
        out.append((kind, body))
        pos += 12 + length
    return out


def card_in(png: bytes, key: str) -> dict:
    return json.loads(base64.b64decode(png_texts(png)[key]).decode("utf-8"))


def st_accepts(card: dict) -> int | None:
    """Which spec SillyTavern's TavernCardValidator would accept ``card`` as
    (2 or 3), by the rules it checks for v2 and v3 cards."""
    data = card.get("data")
    if card.get("spec") == "chara_card_v2" and card.get("spec_version") == "2.0" and isinstance(data, dict):
        ok = all(k in data for k in V2_REQUIRED)
        ok = ok and isinstance(data["alternate_greetings"], list) and isinstance(data["tags"], list) and isinstance(data["extensions"], dict)
        book = data.get("character_book")
        if book:
            ok = ok and "extensions" in book and isinstance(book.get("entries"), list)
        return 2 if ok else None
    if card.get("spec") == "chara_card_v3" and 3.0 <= float(card.get("spec_version", 0)) < 4.0 and isinstance(data, dict):
        return 3
    return None


# -- the card format ---------------------------------------------------------------------


def test_the_card_format_is_registered_and_input_only():
    fmt = registry().formats["card"]
    assert isinstance(fmt, CardDialogues) and fmt.writable is False
    conv = read(CARDS / "wren.v2.json", fmt)[0][1]
    assert conv.extra == {"card": "Wren Alder", "block": "mes_example 1"}


@pytest.mark.parametrize("name", FIXTURES)
def test_it_claims_card_files(name):
    path = CARDS / name
    assert CardDialogues().sniff(str(path), path.read_bytes()[: 1 << 16])


def test_it_leaves_other_files_alone(tmp_path):
    fmt = CardDialogues()
    others = [CARDS / "fernwick.lorebook.json", ROOT / "samples" / "tavern.sharegpt.jsonl", ROOT / "samples" / "tutor.alpaca.json", CARDS / "make_cards.py"]
    plain = tmp_path / "avatar.png"  # a PNG without a card
    plain.write_bytes(png_without_texts(CARDS / "wren.v2.png"))
    package = tmp_path / "package.json"
    package.write_text('{"name": "left-pad", "description": "pads strings"}')
    for path in [*others, plain, package]:
        assert not fmt.sniff(str(path), path.read_bytes()[: 1 << 16]), path


def png_without_texts(path: Path) -> bytes:
    data = path.read_bytes()
    kept = [(k, b) for k, b in chunks(data) if k != b"tEXt"]
    return b"\x89PNG\r\n\x1a\n" + b"".join(struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b)) for k, b in kept)


def test_one_conversation_per_example_block_and_per_greeting():
    assert blocks(CARDS / "bram.v1.json") == ["mes_example 1", "mes_example 2", "mes_example 3", "first_mes"]  # v1: no alternate greetings
    expected = ["mes_example 1", "mes_example 2", "mes_example 3", "first_mes", "alternate_greetings 1", "alternate_greetings 2"]
    for name in ("wren.v2.json", "wren.v2.png", "isolde.v3.json", "isolde.v3.png"):
        assert blocks(CARDS / name) == expected, name


def test_json_records_point_at_the_line_of_their_field_and_png_records_at_line_1():
    lines = [line for line, _ in read(CARDS / "wren.v2.json")]
    assert lines == [10, 10, 10, 9, 15, 16]
    text = (CARDS / "wren.v2.json").read_text().split("\n")
    assert text[9].lstrip().startswith('"mes_example"') and text[14].lstrip().startswith('"*counting coins')
    assert [line for line, _ in read(CARDS / "bram.v1.json")] == [7, 7, 7, 6]
    assert {line for line, _ in read(CARDS / "isolde.v3.png")} == {1}


def test_png_and_json_cards_give_the_same_conversations():
    for stem in ("wren.v2", "isolde.v3"):
        from_json = [turns(c) for _, c in read(CARDS / f"{stem}.json")]
        from_png = [turns(c) for _, c in read(CARDS / f"{stem}.png")]
        assert from_json == from_png


def test_the_system_prompt_is_sillytaverns_default_story_string():
    wren = read(CARDS / "wren.v2.json")[0][1]
    assert wren.turns[0].role == SYSTEM
    assert wren.system == (
        "{{char}} is the herbalist of Fernwick, a river village at the edge of the Hollin Wood. Her shop smells of thyme "
        "and woodsmoke; jars line every wall, each labelled in a cramped hand.\n"
        "{{char}}'s personality: calm, dry-humoured, exacting about doses; kind, but never flatters\n"
        "Scenario: {{user}} comes into the shop on a rainy afternoon, looking for a remedy."
    )
    # the card's system prompt comes first; {{original}} (the user's own prompt) is dropped
    isolde = read(CARDS / "isolde.v3.json")[0][1].system.split("\n")
    assert isolde[0] == "You are {{char}}. Stay in character and put actions between asterisks."
    assert isolde[1].startswith("{{char}} is the navigator of the Kestrel")
    assert isolde[2].startswith("{{char}}'s personality: precise, wry")
    assert isolde[3].startswith("Scenario: Night watch aboard the Kestrel.")
    assert len(isolde) == 4  # no post_history_instructions, creator notes, tags ...
    # empty fields leave no line; nothing at all leaves no system turn
    assert story_string({"name": "X", "description": "  ", "scenario": "A fog.", "system_prompt": "{{original}}"}) == "Scenario: A fog."
    bare = CardDialogues().decode({"card": {"name": "X"}, "block": "first_mes", "greeting": "Hello."})
    assert turns(bare) == [(ASSISTANT, "X", "Hello.")]


def test_example_blocks_split_into_turns():
    bram = [c for _, c in read(CARDS / "bram.v1.json")]
    # text before the first <START> is a block; a line without a speaker continues the utterance
    assert turns(bram[0])[1:] == [
        (USER, None, "What do you write in the log?"),
        (ASSISTANT, "Bram Cully", "Every ship. Name, heading, hour. *taps the page*\nIf one goes down, I want to know I saw it last."),
    ]
    # <USER>/<BOT> speakers; two lines of one speaker are one turn
    assert turns(bram[1])[1:] == [
        (USER, None, "Can I trim the wick tonight?"),
        (ASSISTANT, "Bram Cully", "You can watch me trim it.\nNext week you can watch me again."),
    ]
    # the character's own name as speaker; narration before the first speaker opens the first turn
    assert turns(bram[2])[1:] == [
        (ASSISTANT, "Bram Cully", "*Wind rattles the glass of the lantern room.*\nHear that? The nor'easter, knocking."),
        (USER, None, "It's only the wind."),
        (ASSISTANT, "Bram Cully", "It's never only the wind."),
    ]
    wren = [c for _, c in read(CARDS / "wren.v2.json")]
    assert [t.role for t in wren[0].dialogue] == [USER, ASSISTANT, USER, ASSISTANT]
    assert wren[0].turns[-1].content == "Then thyme and honey, not mullein. (She is already reaching for the jar.)\nSteep it covered, or the good part goes up with the steam."
    assert [t.role for t in wren[1].dialogue] == [ASSISTANT, USER, ASSISTANT]  # an example may open with the character


def test_placeholders_stay_as_written_and_records_link_to_the_persona():
    conv = read(CARDS / "isolde.v3.json")[0][1]
    assert "{{char}}" in conv.system and "{{user}}" in conv.system
    card = json.loads((CARDS / "isolde.v3.json").read_text())
    known = {"isolde": personas.card_to_persona(card, "isolde"), "wren": personas.card_to_persona(json.loads((CARDS / "wren.v2.json").read_text()), "wren")}
    persona = personas.link(conv, known)
    assert persona.id == "isolde"
    assert persona.expand(conv.system, "Rhys").startswith("You are Isolde Marr. ")


def test_speakers_match_in_any_case_and_with_a_full_width_colon():
    record = {"card": {"name": "林霜"}, "block": "mes_example 1", "text": "{{User}}: 有酒吗？\n林霜：（点头）有。\n<bot>: 温的。"}
    conv = CardDialogues().decode(record)
    assert turns(conv) == [(USER, None, "有酒吗？"), (ASSISTANT, "林霜", "（点头）有。\n温的。")]


def test_greetings_are_openers_that_the_greeting_policy_shapes():
    convs = [c for _, c in read(CARDS / "wren.v2.png")]
    first, alt = convs[3], convs[5]
    assert first.extra == {"card": "Wren Alder", "block": "first_mes"}
    assert turns(first)[1:] == [(ASSISTANT, "Wren Alder", "*looks up from a bundle of drying yarrow* Shut the door, the rain's after my feverfew. What ails you?")]
    assert alt.extra["block"] == "alternate_greetings 2" and alt.turns[1].content.startswith("*kneeling in the herb bed")
    inserted = first.copy()
    repair(inserted, "insert-user", "Hello.")
    assert [t.role for t in inserted.turns] == [SYSTEM, USER, ASSISTANT]
    folded = first.copy()
    repair(folded, "fold-into-system")
    assert [t.role for t in folded.turns] == [SYSTEM] and folded.system.endswith("What ails you?")


def test_a_v3_png_is_read_from_its_ccv3_chunk(tmp_path):
    data = (CARDS / "isolde.v3.png").read_bytes()
    v3 = card_in(data, "ccv3")
    stale = {**v3, "spec": "chara_card_v2", "spec_version": "2.0", "data": {**v3["data"], "first_mes": "stale v2 copy"}}
    path = tmp_path / "isolde.png"
    path.write_bytes(make_png({"chara": stale, "ccv3": v3}))
    greeting = read(path)[3][1]
    assert greeting.turns[-1].content.startswith("*doesn't look up from the chart table*")


def make_png(cards: dict[str, dict]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    texts = b"".join(chunk(b"tEXt", k.encode() + b"\0" + base64.b64encode(json.dumps(c).encode())) for k, c in cards.items())
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + texts + chunk(b"IEND", b"")


def test_pygmalion_cards_and_cards_bigger_than_the_sniffed_head(tmp_path):
    gradio = tmp_path / "tam.json"
    gradio.write_text(json.dumps({"char_name": "Old Tam", "char_persona": "A retired fisherman.", "char_greeting": "Eh?",
                                  "example_dialogue": "<START>\n{{user}}: Evening.\nOld Tam: Eh?"}))
    fmt = CardDialogues()
    assert fmt.sniff(str(gradio), gradio.read_bytes())
    convs = [c for _, c in read(gradio)]
    assert [c.extra["block"] for c in convs] == ["mes_example 1", "first_mes"] and convs[0].system == "A retired fisherman."
    assert turns(convs[0])[1:] == [(USER, None, "Evening."), (ASSISTANT, "Old Tam", "Eh?")]
    big = json.loads((CARDS / "wren.v2.json").read_text())
    big["data"]["character_book"]["entries"] *= 600
    spec_last = {"data": big["data"], "spec": big["spec"], "spec_version": big["spec_version"]}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(spec_last, indent=2))
    head = path.read_bytes()[: 1 << 16]
    assert len(path.read_bytes()) > len(head) and fmt.sniff(str(path), head)
    assert len(read(path)) == 6


def test_what_cannot_be_read_is_a_record_error(tmp_path):
    fmt = CardDialogues()
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Nobody", "description": "Quiet.", "mes_example": "<START>\n", "alternate_greetings": [" "]}}))
    with pytest.raises(RecordError, match=r"the card 'Nobody' has no example dialogues \(mes_example\) and no greetings"):
        list(fmt.read(empty.open("rb"), str(empty)))
    with pytest.raises(RecordError, match="not a character card: this looks like a lorebook"):
        list(fmt.read((CARDS / "fernwick.lorebook.json").open("rb"), "lore.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"spec": "chara_card_v2",\n "data": {"name": "X",}}')
    with pytest.raises(RecordError, match="invalid JSON") as caught:
        list(fmt.read(broken.open("rb"), str(broken)))
    assert caught.value.line == 2
    with pytest.raises(RecordError, match="no character card in this PNG"):
        list(fmt.read(io.BytesIO(png_without_texts(CARDS / "wren.v2.png")), "plain.png"))
    with pytest.raises(RecordError, match=r"mes_example 1: no '\{\{user\}\}:' or '\{\{char\}\}:' lines"):
        fmt.decode({"card": {"name": "X"}, "block": "mes_example 1", "text": "Just some narration."})
    with pytest.raises(RecordError, match="^missing field 'card'"):  # what the core's format detection expects
        fmt.decode({"conversations": []})


# -- personas: import, export, show ---------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Every fixture imported into one personas folder, with ids like wren-v2-png."""
    root = tmp_path_factory.mktemp("personas")
    for name in FIXTURES:
        done = run_cli("personas", "import", str(CARDS / name), "--dir", str(root), "--id", name.replace(".", "-"))
        assert done.returncode == 0, done.stderr.decode()
    return root


def export(folder: Path, key: str, out: Path) -> bytes:
    done = run_cli("personas", "export", key, "--dir", str(folder), "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    return out.read_bytes()


def test_a_v1_card_is_imported_as_a_valid_v2_card(folder):
    stored = json.loads((folder / "bram-v1-json.json").read_text())
    assert st_accepts(stored) == 2
    data = stored["data"]
    assert data["alternate_greetings"] == [] and data["extensions"] == {} and data["system_prompt"] == ""
    assert data["creator_notes"] == "Written for the augment tests: a v1 card."  # from creatorcomment, as SillyTavern maps it
    assert data["avatar"] == "none" and data["create_date"] == "2024-11-02@14h05m11s"  # unknown keys kept
    assert data["mes_example"] == json.loads((CARDS / "bram.v1.json").read_text())["mes_example"]


def test_v2_and_v3_cards_are_imported_exactly(folder):
    for source, ids in (("wren.v2.json", ("wren-v2-json", "wren-v2-png")), ("isolde.v3.json", ("isolde-v3-json", "isolde-v3-png"))):
        card = json.loads((CARDS / source).read_text())
        for id in ids:
            assert json.loads((folder / f"{id}.json").read_text()) == card, id


@pytest.mark.parametrize("id,source", [("bram-v1-json", None), ("wren-v2-json", "wren.v2.json"), ("isolde-v3-json", "isolde.v3.json"),
                                       ("wren-v2-png", "wren.v2.json"), ("isolde-v3-png", "isolde.v3.json")])
def test_export_gives_back_the_card_imported(folder, tmp_path, id, source):
    expected = json.loads((CARDS / source).read_text()) if source else json.loads((folder / f"{id}.json").read_text())
    as_json = json.loads(export(folder, id, tmp_path / "card.json"))
    assert as_json == expected
    png = export(folder, id, tmp_path / "card.png")
    texts = png_texts(png)
    if expected["spec"] == "chara_card_v3":
        assert st_accepts(expected) == 3 and list(texts)[-2:] == ["chara", "ccv3"]
        assert card_in(png, "ccv3") == expected
        assert card_in(png, "chara") == {**expected, "spec": "chara_card_v2", "spec_version": "2.0"}
        assert st_accepts(card_in(png, "chara")) == 2
    else:
        assert st_accepts(expected) == 2 and "ccv3" not in texts
        assert card_in(png, "chara") == expected
    # and the PNG imports back to the same card
    again = tmp_path / "again"
    done = run_cli("personas", "import", str(tmp_path / "card.png"), "--dir", str(again), "--id", "x")
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads((again / "x.json").read_text()) == expected


def test_a_png_cards_picture_is_kept_beside_the_persona_and_reused(folder, tmp_path):
    original = (CARDS / "wren.v2.png").read_bytes()
    kept = (folder / "wren-v2-png.png").read_bytes()
    assert "chara" not in png_texts(kept) and png_texts(kept) == {"Title": "Wren Alder"}
    picture = [c for c in chunks(original) if c[0] in (b"IHDR", b"IDAT")]
    assert [c for c in chunks(kept) if c[0] in (b"IHDR", b"IDAT")] == picture
    out = export(folder, "wren-v2-png", tmp_path / "wren.png")
    assert [c for c in chunks(out) if c[0] in (b"IHDR", b"IDAT")] == picture
    assert [k for k, _ in chunks(out)][-2:] == [b"tEXt", b"IEND"]  # the card goes just before IEND
    assert not (folder / "wren-v2-json.png").exists()
    plain = export(folder, "wren-v2-json", tmp_path / "plain.png")  # no picture: a placeholder
    assert struct.unpack(">II", chunks(plain)[0][1][:8]) == (400, 600)


def test_export_fills_what_a_stored_card_lacks(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "tam.json").write_text(json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Old Tam", "tags": "fishing, old", "alternate_greetings": "Eh?", "character_version": 2,
        "character_book": {"entries": [{"keys": ["net"], "content": "Tam mends nets."}]}, "x_custom": [1, 2]}}))
    (root / "juno.json").write_text(json.dumps({"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "Juno"}}))
    card = json.loads(export(root, "tam", tmp_path / "tam.json"))
    assert st_accepts(card) == 2
    data = card["data"]
    assert data["tags"] == ["fishing", "old"] and data["alternate_greetings"] == ["Eh?"] and data["character_version"] == "2"
    assert data["x_custom"] == [1, 2] and data["extensions"] == {} and data["description"] == ""
    assert data["character_book"] == {"entries": [{"keys": ["net"], "content": "Tam mends nets.", "extensions": {}, "enabled": True, "insertion_order": 0}], "extensions": {}}
    v3 = json.loads(export(root, "juno", tmp_path / "juno.json"))
    assert v3["spec"] == "chara_card_v3" and v3["spec_version"] == "3.0"
    assert set(V2_REQUIRED) | {"group_only_greetings"} <= set(v3["data"]) and v3["data"]["group_only_greetings"] == []
    assert json.loads((root / "tam.json").read_text())["data"]["tags"] == "fishing, old"  # the stored card is left as it was


def test_the_shipped_personas_export_as_valid_cards():
    for persona in personas.load_all(str(ROOT / "personas")).values():
        assert st_accepts(persona.spec_card()) == 2, persona.id
    mira = personas.load_all(str(ROOT / "personas"))["mira"]
    assert mira.spec_card() == mira.card()  # already complete: nothing added


@pytest.mark.parametrize("content,looks_like", [
    (json.loads((CARDS / "fernwick.lorebook.json").read_text()), "a lorebook (SillyTavern world info"),
    ({"personas": {"user.png": "Rhys"}, "persona_descriptions": {"user.png": {"description": "A captain."}}, "default_persona": None}, "a SillyTavern persona backup"),
    ({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}, "a ShareGPT record"),
    ([{"instruction": "hi", "output": "hello"}], "a JSON array of 1 item(s); the first is an Alpaca record"),
    ({"spec": "lorebook_v3", "data": {"entries": []}}, "a lorebook"),
])
def test_importing_what_is_not_a_card_says_what_it_looks_like(tmp_path, content, looks_like):
    path = tmp_path / "thing.json"
    path.write_text(json.dumps(content))
    done = run_cli("personas", "import", str(path), "--dir", str(tmp_path / "p"))
    assert done.returncode == 1
    assert f"{path}: not a character card: this looks like {looks_like}" in done.stderr.decode()
    assert not (tmp_path / "p").exists()


def test_importing_a_chat_or_a_dataset_file_says_so(tmp_path):
    chat = tmp_path / "Wren Alder - 2024-11-02.jsonl"
    chat.write_text(json.dumps({"user_name": "You", "character_name": "Wren Alder", "create_date": "2024-11-02", "chat_metadata": {}}) + "\n"
                    + json.dumps({"name": "Wren Alder", "is_user": False, "mes": "Shut the door."}))
    done = run_cli("personas", "import", str(chat), "--dir", str(tmp_path / "p"))
    assert done.returncode == 1 and "this is JSON Lines, and its first line is a SillyTavern chat" in done.stderr.decode()
    done = run_cli("personas", "import", str(ROOT / "samples" / "tavern.sharegpt.jsonl"), "--dir", str(tmp_path / "p"))
    assert done.returncode == 1 and "its first line is a ShareGPT record" in done.stderr.decode()


def test_two_personas_with_one_name_are_told_apart_by_id(folder):
    shown = run_cli("personas", "show", "Wren Alder", "--dir", str(folder))
    assert shown.returncode == 1
    message = shown.stderr.decode()
    assert "2 personas are named 'Wren Alder': " in message and "name one by its id" in message
    assert f"wren-v2-json ({folder / 'wren-v2-json.json'})" in message and f"wren-v2-png ({folder / 'wren-v2-png.json'})" in message
    by_id = run_cli("personas", "show", "wren-v2-png", "--dir", str(folder))
    assert by_id.returncode == 0 and json.loads(by_id.stdout)["data"]["name"] == "Wren Alder"
    unique = run_cli("personas", "show", "bram cully", "--dir", str(folder))
    assert unique.returncode == 0 and json.loads(unique.stdout)["data"]["name"] == "Bram Cully"
    exported = run_cli("personas", "export", "Wren Alder", "--dir", str(folder), "-o", str(folder / "x.json"))
    assert exported.returncode == 1 and "name one by its id" in exported.stderr.decode()
    # linking records to personas is unchanged: the first of the namesakes
    found = personas.load_all(str(folder))
    conv = Conversation([Turn(USER, "hi"), Turn(ASSISTANT, "hello")], extra={"persona": "Wren Alder"})
    assert personas.link(conv, found).id == "wren-v2-json"


def test_export_says_what_it_cannot_write(folder, tmp_path):
    done = run_cli("personas", "export", "bram-v1-json", "--dir", str(folder), "-o", str(tmp_path / "bram.txt"))
    assert done.returncode == 1 and "cannot write .txt (persona exports: .json, .png)" in done.stderr.decode()
    missing = run_cli("personas", "export", "nobody", "--dir", str(folder), "-o", str(tmp_path / "x.json"))
    assert missing.returncode == 1 and "no persona 'nobody'" in missing.stderr.decode()


def test_replacing_a_png_persona_with_a_json_card_drops_the_old_picture(tmp_path):
    root = tmp_path / "p"
    assert run_cli("personas", "import", str(CARDS / "wren.v2.png"), "--dir", str(root)).returncode == 0
    assert (root / "wren-alder.png").exists()
    done = run_cli("personas", "import", str(CARDS / "wren.v2.json"), "--dir", str(root), "--force")
    assert done.returncode == 0, done.stderr.decode()
    assert not (root / "wren-alder.png").exists()


@pytest.mark.parametrize("text", [b"not base64 at all!", base64.b64encode(b"{not json"), base64.b64encode(b"\xff\xfe{}")])
def test_a_card_chunk_that_is_not_base64_json_says_so(text):
    from augment import AugmentError
    from augment_plugins.card_files import card_from_png

    png = make_png({})
    body = b"chara\0" + text
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    png = png[:-12] + chunk + png[-12:]  # before IEND
    with pytest.raises(AugmentError, match="the 'chara' chunk is not base64 JSON"):
        card_from_png(png)
