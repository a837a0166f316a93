"""`-o DIR/ --shard-records N`: numbered JSON Lines shards in a folder, one
dataset_info.json entry for the folder that LLaMA-Factory's own loader reads,
one dataset card, and --resume going on inside the shard it stopped in."""

from __future__ import annotations

import json
import signal

import pytest
from conftest import SAMPLES, install_plugin, read_records, run_cli
from llamafactory_compat import load_like_llamafactory
from test_resume import KILL_ONCE

SHARDS = ["part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl"]


def corpus(path, n):
    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_text().splitlines()
    path.write_text("".join(lines[i % len(lines)][:-1] + f', "n": {i}}}\n' for i in range(n)))
    return path


def test_shards_hold_the_single_file_bytes_and_load_in_llamafactory_as_one_dataset(tmp_path):
    source = corpus(tmp_path / "in.jsonl", 12)
    args = ["--seed", "7", "--workers", "1", "--repair", "typos", "--variants", "2", "exact-duplicates"]
    one = run_cli("run", str(source), "-o", str(tmp_path / "one" / "chats.jsonl"), *args)
    assert one.returncode == 0, one.stderr.decode()
    done = run_cli("run", str(source), "-o", f"{tmp_path}/out/chats/", "--shard-records", "15", *args)
    assert done.returncode == 0, done.stderr.decode()
    assert f"wrote 3 shard(s) in {tmp_path}/out/chats/ and its entry in {tmp_path}/out/dataset_info.json" in done.stderr.decode()

    folder = tmp_path / "out" / "chats"
    assert sorted(p.name for p in folder.iterdir()) == SHARDS  # nothing else: LLaMA-Factory loads every file
    assert [len(read_records(folder / s)) for s in SHARDS] == [15, 15, 6]
    assert b"".join((folder / s).read_bytes() for s in SHARDS) == (tmp_path / "one" / "chats.jsonl").read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["README.md", "chats", "dataset_info.json"]

    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text())
    single = json.loads((tmp_path / "one" / "dataset_info.json").read_text())
    assert info == {"chats": {**single["chats"], "file_name": "chats"}}  # the same entry, its file_name the folder
    loaded = load_like_llamafactory(tmp_path / "out", "chats")
    assert len(loaded.examples) == 36 and not loaded.skips and not loaded.dropped

    card = (tmp_path / "out" / "README.md").read_text()
    assert "- config_name: chats\n  data_files: chats/part-*.jsonl" in card
    assert "| shards | 3 (`part-00000.jsonl` … `part-00002.jsonl`), up to 15 records each |" in card

    import datasets

    loaded = datasets.load_dataset("json", data_files=str(folder / "part-*.jsonl"), split="train")
    assert loaded.num_rows == 36


def test_shards_of_different_columns_load_together(tmp_path):
    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_text().splitlines()
    records = []
    for i in range(8):
        record = json.loads(lines[i])
        record.pop("id", None)
        if i < 4:
            record.pop("system", None)  # the first shard has no system prompt, the second has ids
        else:
            record["id"] = f"x{i}"
        records.append(json.dumps(record))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(records) + "\n")
    done = run_cli("filter", str(source), "-o", f"{tmp_path}/out/mixed/", "--shard-records", "4", "--repair", "exact-duplicates")
    assert done.returncode == 0, done.stderr.decode()
    loaded = load_like_llamafactory(tmp_path / "out", "mixed")
    assert len(loaded.examples) == 8 and not loaded.skips
    first, second = (read_records(tmp_path / "out" / "mixed" / name) for name in SHARDS[:2])
    assert not any("id" in r for r in first) and all("id" in r for r in second)  # the shards' columns differ


