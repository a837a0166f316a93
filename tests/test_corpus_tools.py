"""stats, split, the dataset card, and every output format loading with
Hugging Face datasets."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES, read_records, run_cli


@pytest.fixture(scope="module")
def augmented(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aug")
    out = folder / "tavern.aug.jsonl"
    done = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--seed", "7", "--repair", "--workers", "1",
                   "typos", "--variants", "2", "near-duplicates", "--threshold", "0.85", "pii")
    assert done.returncode == 0, done.stderr.decode()
    return out


def test_stats_figures(augmented):
    done = run_cli("stats", str(augmented), "--compare", str(SAMPLES / "tavern.sharegpt.jsonl"), "--json")
    assert done.returncode == 0, done.stderr.decode()
    figures = json.loads(done.stdout)
    main, source = figures["file"], figures["compare"]
    records = read_records(augmented)
    assert main["conversations"] == len(records)
    assert main["originals"] == 12 and main["augmented"] == len(records) - 12
    assert source["conversations"] == 12 and source["augmented"] == 0
    assert main["languages"] == {"en": len(records)}
    assert 0 < main["distinct_1"] < source["distinct_1"]  # variants repeat their sources' words
    assert main["yield"] == {"typos": {"records": len(records) - 12, "per_source": round((len(records) - 12) / 12, 2)}}
    rejects = read_records(augmented.parent / "tavern.aug.jsonl.rejects.jsonl")
    assert sum(main.get("rejections", {}).values()) == len(rejects)
    turns = [sum(1 for m in r["conversations"]) for r in read_records(SAMPLES / "tavern.sharegpt.jsonl")]
    assert source["turns_per_conversation"]["max"] == max(turns)


def test_stats_counts_duplicates_and_languages(tmp_path):
    zh = read_records(SAMPLES / "wuxia.sharegpt.jsonl")
    en = read_records(SAMPLES / "tavern.sharegpt.jsonl")
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [*zh[:3], *en[:2], en[0]]))
    figures = json.loads(run_cli("stats", str(mixed), "--json").stdout)["file"]
    assert figures["languages"] == {"zh": 3, "en": 3}
    assert figures["duplicates"] == 1


def test_stats_html_report_is_self_contained(augmented, tmp_path):
    page = tmp_path / "report.html"
    done = run_cli("stats", str(augmented), "--compare", str(SAMPLES / "tavern.sharegpt.jsonl"), "--html", str(page))
    assert done.returncode == 0, done.stderr.decode()
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text and "characters per user turn" in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in text
    assert "Yield by chain" in text and "Rejections" in text


def test_split_keeps_variants_with_their_source(augmented, tmp_path):
    prefix = tmp_path / "split"
    done = run_cli("split", str(augmented), "--val", "0.25", "--test", "0.25", "--seed", "3", "-o", str(prefix))
    assert done.returncode == 0, done.stderr.decode()
    side_of = {}
    total = 0
    for side in ("train", "val", "test"):
        for record in read_records(tmp_path / f"split.{side}.jsonl"):
            key = record["provenance"]["source"]["line"]
            assert side_of.setdefault(key, side) == side  # never on two sides
            total += 1
    assert total == len(read_records(augmented))
    assert sorted(side_of.values()).count("val") == 3 and sorted(side_of.values()).count("test") == 3
    again = run_cli("split", str(augmented), "--val", "0.25", "--test", "0.25", "--seed", "3", "-o", str(tmp_path / "again"))
    assert again.returncode == 0
    assert (tmp_path / "again.val.jsonl").read_bytes() == (tmp_path / "split.val.jsonl").read_bytes()


def test_the_dataset_card_describes_the_output(augmented):
    card = (augmented.parent / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n- config_name: tavern.aug\n  data_files: tavern.aug.jsonl\n")
    assert "augment run " in card and "--seed 7" in card
    assert "| records read | 12 |" in card
    assert "- `typos` ×2 on user (rate=0.1, max_chars=1)" in card
    assert "- `near-duplicates` (threshold=0.85, num_perm=128): dropped" in card
    assert '"tavern.aug": {\n    "file_name": "tavern.aug.jsonl",\n    "formatting": "sharegpt"' in card


def test_a_second_output_adds_its_section_and_a_foreign_readme_is_left_alone(tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        assert run_cli("convert", str(SAMPLES / "tutor.alpaca.json"), "--to", "openai", "-o", str(tmp_path / name), "-q").returncode == 0
    card = (tmp_path / "README.md").read_text()
    assert "config_name: a\n" in card and "config_name: b\n" in card and "## a.jsonl" in card and "## b.jsonl" in card
    other = tmp_path / "other"
    other.mkdir()
    (other / "README.md").write_text("# My dataset\n")
    assert run_cli("convert", str(SAMPLES / "tutor.alpaca.json"), "--to", "alpaca", "-o", str(other / "c.json"), "-q").returncode == 0
    assert (other / "README.md").read_text() == "# My dataset\n"
    assert (other / "c.card.md").exists()


@pytest.mark.parametrize("fmt", ["sharegpt", "openai", "alpaca"])
def test_every_output_format_loads_with_hugging_face_datasets(tmp_path, fmt):
    from datasets import load_dataset

    out = tmp_path / f"out.{fmt}.jsonl"
    source = SAMPLES / ("tutor.alpaca.json" if fmt == "alpaca" else "support.openai.jsonl")
    # a real chain, so provenance with step options is in every record
    done = run_cli("run", str(source), "-o", str(out), "--to", fmt, "--seed", "1", "--workers", "1", "--repair", "typos", "--variants", "2")
    assert done.returncode == 0, done.stderr.decode()
    rows = read_records(out)
    dataset = load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert dataset.num_rows == len(rows)
    column = {"sharegpt": "conversations", "openai": "messages", "alpaca": "instruction"}[fmt]
    assert column in dataset.column_names and "provenance" in dataset.column_names
    assert dataset[0][column] == rows[0][column]
