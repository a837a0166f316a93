"""What a user meets on the command line: one-line errors for bad step
options, suggestions for misspelled steps, the run's options on either side of
the steps, -q, grouped help, and no silent empty output."""

from __future__ import annotations

import json

from conftest import SAMPLES, read_records, run_cli

TAVERN = str(SAMPLES / "tavern.sharegpt.jsonl")


def test_a_bad_step_option_is_one_line_and_exit_2(tmp_path):
    done = run_cli("run", TAVERN, "-o", str(tmp_path / "out.jsonl"), "typos", "--rate", "2")
    assert done.returncode == 2
    assert done.stderr.decode() == "Error: typos --rate must be between 0.0 and 1.0, got 2.0\n"
    assert not (tmp_path / "out.jsonl").exists()


def test_a_misspelled_step_gets_a_suggestion(tmp_path):
    done = run_cli("run", TAVERN, "-o", str(tmp_path / "out.jsonl"), "tpyos")
    assert done.returncode == 2
    assert "no augmenter or filter named 'tpyos'; did you mean 'typos'?" in done.stderr.decode()
    done = run_cli("filter", TAVERN, "-o", str(tmp_path / "out.jsonl"), "exact-duplicate")
    assert "no filter named 'exact-duplicate'; did you mean 'exact-duplicates'?" in done.stderr.decode()


def test_run_options_may_follow_the_steps(tmp_path):
    before = tmp_path / "before.jsonl"
    after = tmp_path / "after.jsonl"
    first = run_cli("run", TAVERN, "-o", str(before), "--seed", "5", "--repair", "typos", "--rate", "0.2", "-q")
    second = run_cli("run", TAVERN, "typos", "--rate", "0.2", "-o", str(after), "--seed", "5", "--repair", "-q")
    assert first.returncode == 0, first.stderr.decode()
    assert second.returncode == 0, second.stderr.decode()
    strip = lambda recs: [{k: v for k, v in r.items() if k != "provenance"} for r in recs]  # noqa: E731
    assert strip(read_records(before)) == strip(read_records(after))
    assert [r["provenance"]["seed"] for r in read_records(after)] == [5] * len(read_records(after))


def test_quiet_silences_per_record_lines_too(tmp_path):
    src = tmp_path / "in.jsonl"
    good = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello."}]}
    src.write_text(json.dumps(good) + "\n{broken\n" + json.dumps(good) + "\n")
    loud = run_cli("convert", str(src), "--to", "openai", "-o", str(tmp_path / "a.jsonl"), "--on-error", "skip")
    quiet = run_cli("convert", str(src), "--to", "openai", "-o", str(tmp_path / "b.jsonl"), "--on-error", "skip", "-q")
    assert f"{src}:2: invalid JSON" in loud.stderr.decode()
    assert quiet.returncode == 0 and quiet.stderr.decode() == ""


def test_run_help_groups_its_options():
    text = run_cli("run", "--help").stdout.decode()
    headings = [line.rstrip(":") for line in text.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    assert headings == ["Output", "Input", "Chain", "Executor", "Model", "Errors", "Safety", "Resume", "Options", "Commands"]


def test_validate_offers_only_the_options_it_honours():
    text = run_cli("validate", "--help").stdout.decode()
    for absent in ("--expand-placeholders", "--resume", "--on-error"):
        assert absent not in text


def test_a_run_that_writes_nothing_fails(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"conversations": [{"from": "robot", "value": "beep"}]}\n' * 3)
    done = run_cli("convert", str(src), "--to", "openai", "-o", str(tmp_path / "out.jsonl"), "--on-error", "skip")
    assert done.returncode == 1
    assert done.stderr.decode().splitlines()[-1] == "Error: read 3 record(s) and wrote none: every one was rejected (see the reasons above and the rejects file)"
