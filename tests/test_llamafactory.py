"""LLaMA-Factory loads every file augment writes, through the dataset_info.json
entry augment writes beside it, and converts every record faithfully.

The loading is LLaMA-Factory's own code (parser -> loader -> converter of the
pinned ``llamafactory`` package, run by ``llamafactory_compat``): an entry that
names a column the file lacks fails here exactly as it fails in training
(``KeyError: 'tools'``), and a record LLaMA-Factory would skip or drop is caught.

The first group of tests runs the harness on hand-written files and entries, so
a failure in the later groups is LLaMA-Factory's verdict on augment's output,
not a fault of the harness.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES, read_records, run_cli
from llamafactory_compat import PINNED_VERSION, Loaded, entry_for, load_like_llamafactory


# -- what a record says, read independently of LLaMA-Factory ---------------------

SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "function_call": "function", "observation": "observation"}
OPENAI_ROLES = {"user": "user", "assistant": "assistant", "tool": "observation"}


def _calls(content: str) -> list[str]:
    calls = json.loads(content)
    return [c["name"] for c in (calls if isinstance(calls, list) else [calls])]


def _where(got: str, want: str) -> str:
    at = len(os.path.commonprefix([got, want]))
    tail = repr(want[at:at + 60]) if want[at:] else "nothing more"
    return f"from character {at}, LLaMA-Factory has {got[at:at + 60]!r}, the record {tail}"


def expected(record: dict) -> tuple[str, list[tuple[str, object]], object]:
    """(system prompt, turns as (role, content), tools) of a written record, in
    LLaMA-Factory's roles. A function call is given as the list of called names;
    consecutive tool results as the list of their contents."""
    if "conversations" in record:
        turns = record["conversations"]
        system = record.get("system") or ""
        if turns and turns[0]["from"] == "system":
            system, turns = turns[0]["value"], turns[1:]
        out = []
        for t in turns:
            role = SHAREGPT_ROLES[t["from"]]
            out.append((role, _calls(t["value"]) if role == "function" else t["value"]))
        return system, out, record.get("tools")
    if "messages" in record:
        turns = record["messages"]
        system = record.get("system") or ""
        if turns and turns[0]["role"] == "system":
            system, turns = turns[0]["content"], turns[1:]
        out: list[tuple[str, object]] = []
        for t in turns:
            if t["role"] == "assistant" and t.get("tool_calls"):
                out.append(("function", [c["function"]["name"] for c in t["tool_calls"]]))
            elif t["role"] == "tool" and out and out[-1][0] == "observation":
                out[-1][1].append(t["content"])
            elif t["role"] == "tool":
                out.append(("observation", [t["content"]]))
            else:
                out.append((OPENAI_ROLES[t["role"]], t["content"]))
        return system, out, record.get("tools")
    if "instruction" in record:
        out = []
        for user, assistant in record.get("history") or []:
            out += [("user", user), ("assistant", assistant)]
        out.append(("user", "\n".join(x for x in (record["instruction"], record.get("input")) if x)))
        out.append(("assistant", record["output"]))
        return record.get("system") or "", out, None
    raise AssertionError(f"not a record augment writes: {sorted(record)}")


def assert_faithful(records: list[dict], loaded: Loaded) -> None:
    """LLaMA-Factory converted every record, skipped and dropped none, and each
    example holds the record's dialogue, last answer, system prompt and tools."""
    assert loaded.skips == [], f"LLaMA-Factory skips examples: {loaded.skips[:3]}"
    assert loaded.skipped == [], f"examples converted to nothing: {loaded.skipped}"
    assert len(loaded.examples) == len(records), "LLaMA-Factory sees another number of examples than records written"
    assert loaded.dropped == [], f"the {loaded.stage} processor would drop examples {loaded.dropped}"
    assert loaded.template_problems == [], loaded.template_problems[:3]
    file_has_tool_calls = any(m.get("tool_calls") for r in records for m in r.get("messages") or [])
    for i, (record, example) in enumerate(zip(records, loaded.examples)):
        system, turns, tools = expected(record)
        got = example["_prompt"] + example["_response"]
        assert [m["role"] for m in got] == [role for role, _ in turns], f"record {i}: roles differ"
        for (role, want), message in zip(turns, got):
            if role == "function":
                assert _calls(message["content"]) == want, f"record {i}: the function call differs"
            elif role == "observation" and isinstance(want, list):
                assert all(w in message["content"] for w in want), f"record {i}: a tool result is lost"
            else:
                assert message["content"] == want, f"record {i}: a {role} turn differs"
        assert example["_response"][0]["content"] == turns[-1][1], f"record {i}: the answer trained on differs"
        got_system = example["_system"] or ""
        allowed = {system}
        if loaded.attr.formatting == "openai" and file_has_tool_calls:
            # LLaMA-Factory reads OpenAI tool_calls only with formatting "openai", whose converter
            # also rewrites the system prompt: + "\n" with tools, + "\ndetailed thinking off"
            # (or that alone) without. Accepted only for a file that needs that formatting.
            if example["_tools"]:
                allowed = {system + "\n" if system else ""}
            elif not system:
                allowed = {"detailed thinking off"}
            elif "detailed thinking on" not in system and "detailed thinking off" not in system:
                allowed = {system + "\ndetailed thinking off"}
        assert got_system in allowed, f"record {i}: system prompt differs: {_where(got_system, system)}"
        if tools:
            want_tools = json.loads(tools) if isinstance(tools, str) else tools
            assert example["_tools"] and json.loads(example["_tools"]) == want_tools, f"record {i}: tools lost"
        else:
            assert not example["_tools"], f"record {i}: tools from nowhere"


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def write_info(folder: Path, entries: dict) -> None:
    (folder / "dataset_info.json").write_text(json.dumps(entries, indent=2), encoding="utf-8")


