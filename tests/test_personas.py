"""Personas: the folder (cards and YAML), linking records to them, and
placeholders expanded on export."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, read_records, run_cli

from augment.corpus import personas
from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.errors import AugmentError

FOLDER = ROOT / "personas"


def test_the_shipped_personas_load_and_keep_every_card_field():
    found = personas.load_all(str(FOLDER))
    assert {"mira", "lin-shuang", "juniper", "okafor"} <= set(found)
    mira = found["mira"]
    raw = json.loads((FOLDER / "mira.json").read_text())
    assert mira.card() == raw  # unknown and empty fields included
    assert mira.expand("{{char}} greets {{user}}", "Rhys") == "Mira greets Rhys"
    assert found["juniper"].source.endswith("juniper.yaml")
    assert "Personality: friendly" in found["juniper"].facts()


def test_records_link_by_field_by_speaker_name_and_by_system_prompt():
    found = personas.load_all(str(FOLDER))
    by_field = Conversation([Turn(USER, "hi"), Turn(ASSISTANT, "hello")], extra={"persona": "okafor"})
    by_speaker = Conversation([Turn(USER, "hi"), Turn(ASSISTANT, "（点头）", name="林霜")])
    by_system = Conversation([Turn(SYSTEM, "You are Mira, the sharp-tongued keeper."), Turn(USER, "hi"), Turn(ASSISTANT, "What?")])
    nobody = Conversation([Turn(SYSTEM, "You are Admira, a ship."), Turn(USER, "hi"), Turn(ASSISTANT, "hello")])
    assert personas.link(by_field, found).id == "okafor"
    assert personas.link(by_speaker, found).id == "lin-shuang"
    assert personas.link(by_system, found).id == "mira"
    assert personas.link(nobody, found) is None  # whole words only


def test_bad_persona_files_are_reported_with_file_and_line(tmp_path):
    (tmp_path / "broken.yaml").write_text("name: Tam\ndescription: [unclosed\n")
    with pytest.raises(AugmentError, match=r"broken.yaml:\d+: invalid YAML"):
        personas.load_all(str(tmp_path))
    (tmp_path / "broken.yaml").write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(AugmentError, match="invalid YAML"):  # safe_load refuses to build objects
        personas.load_all(str(tmp_path))


def test_personas_commands(tmp_path):
    listing = run_cli("personas", "list", "--dir", str(FOLDER)).stdout.decode()
    assert "mira" in listing and "Professor Okafor" in listing
    shown = json.loads(run_cli("personas", "show", "lin-shuang", "--dir", str(FOLDER)).stdout)
    assert shown["data"]["name"] == "林霜" and shown["spec"] == "chara_card_v2"
    v1 = tmp_path / "tam.json"
    v1.write_text(json.dumps({"name": "Old Tam", "description": "A retired fisherman.", "first_mes": "Eh?", "x_extra": 1}))
    done = run_cli("personas", "import", str(v1), "--dir", str(tmp_path / "p"))
    assert done.returncode == 0, done.stderr.decode()
    card = json.loads((tmp_path / "p" / "old-tam.json").read_text())
    assert card["spec"] == "chara_card_v2" and card["data"]["x_extra"] == 1 and card["data"]["first_mes"] == "Eh?"
    missing = run_cli("personas", "show", "nobody", "--dir", str(FOLDER))
    assert missing.returncode == 1 and "no persona 'nobody' (known: juniper, lin-shuang, mira, okafor)" in missing.stderr.decode()


def test_placeholders_are_expanded_on_export_when_asked(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"system": "You are Mira, keeper of the tavern.", "conversations": [{"from": "human", "value": "Hello {{char}}, I am {{user}}."}, {"from": "gpt", "value": "Welcome, <USER>. <BOT> at your service."}]}) + "\n")
    out = tmp_path / "out.jsonl"
    done = run_cli("convert", str(src), "--to", "openai", "-o", str(out), "--expand-placeholders", "--user-name", "Rhys", "-q")
    assert done.returncode == 0, done.stderr.decode()
    [record] = read_records(out)
    assert [m["content"] for m in record["messages"][1:]] == ["Hello Mira, I am Rhys.", "Welcome, Rhys. Mira at your service."]
    plain = tmp_path / "plain.jsonl"
    run_cli("convert", str(src), "--to", "openai", "-o", str(plain), "-q")
    assert "{{char}}" in plain.read_text()


def test_a_chinese_name_in_the_system_prompt_links_its_persona():
    found = personas.load_all(str(ROOT / "personas"))
    conv = Conversation([Turn(SYSTEM, "你是林霜，江湖客栈的掌柜。"), Turn(USER, "掌柜的，来壶酒。"), Turn(ASSISTANT, "好。")])
    assert personas.link(conv, found).id == "lin-shuang"
    latin = Conversation([Turn(SYSTEM, "You are Miranda's cousin."), Turn(USER, "hi"), Turn(ASSISTANT, "hello")])
    assert personas.link(latin, found) is None  # Latin names still match whole words only


def test_yaml_personas_are_parsed_once_until_the_file_changes(tmp_path, monkeypatch):
    import yaml

    from augment.corpus import yaml_cards

    monkeypatch.setenv("AUGMENT_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "p"
    folder.mkdir()
    card = folder / "tam.yaml"
    card.write_text("name: Old Tam\ndescription: A retired fisherman.\ntags: [sea, 'old']\nx_count: 3\n")
    (folder / "born.yaml").write_text("name: Wren\ncreate_date: 2024-05-01\n")  # a date: JSON has no such value
    parsed = []
    real = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda text: parsed.append(text) or real(text))

    first = personas.load_all(str(folder))
    assert len(parsed) == 2
    again = personas.load_all(str(folder))
    assert len(parsed) == 3  # the dated card only: tam's came from the cache
    assert again["tam"].card() == first["tam"].card() and again["tam"].data["tags"] == ["sea", "old"]
    assert again["born"].data["create_date"] == first["born"].data["create_date"]

    card.write_text("name: Old Tam\ndescription: A retired fisherman, now a ferryman.\n")  # another size
    changed = personas.load_all(str(folder))
    assert changed["tam"].data["description"].endswith("ferryman.") and "tags" not in changed["tam"].data
    assert len(parsed) == 5

    (tmp_path / "cache").rename(tmp_path / "gone")
    (tmp_path / "cache").write_text("not a folder")  # a cache that cannot be written: parsed each time
    assert personas.load_all(str(folder))["tam"].card() == changed["tam"].card()
    assert yaml_cards.load(card)["name"] == "Old Tam"
