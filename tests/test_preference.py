"""Preference (DPO) and labelled (KTO) records, and OpenAI content parts:
recognised in every format, converted without loss, validated by their own
rules and never repaired into chat data."""

from __future__ import annotations

import json

import pytest
from conftest import read_records, run_cli

SYSTEM = "You are Mira, keeper of the Drowned Lantern."
DPO_SHAREGPT = {
    "system": SYSTEM,
    "conversations": [
        {"from": "human", "value": "Evening. Any stew left?"},
        {"from": "gpt", "value": "*ladles a bowl* Last one. You're lucky."},
        {"from": "human", "value": "What do I owe you?"},
    ],
    "chosen": {"from": "gpt", "value": "Two copper, and a story about the storm."},
    "rejected": {"from": "gpt", "value": "As an AI, I cannot sell stew."},
}
KTO_SHAREGPT = {
    "conversations": [{"from": "human", "value": "Is the road north safe?"}, {"from": "gpt", "value": "Safe as a bear's breakfast."}],
    "kto_tag": True,
}
PARTS = {
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Who drew this map?"}, {"type": "image_url", "image_url": {"url": "maps/saltmere.png"}}]},
        {"role": "assistant", "content": "*squints* Old Tam, by the shaky coastline."},
    ]
}


def write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def convert(src, out, *args):
    done = run_cli("convert", str(src), *args, "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr.decode()
    return read_records(out)


@pytest.mark.parametrize("via", ["alpaca", "openai"])
def test_dpo_round_trips_through_every_format(tmp_path, via):
    src = write(tmp_path / "dpo.jsonl", [DPO_SHAREGPT])
    there = convert(src, tmp_path / f"dpo.{via}.jsonl", "--to", via)
    if via == "alpaca":
        assert there == [{"system": SYSTEM, "history": [["Evening. Any stew left?", "*ladles a bowl* Last one. You're lucky."]],
                          "instruction": "What do I owe you?", "chosen": DPO_SHAREGPT["chosen"]["value"], "rejected": DPO_SHAREGPT["rejected"]["value"]}]
    else:  # TRL's conversational shape
        assert there[0]["prompt"][-1] == {"role": "user", "content": "What do I owe you?"}
        assert there[0]["chosen"] == [{"role": "assistant", "content": DPO_SHAREGPT["chosen"]["value"]}]
        assert there[0]["rejected"] == [{"role": "assistant", "content": DPO_SHAREGPT["rejected"]["value"]}]
    back = convert(tmp_path / f"dpo.{via}.jsonl", tmp_path / "back.jsonl", "--to", "sharegpt")
    assert back == [DPO_SHAREGPT]


def test_kto_round_trips_and_keeps_its_tag(tmp_path):
    src = write(tmp_path / "kto.jsonl", [KTO_SHAREGPT, {**KTO_SHAREGPT, "kto_tag": False}])
    alpaca = convert(src, tmp_path / "kto.alpaca.jsonl", "--to", "alpaca")
    assert [r["kto_tag"] for r in alpaca] == [True, False]
    trl = convert(tmp_path / "kto.alpaca.jsonl", tmp_path / "kto.openai.jsonl", "--to", "openai")
    assert [r["label"] for r in trl] == [True, False] and all(r["completion"][0]["role"] == "assistant" for r in trl)
    back = convert(tmp_path / "kto.openai.jsonl", tmp_path / "back.jsonl", "--to", "sharegpt")
    assert back == [KTO_SHAREGPT, {**KTO_SHAREGPT, "kto_tag": False}]


def test_a_preference_record_is_valid_by_its_own_rules_and_repair_keeps_it(tmp_path):
    src = write(tmp_path / "dpo.jsonl", [DPO_SHAREGPT])
    checked = run_cli("validate", str(src))
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    repaired = convert(src, tmp_path / "repaired.jsonl", "--repair", "--to", "sharegpt")
    assert repaired == [DPO_SHAREGPT]  # the trailing user turn is the prompt, not a defect
    chat_like = {k: v for k, v in DPO_SHAREGPT.items() if k not in ("chosen", "rejected")}
    broken = write(tmp_path / "broken.jsonl", [{**DPO_SHAREGPT, "conversations": DPO_SHAREGPT["conversations"][:2]}, chat_like])
    found = run_cli("validate", str(broken))
    assert found.returncode == 1
    lines = found.stdout.decode().splitlines()
    assert lines == [
        f"{broken}:1: even number of dialogue turns (2) before a preference pair: the prompt must end with a user turn",
        f"{broken}:2: odd number of dialogue turns (3): it must end with an assistant answer",
    ]


def test_openai_content_parts_are_read_and_written_back_as_they_came(tmp_path):
    src = write(tmp_path / "parts.jsonl", [PARTS])
    assert convert(src, tmp_path / "same.jsonl", "--to", "openai") == [PARTS]
    sharegpt = convert(src, tmp_path / "parts.sharegpt.jsonl", "--to", "sharegpt")
    assert sharegpt[0]["conversations"][0]["value"] == "Who drew this map?"  # the text parts, for steps and trainers
    assert convert(tmp_path / "parts.sharegpt.jsonl", tmp_path / "back.jsonl", "--to", "openai") == [PARTS]


def test_a_step_changes_the_text_part_and_keeps_the_image(tmp_path):
    src = write(tmp_path / "parts.jsonl", [PARTS])
    out = tmp_path / "typos.jsonl"
    done = run_cli("run", str(src), "-o", str(out), "--seed", "2", "--no-originals", "typos", "--rate", "0.5", "--roles", "user", "-q")
    assert done.returncode == 0, done.stderr.decode()
    (variant,) = read_records(out)
    parts = variant["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert parts[1] == PARTS["messages"][0]["content"][1]
    assert parts[0]["text"] != "Who drew this map?"
