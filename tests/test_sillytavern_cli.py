"""SillyTavern chats through the real command: a folder of chat files in, one
conversation per file, swipes as preference pairs, and outputs LLaMA-Factory
can load (checked against its own code in test_llamafactory.py)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, read_records, run_cli

DATA = ROOT / "tests" / "data" / "sillytavern"
SAMPLES = ROOT / "samples" / "sillytavern"


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def test_a_folder_of_chats_is_read_one_conversation_per_file(tmp_path):
    out = tmp_path / "chats.jsonl"
    done = run_cli("convert", str(SAMPLES), "--to", "sharegpt", "-o", str(out), "--repair")
    assert done.returncode == 0, done.stderr.decode()
    records = read_records(out)
    assert len(records) == len(list(SAMPLES.glob("*.jsonl")))
    for record, path in zip(records, sorted(SAMPLES.glob("*.jsonl"))):
        chat = lines_of(path)
        header = chat[0] if "user_name" in chat[0] and "mes" not in chat[0] else None
        shown = [m for m in chat[1 if header else 0 :] if not m.get("is_system") and (m.get("extra") or {}).get("type") != "narrator"]
        user_lines = [m["mes"] for m in shown if m["is_user"]]
        assert [t["value"] for t in record["conversations"] if t["from"] == "human"] == user_lines
        assert record["provenance"]["repairs"][0] == "folded the assistant greeting into the system prompt"
        assert "system" in record  # the greeting, folded by --repair
    err = done.stderr.decode()
    assert "left out 1 system message(s)" in err and "repaired 3: folded the assistant greeting into the system prompt" in err


def test_speaker_names_and_placeholders_are_kept(tmp_path):
    out = tmp_path / "group.jsonl"
    done = run_cli("convert", str(DATA / "saltmere-group.jsonl"), "--to", "openai", "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    (record,) = read_records(out)
    names = {m.get("name") for m in record["messages"] if m["role"] == "assistant"}
    assert {"Mira", "Old Tam"} <= names


def test_swipes_become_preference_pairs_with_a_ranking_entry(tmp_path):
    out = tmp_path / "pairs.jsonl"
    done = run_cli("convert", str(DATA / "mira-swipes.jsonl"), "--swipes", "dpo", "--to", "sharegpt", "--repair", "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    records = read_records(out)
    chat = lines_of(DATA / "mira-swipes.jsonl")
    expected = 0
    for n, message in enumerate(chat[1:], 2):
        swipes = [s for s in dict.fromkeys(message.get("swipes") or []) if s.strip()]
        previous = chat[n - 2] if n > 2 else None
        if len(swipes) > 1 and previous is not None and previous.get("is_user"):
            expected += len(swipes) - 1
    assert expected and len(records) == expected
    for record in records:
        assert record["conversations"][-1]["from"] == "human"  # the prompt ends with the user turn
        assert record["chosen"]["from"] == "gpt" and record["rejected"]["from"] == "gpt"
        assert record["chosen"]["value"] != record["rejected"]["value"]
    entry = json.loads((tmp_path / "dataset_info.json").read_text())["pairs"]
    assert entry["ranking"] is True
    assert entry["columns"]["chosen"] == "chosen" and entry["columns"]["rejected"] == "rejected"
    assert run_cli("validate", str(out)).returncode == 0


def test_a_broken_line_is_reported_with_its_file_and_line(tmp_path):
    out = tmp_path / "all.jsonl"
    done = run_cli("convert", str(DATA), "--to", "sharegpt", "-o", str(out), "--on-error", "skip")
    assert done.returncode == 0, done.stderr.decode()
    err = done.stderr.decode()
    assert f"{DATA / 'broken-line.jsonl'}:4: invalid JSON" in err
    rejects = lines_of(tmp_path / "all.jsonl.rejects.jsonl")
    assert [r["location"] for r in rejects] == [f"{DATA / 'broken-line.jsonl'}:4"]


def test_swipes_option_on_other_input_says_where_it_applies(tmp_path):
    done = run_cli("convert", str(ROOT / "samples" / "tavern.sharegpt.jsonl"), "--swipes", "dpo", "--to", "openai", "-o", str(tmp_path / "x.jsonl"))
    assert done.returncode == 1
    assert done.stderr.decode().strip() == "Error: --swipes applies to sillytavern input: add --from sillytavern or name a file of that format"


def test_sillytavern_is_input_only(tmp_path):
    done = run_cli("convert", str(DATA / "iso-dates.jsonl"), "-o", str(tmp_path / "x.jsonl"))
    assert done.returncode == 1
    assert "sillytavern is an input-only format: add --to" in done.stderr.decode()