def test_resume_goes_on_inside_the_shard_it_stopped_in(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-shout", {"shout_plugin": KILL_ONCE}, {"shout": "shout_plugin"})
    source = corpus(tmp_path / "in.jsonl", 40)
    # a checkpoint after every batch (not every 2 s), so the kill comes after one inside a later shard
    env = {"PYTHONPATH": str(site), "KILL_MARK": str(tmp_path / "mark"), "KILL_AT": "45", "AUGMENT_CHECKPOINT_SECONDS": "0"}
    out = f"{tmp_path}/a/chats/"
    args = ["run", str(source), "-o", out, "--shard-records", "25", "--seed", "4", "--workers", "1", "--batch-size", "4",
            "typos", "--variants", "2", "shout", "exact-duplicates"]
    killed = run_cli(*args, env=env)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "a" / "chats").exists()  # nothing complete-looking
    journal = json.loads((tmp_path / "a" / ".chats.journal").read_text())
    staged = sorted(p.name for p in (tmp_path / "a" / ".chats.partial").iterdir())
    assert journal["shard"] >= 1 and staged[-1] == f"part-{journal['shard']:05d}.jsonl"
    assert (tmp_path / "a" / ".chats.partial" / staged[-1]).stat().st_size >= journal["offset"]

    resumed = run_cli(args[0], "--resume", *args[1:], env=env)
    assert resumed.returncode == 0, resumed.stderr.decode()
    whole = run_cli(*[f"{tmp_path}/b/chats/" if a == out else a for a in args], env=env)  # the mark is there: no kill
    assert whole.returncode == 0, whole.stderr.decode()

    shards = sorted(p.name for p in (tmp_path / "a" / "chats").iterdir())
    assert shards == sorted(p.name for p in (tmp_path / "b" / "chats").iterdir()) and len(shards) >= 3
    for name in shards:
        assert (tmp_path / "a" / "chats" / name).read_bytes() == (tmp_path / "b" / "chats" / name).read_bytes(), name
    assert (tmp_path / "a" / "chats.rejects.jsonl").read_bytes() == (tmp_path / "b" / "chats.rejects.jsonl").read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["README.md", "chats", "chats.rejects.jsonl", "dataset_info.json"]


def test_a_new_run_replaces_the_shards_of_an_earlier_one(tmp_path):
    source = corpus(tmp_path / "in.jsonl", 10)
    out = f"{tmp_path}/out/chats/"
    first = run_cli("filter", str(source), "-o", out, "--shard-records", "3", "exact-duplicates")
    assert first.returncode == 0, first.stderr.decode()
    assert len(list((tmp_path / "out" / "chats").iterdir())) == 4
    second = run_cli("filter", str(source), "-o", out, "--shard-records", "6", "exact-duplicates")
    assert second.returncode == 0, second.stderr.decode()
    assert sorted(p.name for p in (tmp_path / "out" / "chats").iterdir()) == SHARDS[:2]


@pytest.mark.parametrize("output, extra, message", [
    ("{tmp}/out/", [], "Error: -o {tmp}/out/ is a folder: add --shard-records N to write numbered shards of N records into it"),
    ("{tmp}/out.jsonl", ["--shard-records", "5"], "Error: --shard-records writes numbered shards into a folder: give -o DIR/ (got {tmp}/out.jsonl)"),
    ("-", ["--shard-records", "5"], "Error: --shard-records writes numbered shards into a folder: give -o DIR/ (got -)"),
])
def test_shards_and_a_folder_go_together(tmp_path, output, extra, message):
    source = corpus(tmp_path / "in.jsonl", 2)
    done = run_cli("filter", str(source), "-o", output.format(tmp=tmp_path), *extra, "exact-duplicates")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == message.format(tmp=tmp_path)


def test_a_folder_holding_other_files_is_refused(tmp_path):
    source = corpus(tmp_path / "in.jsonl", 2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    done = run_cli("filter", str(source), "-o", f"{tmp_path}/out/", "--shard-records", "5", "exact-duplicates")
    assert done.returncode == 1
    assert "holds files that are not shards (notes.txt); LLaMA-Factory would load every file in it" in done.stderr.decode()
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