# -- the harness itself, on hand-written files (all pass today) -------------------

SYSTEM = "You are Mira, keeper of the Drowned Lantern."
CHAT = [
    {"system": SYSTEM, "conversations": [
        {"from": "human", "value": "*shakes off the rain* A room, Mira."},
        {"from": "gpt", "value": "*doesn't look up* Three silver."},
        {"from": "human", "value": "It was two last month."},
        {"from": "gpt", "value": "Last month you weren't dripping on my floor."},
    ]},
    {"conversations": [
        {"from": "system", "value": "You are Lin Shuang."},
        {"from": "human", "value": "（推门而入）掌柜的，还有空房吗？"},
        {"from": "gpt", "value": "东厢还有一间。"},
    ]},
]
SHAREGPT_ENTRY = {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"}}


def test_the_makefile_installs_the_version_the_harness_is_pinned_to():
    pins = re.findall(r"llamafactory==([0-9][0-9.]*)", (ROOT / "Makefile").read_text())
    assert pins == [PINNED_VERSION]


def test_harness_loads_a_correct_sharegpt_file(tmp_path):
    write_jsonl(tmp_path / "chat.jsonl", CHAT)
    write_info(tmp_path, {"chat": {"file_name": "chat.jsonl", **SHAREGPT_ENTRY}})
    loaded = load_like_llamafactory(tmp_path, "chat")
    assert_faithful(CHAT, loaded)
    assert loaded.examples[0]["_system"] == SYSTEM
    assert loaded.examples[1]["_system"] == "You are Lin Shuang."
    assert loaded.examples[0]["_prompt"][-1] == {"role": "user", "content": "It was two last month."}


def test_harness_loads_a_correct_json_array_file(tmp_path):
    (tmp_path / "chat.json").write_text(json.dumps(CHAT, ensure_ascii=False), encoding="utf-8")
    write_info(tmp_path, {"chat": {"file_name": "chat.json", **SHAREGPT_ENTRY}})
    assert_faithful(CHAT, load_like_llamafactory(tmp_path, "chat"))


def test_harness_loads_openai_messages_read_as_sharegpt_with_tags(tmp_path):
    records = [{"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "A room."},
                             {"role": "assistant", "content": "Three silver."}]},
               {"messages": [{"role": "user", "content": "Coffee?"}, {"role": "assistant", "content": "Tar."}]}]
    write_jsonl(tmp_path / "msgs.jsonl", records)
    write_info(tmp_path, {"msgs": {"file_name": "msgs.jsonl", "formatting": "sharegpt",
                                   "columns": {"messages": "messages"},
                                   "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                            "assistant_tag": "assistant", "system_tag": "system"}}})
    loaded = load_like_llamafactory(tmp_path, "msgs")
    assert_faithful(records, loaded)
    assert loaded.examples[1]["_system"] == ""


def test_harness_loads_openai_tool_calls_with_openai_formatting(tmp_path):
    tools = [{"type": "function", "function": {"name": "lookup_order", "description": "Find an order.",
                                               "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}]
    records = [{"messages": [
        {"role": "system", "content": "You are Juniper."},
        {"role": "user", "content": "Where is GW-1?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"id\": \"GW-1\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"status\": \"shipped\"}"},
        {"role": "assistant", "content": "It shipped."},
    ], "tools": tools}]
    write_jsonl(tmp_path / "tools.jsonl", records)
    write_info(tmp_path, {"tools": {"file_name": "tools.jsonl", "formatting": "openai",
                                    "columns": {"messages": "messages", "tools": "tools"},
                                    "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                             "assistant_tag": "assistant", "observation_tag": "tool",
                                             "function_tag": "function_call", "system_tag": "system"}}})
    loaded = load_like_llamafactory(tmp_path, "tools")
    assert_faithful(records, loaded)
    assert [m["role"] for m in loaded.examples[0]["_prompt"]] == ["user", "function", "observation"]


def test_harness_documents_that_openai_formatting_rewrites_a_system_prompt_without_tools(tmp_path):
    """LLaMA-Factory's own behaviour (converter.py, OpenAIDatasetConverter, 0.9.4+):
    without tools, "detailed thinking off" is appended to the system prompt (or is
    the whole system prompt). assert_faithful rejects that, deliberately."""
    records = [{"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "A room."},
                             {"role": "assistant", "content": "Three silver."}]}]
    write_jsonl(tmp_path / "msgs.jsonl", records)
    write_info(tmp_path, {"msgs": {"file_name": "msgs.jsonl", "formatting": "openai", "columns": {"messages": "messages"},
                                   "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                            "assistant_tag": "assistant", "system_tag": "system"}}})
    loaded = load_like_llamafactory(tmp_path, "msgs")
    assert loaded.examples[0]["_system"] == SYSTEM + "\ndetailed thinking off"
    with pytest.raises(AssertionError, match="system prompt"):
        assert_faithful(records, loaded)


def test_harness_loads_alpaca_with_history_and_system(tmp_path):
    records = [
        {"instruction": "Three silver?", "input": "", "output": "Floor first.", "system": SYSTEM,
         "history": [["A room, Mira.", "Dry? In Saltmere?"]]},
        {"instruction": "Check my answer.", "input": "H2 + O2 -> 2H2O", "output": "Close.", "system": "", "history": []},
    ]
    write_jsonl(tmp_path / "a.jsonl", records)
    write_info(tmp_path, {"a": {"file_name": "a.jsonl", "formatting": "alpaca", "columns": {
        "prompt": "instruction", "query": "input", "response": "output", "system": "system", "history": "history"}}})
    loaded = load_like_llamafactory(tmp_path, "a")
    assert_faithful(records, loaded)
    assert loaded.examples[1]["_prompt"] == [{"role": "user", "content": "Check my answer.\nH2 + O2 -> 2H2O"}]


def test_harness_without_columns_uses_llamafactorys_defaults(tmp_path):
    """No "columns": instruction/input/output (alpaca) and conversations (sharegpt) are
    read, and must exist (a file without "input" fails); system, tools, history and
    images are not read (their default is None). With "columns", every column it does
    not name is None, the defaults included."""
    records = [{"instruction": "Hi", "input": "", "output": "Hello.", "system": "ignored", "history": [["a", "b"]]}]
    write_jsonl(tmp_path / "a.jsonl", records)
    write_jsonl(tmp_path / "no_input.jsonl", [{"instruction": "Hi", "output": "Hello."}])
    write_info(tmp_path, {"a": {"file_name": "a.jsonl"}, "no_input": {"file_name": "no_input.jsonl"},
                          "no_input_columns": {"file_name": "no_input.jsonl",
                                               "columns": {"prompt": "instruction", "response": "output"}}})
    with pytest.raises(KeyError, match="input"):
        load_like_llamafactory(tmp_path, "no_input")
    assert load_like_llamafactory(tmp_path, "no_input_columns").examples[0]["_prompt"] == [{"role": "user", "content": "Hi"}]
    loaded = load_like_llamafactory(tmp_path, "a")
    assert loaded.examples == [{"_prompt": [{"role": "user", "content": "Hi"}],
                                "_response": [{"role": "assistant", "content": "Hello."}],
                                "_system": "", "_tools": "", "_images": None, "_videos": None, "_audios": None}]


def test_harness_surfaces_the_converters_skips(tmp_path):
    records = [CHAT[0], {"conversations": [{"from": "gpt", "value": "*polishes a tankard* Well?"},
                                           {"from": "human", "value": "A room."}]},
               {"conversations": [{"from": "human", "value": "A room."}]}]
    write_jsonl(tmp_path / "bad.jsonl", records)
    write_info(tmp_path, {"bad": {"file_name": "bad.jsonl", **SHAREGPT_ENTRY}})
    loaded = load_like_llamafactory(tmp_path, "bad")
    assert loaded.skipped == [1, 2]
    assert [w.split(" in ")[0] for w in loaded.skips] == [
        "Invalid role tag", "Skipping this abnormal example.", "Invalid message count", "Skipping this abnormal example."]
    with pytest.raises(AssertionError, match="skips examples"):
        assert_faithful(records, loaded)


@pytest.mark.parametrize("column", ["tools", "system", "images"])
def test_harness_fails_as_llamafactory_does_on_a_column_no_record_has(tmp_path, column):
    write_jsonl(tmp_path / "chat.jsonl", [{"conversations": CHAT[0]["conversations"]}])
    write_info(tmp_path, {"chat": {"file_name": "chat.jsonl", "formatting": "sharegpt",
                                   "columns": {"messages": "conversations", column: column}}})
    with pytest.raises(KeyError, match=column):
        load_like_llamafactory(tmp_path, "chat")


def test_harness_resolves_declared_images_against_the_dataset_folder(tmp_path):
    (tmp_path / "sketches").mkdir()
    (tmp_path / "sketches" / "gull.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    records = [{"conversations": [{"from": "human", "value": "<image>Know this ship?"}, {"from": "gpt", "value": "The Gull's Wing."}],
                "images": ["sketches/gull.jpg"]},
               {"conversations": [{"from": "human", "value": "And now?"}, {"from": "gpt", "value": "Still a ship."}]}]
    write_jsonl(tmp_path / "mm.jsonl", records)
    write_info(tmp_path, {"mm": {"file_name": "mm.jsonl", "formatting": "sharegpt",
                                 "columns": {"messages": "conversations", "images": "images"}}})
    loaded = load_like_llamafactory(tmp_path, "mm")
    assert_faithful(records, loaded)
    assert loaded.examples[0]["_images"] == [str(tmp_path / "sketches" / "gull.jpg")]
    assert loaded.examples[1]["_images"] is None


def test_harness_loads_dpo_pairs_in_both_shapes(tmp_path):
    """Preference data: "ranking": true, chosen/rejected columns; the conversation before
    them ends on a user turn (odd count). ShareGPT: chosen/rejected are messages with the
    entry's tags; Alpaca: strings. The loader refuses a ranking entry outside rm."""
    write_jsonl(tmp_path / "pref.sharegpt.jsonl", [{
        "conversations": [{"from": "human", "value": "A room."}, {"from": "gpt", "value": "Three silver."},
                          {"from": "human", "value": "Two?"}],
        "chosen": {"from": "gpt", "value": "Floor first, complaints after."},
        "rejected": {"from": "gpt", "value": "As an AI, I cannot rent rooms."}}])
    write_jsonl(tmp_path / "pref.alpaca.jsonl", [{
        "instruction": "Two?", "chosen": "Floor first, complaints after.", "rejected": "As an AI, I cannot rent rooms."}])
    write_info(tmp_path, {
        "pref_sharegpt": {"file_name": "pref.sharegpt.jsonl", "formatting": "sharegpt", "ranking": True,
                          "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"}},
        "pref_alpaca": {"file_name": "pref.alpaca.jsonl", "ranking": True,
                        "columns": {"prompt": "instruction", "chosen": "chosen", "rejected": "rejected"}}})
    for name in ("pref_sharegpt", "pref_alpaca"):
        loaded = load_like_llamafactory(tmp_path, name)
        assert loaded.stage == "rm" and loaded.skips == [] and loaded.dropped == []
        assert loaded.examples[0]["_prompt"][-1]["content"] == "Two?"
        assert [m["content"] for m in loaded.examples[0]["_response"]] == [
            "Floor first, complaints after.", "As an AI, I cannot rent rooms."]
        with pytest.raises(ValueError, match="not applicable in the current training stage"):
            load_like_llamafactory(tmp_path, name, stage="sft")


def test_harness_loads_kto_tags(tmp_path):
    write_jsonl(tmp_path / "kto.jsonl", [
        {"conversations": [{"from": "human", "value": "A room."}, {"from": "gpt", "value": "Three silver."}], "label": True},
        {"conversations": [{"from": "human", "value": "A room."}, {"from": "gpt", "value": "As an AI..."}], "label": False}])
    write_info(tmp_path, {"kto": {"file_name": "kto.jsonl", "formatting": "sharegpt",
                                  "columns": {"messages": "conversations", "kto_tag": "label"}}})
    loaded = load_like_llamafactory(tmp_path, "kto")
    assert loaded.stage == "kto" and loaded.skips == [] and loaded.dropped == []
    assert [m["content"] for m in loaded.examples[0]["_response"]] == ["Three silver.", ""]  # desirable
    assert [m["content"] for m in loaded.examples[1]["_response"]] == ["", "As an AI..."]  # undesirable


# -- augment's outputs ------------------------------------------------------------

SOURCES = {
    "tavern": ("tavern.sharegpt.jsonl", ["--repair"]),
    "tutor": ("tutor.alpaca.json", []),
    "support": ("support.openai.jsonl", []),
    "wuxia": ("wuxia.sharegpt.jsonl", ["--repair"]),
    "harbor": ("harbor.script.txt", ["--as", "Mira", "--repair"]),
}


def augment(*args: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr.decode()


def load_output(out: Path) -> tuple[list[dict], Loaded]:
    """The records augment wrote to ``out``, and what LLaMA-Factory makes of them
    through the entry augment wrote beside it."""
    records = read_records(out)
    name = entry_for(out.parent, out.name)
    assert name is not None, f"no dataset_info.json entry beside {out} names it"
    return records, load_like_llamafactory(out.parent, name)


# Every conversion that can write records. Alpaca has no place for tool calls or speaker
# names: such records are rejected by design (support's tool-call records), and every
# record of the script has speaker names, so harbor -> alpaca writes nothing.
CONVERSIONS = [(source, to) for source in SOURCES for to in ("sharegpt", "openai", "alpaca")
               if (source, to) != ("harbor", "alpaca")]


@pytest.mark.parametrize("ext", [".jsonl", ".json"])
@pytest.mark.parametrize("source, to", CONVERSIONS)
def test_converted_samples_load_in_llamafactory(tmp_path, source, to, ext):
    sample, options = SOURCES[source]
    out = tmp_path / f"{source}.{to}{ext}"
    on_error = ["--on-error", "skip"] if to == "alpaca" else []
    augment("convert", str(SAMPLES / sample), *options, *on_error, "--to", to, "-o", str(out), "-q")
    records, loaded = load_output(out)
    assert records, f"augment wrote no record of {sample}"
    assert_faithful(records, loaded)


@pytest.mark.parametrize("source", ["tavern", "tutor", "support"])
def test_augmented_output_loads_in_llamafactory(tmp_path, source):
    sample, options = SOURCES[source]
    out = tmp_path / f"{source}.augmented{Path(sample).suffix}"
    augment("run", str(SAMPLES / sample), "-o", str(out), "--seed", "1", *options, "-q", "typos")
    records, loaded = load_output(out)
    assert len(records) > len(read_records(SAMPLES / sample))  # originals and variants
    assert_faithful(records, loaded)


@pytest.mark.parametrize("source", ["tavern", "tutor", "support"])
def test_filtered_output_loads_in_llamafactory(tmp_path, source):
    sample, options = SOURCES[source]
    originals = read_records(SAMPLES / sample)
    src = tmp_path / "in" / f"{source}{Path(sample).suffix}"
    src.parent.mkdir()
    if src.suffix == ".json":
        src.write_text(json.dumps(originals + originals[:1], ensure_ascii=False), encoding="utf-8")
    else:
        write_jsonl(src, originals + originals[:1])
    out = tmp_path / "out" / src.name
    out.parent.mkdir()
    augment("filter", str(src), "-o", str(out), *options, "-q", "exact-duplicates")
    records, loaded = load_output(out)
    assert len(records) == len(originals)  # the duplicate is gone
    assert_faithful(records, loaded)


@pytest.mark.parametrize("to", ["sharegpt", "openai", "alpaca"])
def test_split_parts_load_in_llamafactory(tmp_path, to):
    """``augment split`` writes a dataset_info.json entry for each part, and
    LLaMA-Factory loads every part through it."""
    whole = tmp_path / "whole" / f"tavern.{to}.jsonl"
    augment("convert", str(SAMPLES / "tavern.sharegpt.jsonl"), "--repair", "--on-error", "skip", "--to", to, "-o", str(whole), "-q")
    parts = tmp_path / "parts"
    parts.mkdir()
    done = run_cli("split", str(whole), "--val", "0.3", "--seed", "1", "-o", str(parts / "tavern"))
    assert done.returncode == 0, done.stderr.decode()
    train, val = parts / "tavern.train.jsonl", parts / "tavern.val.jsonl"
    assert train.exists() and val.exists()
    assert set(json.loads((parts / "dataset_info.json").read_text())) == {"tavern.train", "tavern.val"}
    total = 0
    for part in (train, val):
        records, loaded = load_output(part)
        assert_faithful(records, loaded)
        total += len(records)
    assert total == len(read_records(whole))


@pytest.mark.parametrize("to", ["sharegpt", "openai"])
def test_images_survive_conversion_and_reach_llamafactory(tmp_path, to):
    """LLaMA-Factory's multimodal shape: a top-level "images" list and one <image> per
    image in the user text. The entry must declare the images column, or LLaMA-Factory
    ignores the images (``_images`` None) while the <image> tokens stay in the text."""
    records = [
        {"system": SYSTEM, "images": ["sketches/gull.jpg"], "conversations": [
            {"from": "human", "value": "<image>*slides a sketch across the bar* Do you know this ship?"},
            {"from": "gpt", "value": "*squints* The Gull's Wing. Where did you get this?"}]},
        {"system": SYSTEM, "conversations": [
            {"from": "human", "value": "Another round."}, {"from": "gpt", "value": "Coin first."}]},
    ]
    src = write_jsonl(tmp_path / "in.sharegpt.jsonl", records)
    out = tmp_path / "out" / f"sketch.{to}.jsonl"
    out.parent.mkdir()
    (out.parent / "sketches").mkdir()
    (out.parent / "sketches" / "gull.jpg").write_bytes(b"\xff\xd8\xff\xd9")  # LLaMA-Factory resolves against media_dir
    augment("convert", str(src), "--to", to, "-o", str(out), "-q")
    written = read_records(out)
    assert [r.get("images") for r in written] == [["sketches/gull.jpg"], None]
    records, loaded = load_output(out)
    assert loaded.attr.images is not None, "the dataset_info.json entry does not declare the images column"
    assert_faithful(records, loaded)
    first = loaded.examples[0]
    assert first["_images"] == [str(out.parent / "sketches" / "gull.jpg")]
    assert sum(m["content"].count("<image>") for m in first["_prompt"]) == len(first["_images"])
    assert loaded.examples[1]["_images"] is None


PREFERENCE = [{"system": SYSTEM, "conversations": [
    {"from": "human", "value": "*shakes off the rain* A room, Mira."}, {"from": "gpt", "value": "Three silver."},
    {"from": "human", "value": "It was two last month."}],
    "chosen": {"from": "gpt", "value": "*tosses him a rag* Floor first, complaints after."},
    "rejected": {"from": "gpt", "value": "As an AI language model, I cannot rent rooms."}}]
LABELLED = [
    {"system": SYSTEM, "conversations": [{"from": "human", "value": "A room, Mira."},
                                         {"from": "gpt", "value": "*doesn't look up* Three silver."}], "kto_tag": True},
    {"system": SYSTEM, "conversations": [{"from": "human", "value": "A room, Mira."},
                                         {"from": "gpt", "value": "As an AI language model, I cannot rent rooms."}], "kto_tag": False},
]


@pytest.mark.parametrize("to", ["sharegpt", "alpaca"])
def test_preference_output_loads_in_llamafactory_for_reward_training(tmp_path, to):
    """DPO pairs: the entry must say "ranking": true and name chosen/rejected; LLaMA-Factory
    loads them only for the rm stage and trains on [chosen, rejected]. (OpenAI output writes
    TRL's shape, which LLaMA-Factory does not read, and no entry.)"""
    src = write_jsonl(tmp_path / "pref.jsonl", PREFERENCE)
    out = tmp_path / "out" / f"pref.{to}.jsonl"
    augment("convert", str(src), "--to", to, "-o", str(out), "-q")
    records, loaded = load_output(out)
    assert loaded.attr.ranking is True and loaded.stage == "rm"
    assert loaded.skips == [] and loaded.dropped == [] and loaded.template_problems == []
    assert len(loaded.examples) == len(records) == 1
    example = loaded.examples[0]
    assert [m["content"] for m in example["_response"]] == [PREFERENCE[0]["chosen"]["value"], PREFERENCE[0]["rejected"]["value"]]
    assert [(m["role"], m["content"]) for m in example["_prompt"]] == [
        (SHAREGPT_ROLES[t["from"]], t["value"]) for t in PREFERENCE[0]["conversations"]]
    assert example["_system"] == SYSTEM


@pytest.mark.parametrize("to", ["sharegpt", "alpaca"])
def test_labelled_output_loads_in_llamafactory_for_kto_training(tmp_path, to):
    """KTO: the entry must name the kto_tag column, or LLaMA-Factory reads the records as
    plain supervised data and trains on the undesirable answers too."""
    src = write_jsonl(tmp_path / "kto.jsonl", LABELLED)
    out = tmp_path / "out" / f"kto.{to}.jsonl"
    augment("convert", str(src), "--to", to, "-o", str(out), "-q")
    records, loaded = load_output(out)
    assert loaded.attr.kto_tag is not None, "the dataset_info.json entry does not declare the kto_tag column"
    assert loaded.stage == "kto" and loaded.skips == [] and loaded.dropped == [] and loaded.template_problems == []
    assert len(loaded.examples) == len(records) == 2
    good, bad = (ex["_response"] for ex in loaded.examples)
    assert [m["content"] for m in good] == [LABELLED[0]["conversations"][-1]["value"], ""]  # desirable
    assert [m["content"] for m in bad] == ["", LABELLED[1]["conversations"][-1]["value"]]  # undesirable
    assert all(ex["_system"] == SYSTEM for ex in loaded.examples)


# -- role-play sources: SillyTavern chats, swipes as pairs, character cards -------------------

ST_SAMPLES = SAMPLES / "sillytavern"
CARD = SAMPLES / "cards" / "hale.card.png"


@pytest.mark.parametrize("to", ["sharegpt", "openai"])
def test_sillytavern_chats_load_in_llamafactory(tmp_path, to):
    out = tmp_path / f"chats.{to}.jsonl"
    augment("convert", str(ST_SAMPLES), "--repair", "--to", to, "-o", str(out), "-q")
    records, loaded = load_output(out)
    assert len(records) == len(list(ST_SAMPLES.glob("*.jsonl")))
    assert_faithful(records, loaded)


def test_sillytavern_swipes_load_in_llamafactory_for_reward_training(tmp_path):
    out = tmp_path / "pairs.jsonl"
    augment("convert", str(ST_SAMPLES), "--swipes", "dpo", "--repair", "--to", "sharegpt", "-o", str(out), "-q")
    records, loaded = load_output(out)
    assert loaded.attr.ranking is True and loaded.stage == "rm"
    assert loaded.skips == [] and loaded.dropped == [] and loaded.template_problems == []
    assert len(loaded.examples) == len(records) > 0
    for record, example in zip(records, loaded.examples):
        assert [m["content"] for m in example["_response"]] == [record["chosen"]["value"], record["rejected"]["value"]]


@pytest.mark.parametrize("greeting", ["insert-user", "drop"])
def test_a_character_card_loads_in_llamafactory(tmp_path, greeting):
    out = tmp_path / f"hale.{greeting}.jsonl"
    augment("convert", str(CARD), "--greeting", greeting, "--to", "sharegpt", "-o", str(out), "-q", "--on-error", "skip")
    records, loaded = load_output(out)
    assert records and all(r["system"].startswith("{{char}} is the harbourmaster") for r in records)
    assert_faithful(records, loaded)
