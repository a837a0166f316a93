"""``augment validate`` on the sample corpora, the greeting repairs, and the
named-speaker script samples, through the real CLI.

The expected defects come from samples/README.md: in tavern.sharegpt.jsonl the
greeting comes first in tavern-003, -007 and -010, tavern-005 has two human
turns in a row (turns 0-1) and tavern-009 ends on a human turn. Validation runs
from the repository root so that locations read ``samples/...:LINE``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from augment.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).parent.parent / "samples"
TAVERN = "samples/tavern.sharegpt.jsonl"
HARBOR = "samples/harbor.script.txt"
JIANGHU = "samples/jianghu.script.txt"
AUGMENT = ROOT / ".venv" / "bin" / "augment"
if not AUGMENT.exists():
    AUGMENT = Path(sys.executable).parent / "augment"

GREETING_FIRST = ["tavern-003", "tavern-007", "tavern-010"]
DOUBLE_HUMAN = ["tavern-005"]
TRAILING_HUMAN = ["tavern-009"]
DEFECTIVE = sorted(GREETING_FIRST + DOUBLE_HUMAN + TRAILING_HUMAN)

STARTS_WITH_ASSISTANT = "starts with an assistant turn (a greeting?); trainers expect the user first"


def odd(n: int) -> str:
    return f"odd number of dialogue turns ({n}): it must end with an assistant answer"


def tavern() -> list[tuple[int, dict]]:
    """(line number, record) for every record of the tavern sample."""
    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_text(encoding="utf-8").splitlines()
    return [(n, json.loads(l)) for n, l in enumerate(lines, 1) if l.strip()]


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records}


def jsonl(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def repo(monkeypatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def invoke(args: list[str]):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def script_lines(path: Path) -> list[list[tuple[str, str]]]:
    """Scenes of a sample script as (speaker, text) pairs, read independently of the plugin."""
    scenes: list[list[tuple[str, str]]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("#"):
            scenes.append([])
        elif raw.strip():
            speaker, text = re.split(r"[:：]", raw, maxsplit=1)
            scenes[-1].append((speaker.strip(), text.strip()))
    return scenes


def scene_titles(path: Path) -> list[str]:
    return [l.lstrip("#").strip() for l in path.read_text(encoding="utf-8").splitlines() if l.startswith("#")]


# -- validate the tavern sample --------------------------------------------------------


def test_the_sample_has_the_defects_the_readme_lists():
    """Guards the fixture itself: the ids and shapes the other tests rely on."""
    records = by_id([r for _, r in tavern()])
    assert len(records) == 12
    for rid in GREETING_FIRST:
        assert records[rid]["conversations"][0]["from"] == "gpt"
    assert [t["from"] for t in records["tavern-005"]["conversations"][:2]] == ["human", "human"]
    assert records["tavern-009"]["conversations"][-1]["from"] == "human"


def test_validate_reports_exactly_the_defective_records(repo):
    result = invoke(["validate", TAVERN])

    assert result.exit_code == 1
    expected: list[str] = []
    for n, record in tavern():
        turns = len(record["conversations"])
        rid = record["id"]
        if rid in GREETING_FIRST:
            expected += [f"{TAVERN}:{n}: {STARTS_WITH_ASSISTANT}", f"{TAVERN}:{n}: {odd(turns)}"]
        elif rid in DOUBLE_HUMAN:
            expected += [f"{TAVERN}:{n}: turn 2: two user turns in a row", f"{TAVERN}:{n}: {odd(turns)}"]
        elif rid in TRAILING_HUMAN:
            expected += [f"{TAVERN}:{n}: {odd(turns)}"]
    assert result.stdout.splitlines() == expected
    flagged = {int(l.split(":")[1]) for l in result.stdout.splitlines()}
    assert sorted(r["id"] for n, r in tavern() if n in flagged) == DEFECTIVE
    assert result.stderr == "checked 12 records: 7 valid, 5 invalid\n"


def test_validate_the_wuxia_sample_flags_its_greetings(repo):
    result = invoke(["validate", "samples/wuxia.sharegpt.jsonl"])

    assert result.exit_code == 1
    lines = (SAMPLES / "wuxia.sharegpt.jsonl").read_text(encoding="utf-8").splitlines()
    greeting_lines = [n for n, l in enumerate(lines, 1) if json.loads(l)["id"] in ("wuxia-002", "wuxia-006")]
    starts = [l for l in result.stdout.splitlines() if l.endswith(STARTS_WITH_ASSISTANT)]
    assert starts == [f"samples/wuxia.sharegpt.jsonl:{n}: {STARTS_WITH_ASSISTANT}" for n in greeting_lines]
    assert {int(l.split(":")[1]) for l in result.stdout.splitlines()} == set(greeting_lines)
    assert result.stderr == "checked 8 records: 6 valid, 2 invalid\n"


def test_validate_a_clean_file_exits_0(tmp_path):
    clean = [r for _, r in tavern() if r["id"] not in DEFECTIVE]
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in clean), encoding="utf-8")

    result = invoke(["validate", str(path)])

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "checked 7 records: 7 valid, 0 invalid\n"


def test_validate_dash_o_needs_a_repair_policy(repo, tmp_path):
    result = invoke(["validate", TAVERN, "-o", str(tmp_path / "out.jsonl")])

    assert result.exit_code == 2
    assert "-o writes repaired records: add --repair or --greeting" in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- repairs --------------------------------------------------------------------------

TRAIL = ["dropped the trailing user turn"]
MERGE = ["merged 1 turn(s) into the previous turn of the same role"]


@pytest.mark.parametrize(
    "options, greeting_repair",
    [
        (["--greeting", "fold-into-system"], "folded the assistant greeting into the system prompt"),
        (["--repair"], "folded the assistant greeting into the system prompt"),
        (["--greeting", "insert-user"], "inserted a user turn 'Hello.' before the assistant greeting"),
        (["--greeting", "insert-user", "--opener", "Evening, Mira."], "inserted a user turn 'Evening, Mira.' before the assistant greeting"),
        (["--greeting", "drop"], "dropped the assistant greeting"),
    ],
    ids=["fold", "repair-flag", "insert-user", "insert-user-opener", "drop"],
)
def test_repaired_output_validates_clean_and_records_its_repairs(repo, tmp_path, options, greeting_repair):
    out = tmp_path / "fixed.jsonl"

    result = invoke(["validate", TAVERN, *options, "-o", str(out)])

    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == "repaired and checked 12 records: 12 valid, 0 invalid, 5 repaired\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset_info.json", "fixed.jsonl"]
    assert json.loads((tmp_path / "dataset_info.json").read_text())["fixed"]["formatting"] == "sharegpt"

    again = invoke(["validate", str(out)])
    assert again.exit_code == 0, again.stdout
    assert again.stdout == ""
    assert again.stderr == "checked 12 records: 12 valid, 0 invalid\n"

    fixed = jsonl(out)
    assert [r["id"] for r in fixed] == [r["id"] for _, r in tavern()]
    for record in fixed:
        rid = record["id"]
        if rid in GREETING_FIRST:
            assert record["provenance"] == {"repairs": [greeting_repair]}, rid
        elif rid in DOUBLE_HUMAN:
            assert record["provenance"] == {"repairs": MERGE}, rid
        elif rid in TRAILING_HUMAN:
            assert record["provenance"] == {"repairs": TRAIL}, rid
        else:
            assert "provenance" not in record, rid


@pytest.mark.parametrize("policy", ["fold-into-system", "insert-user", "drop"])
def test_what_each_greeting_policy_does_to_the_greeting(repo, tmp_path, policy):
    out = tmp_path / "fixed.jsonl"
    assert invoke(["validate", TAVERN, "--greeting", policy, "-o", str(out)]).exit_code == 0
    original = by_id([r for _, r in tavern()])
    fixed = by_id(jsonl(out))

    for rid in GREETING_FIRST:
        before, after = original[rid], fixed[rid]
        greeting = before["conversations"][0]
        rest = before["conversations"][1:]
        if policy == "fold-into-system":
            assert after["system"] == before["system"] + "\n\n" + greeting["value"]
            assert after["conversations"] == rest
        elif policy == "insert-user":
            assert after["system"] == before["system"]
            assert after["conversations"] == [{"from": "human", "value": "Hello."}, *before["conversations"]]
        else:
            assert after["system"] == before["system"]
            assert after["conversations"] == rest

    # the same for every policy: turns 0-1 of tavern-005 merged, tavern-009's last turn dropped
    five = original["tavern-005"]["conversations"]
    assert fixed["tavern-005"]["conversations"] == [
        {"from": "human", "value": five[0]["value"] + "\n" + five[1]["value"]},
        *five[2:],
    ]
    assert fixed["tavern-009"]["conversations"] == original["tavern-009"]["conversations"][:-1]


def test_convert_repair_writes_the_same_provenance(repo, tmp_path):
    out = tmp_path / "fixed.jsonl"

    result = invoke(["convert", TAVERN, "--greeting", "drop", "-o", str(out)])

    assert result.exit_code == 0, result.stderr
    err = result.stderr.splitlines()
    assert "read 12, written 12, rejected 0, repaired 5" in err
    assert "  repaired 3: dropped the assistant greeting" in err
    repairs = {r["id"]: r["provenance"]["repairs"] for r in jsonl(out) if "provenance" in r}
    assert repairs == {
        **{rid: ["dropped the assistant greeting"] for rid in GREETING_FIRST},
        "tavern-005": MERGE,
        "tavern-009": TRAIL,
    }


def test_validate_from_stdin_writes_the_repaired_records(tmp_path):
    data = (SAMPLES / "tavern.sharegpt.jsonl").read_bytes()
    env = dict(os.environ)

    proc = subprocess.run(
        [str(AUGMENT), "validate", "-", "--greeting", "drop", "-o", "out.jsonl"],
        input=data, capture_output=True, cwd=tmp_path, env=env, timeout=120,
    )

    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode() == "repaired and checked 12 records: 12 valid, 0 invalid, 5 repaired\n"
    assert len(jsonl(tmp_path / "out.jsonl")) == 12


# -- named-speaker scripts -------------------------------------------------------------


@pytest.mark.parametrize(
    "script, speaker",
    [(HARBOR, "Mira"), (JIANGHU, "林霜")],
    ids=["harbor", "jianghu"],
)
def test_script_converts_to_sharegpt_keeping_speaker_names(repo, tmp_path, script, speaker):
    out = tmp_path / "script.sharegpt.jsonl"

    result = invoke(["convert", script, "--as", speaker, "--to", "sharegpt", "-o", str(out)])

    assert result.exit_code == 0, result.stderr
    scenes = script_lines(ROOT / script)
    records = jsonl(out)
    assert len(records) == len(scenes)
    assert [r["scene"] for r in records] == scene_titles(ROOT / script)
    for record, scene in zip(records, scenes):
        assert record["conversations"] == [
            {"from": "gpt" if who == speaker else "human", "value": text, "name": who} for who, text in scene
        ]
        assert "system" not in record
    err = result.stderr.splitlines()
    assert f"read {len(scenes)}, written {len(scenes)}, rejected 0, repaired 0" in err
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["script.sharegpt"]["formatting"] == "sharegpt"


def test_script_sample_sizes_match_the_readme():
    harbor, jianghu = script_lines(SAMPLES / "harbor.script.txt"), script_lines(SAMPLES / "jianghu.script.txt")
    assert (len(harbor), sum(map(len, harbor))) == (3, 24)
    assert (len(jianghu), sum(map(len, jianghu))) == (2, 16)
    assert {w for s in harbor for w, _ in s} == {"Mira", "Captain Rhys", "Old Tam"}
    assert {w for s in jianghu for w, _ in s} == {"林霜", "阿青", "掌柜"}


def heading_lines(path: Path) -> list[int]:
    return [n for n, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if l.startswith("#")]


NEEDS_AS = "script input needs --as NAME to say who the assistant is (speakers: {})"


@pytest.mark.parametrize(
    "script, speakers",
    [(HARBOR, "Old Tam, Mira, Captain Rhys"), (JIANGHU, "掌柜, 阿青, 林霜")],
    ids=["harbor", "jianghu"],
)
@pytest.mark.parametrize("on_error", ["fail", "skip"])
def test_convert_script_without_as_is_an_error_naming_the_speakers(repo, tmp_path, script, speakers, on_error):
    result = invoke(["convert", script, "--to", "sharegpt", "-o", str(tmp_path / "out.jsonl"), "--on-error", on_error])

    assert result.exit_code == 1
    assert result.stderr == "Error: " + NEEDS_AS.format(speakers) + "\n"
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no output, no rejects, no temp files


def test_validate_script_without_as_stops_with_one_error_naming_the_speakers(repo):
    """Like convert: a missing --as is a usage error, said once, not once per scene."""
    result = invoke(["validate", HARBOR])

    assert result.exit_code == 1
    scenes = script_lines(SAMPLES / "harbor.script.txt")
    speakers = ", ".join(dict.fromkeys(who for who, _ in scenes[0]))
    assert speakers == "Old Tam, Mira, Captain Rhys"
    assert result.stdout == ""
    assert result.stderr == "Error: " + NEEDS_AS.format(speakers) + "\n"


def test_script_as_someone_absent_is_rejected_per_scene(repo, tmp_path):
    out = tmp_path / "out.jsonl"

    result = invoke(["convert", HARBOR, "--as", "Nobody", "--to", "sharegpt", "-o", str(out), "--on-error", "skip"])

    assert result.exit_code == 1  # nothing written
    assert result.stderr.splitlines()[-1] == "Error: read 3 record(s) and wrote none: every one was rejected (see the reasons above and the rejects file)"
    scenes = script_lines(SAMPLES / "harbor.script.txt")
    starts = heading_lines(SAMPLES / "harbor.script.txt")
    assert starts[0] == 1 and len(starts) == 3
    assert result.stderr.splitlines()[:3] == [
        f"{HARBOR}:{n}: 'Nobody' does not speak in this scene (speakers: {', '.join(dict.fromkeys(w for w, _ in scene))})"
        for n, scene in zip(starts, scenes)
    ]
    assert "read 3, written 0, rejected 3, repaired 0" in result.stderr.splitlines()
    assert out.read_bytes() == b""
    assert [e["location"] for e in jsonl(tmp_path / "out.jsonl.rejects.jsonl")] == [f"{HARBOR}:{n}" for n in starts]


def test_script_as_without_script_input_is_a_usage_error(repo):
    result = invoke(["validate", TAVERN, "--as", "Mira"])

    assert result.exit_code == 1
    assert result.stderr == "Error: --as applies to script or novel input: add --from script or use a .txt file\n"


def test_repaired_script_validates_clean_and_keeps_names_inline_when_merged(repo, tmp_path):
    out = tmp_path / "harbor.jsonl"

    result = invoke(["convert", HARBOR, "--as", "Mira", "--to", "sharegpt", "--repair", "-o", str(out)])

    assert result.exit_code == 0, result.stderr
    assert invoke(["validate", str(out)]).exit_code == 0
    scene2 = jsonl(out)[1]["conversations"]
    rhys, tam = script_lines(SAMPLES / "harbor.script.txt")[1][:2]
    # two user-side speakers in a row become one turn with both names in the text
    assert scene2[0] == {"from": "human", "value": f"{rhys[0]}: {rhys[1]}\n{tam[0]}: {tam[1]}"}
    assert all(m["name"] == "Mira" for m in scene2 if m["from"] == "gpt")
