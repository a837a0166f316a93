"""The streaming reader and how it reports bad input, through the real CLI.

Every test writes real files into ``tmp_path`` and runs ``augment convert``,
either in-process (click's CliRunner, with stdout and stderr kept apart) or as
a subprocess of ``.venv/bin/augment`` where stdin/stdout piping matters.
Messages are asserted exactly where the code spells them out; orjson's own
wording after ``invalid JSON:`` is not ours, so only that prefix is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from augment.cli import main

ROOT = Path(__file__).resolve().parent.parent
AUGMENT = ROOT / ".venv" / "bin" / "augment"
if not AUGMENT.exists():  # the tests may run from another venv
    AUGMENT = Path(sys.executable).parent / "augment"

STOP_HINT = "(stopped at the first bad record; --on-error skip rejects bad records and goes on)"
SHAREGPT_KNOWN = "(known: 'human', 'gpt', 'observation', 'function_call', 'system')"
CANNOT_TELL = (
    "cannot tell the format of this record (no 'conversations', 'messages' or "
    "'instruction'/'output' fields); name it with --from"
)


# -- helpers -------------------------------------------------------------------------


def good(n: int) -> dict:
    """A valid ShareGPT record, distinct per ``n``."""
    return {
        "id": f"rec-{n}",
        "conversations": [
            {"from": "human", "value": f"Hello {n}"},
            {"from": "gpt", "value": f"Welcome, traveller {n}."},
        ],
    }


def line(record) -> str:
    return json.dumps(record, ensure_ascii=False)


def write_lines(path: Path, lines: list[str], ending: str = "\n") -> Path:
    path.write_bytes("".join(l + ending for l in lines).encode("utf-8"))
    return path


def invoke(args: list[str], input: bytes | None = None):
    return CliRunner().invoke(main, args, input=input, catch_exceptions=False)


def run_augment(args: list[str], cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONIOENCODING", None)
    return subprocess.run(
        [str(AUGMENT), *args], input=input, capture_output=True, cwd=cwd, env=env, timeout=120
    )


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def jsonl(path: Path) -> list:
    """Records of a JSON Lines file; every non-empty line must be JSON."""
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]


def count_lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


@pytest.fixture
def cwd(tmp_path, monkeypatch) -> Path:
    """Run in tmp_path so that file labels in messages are short relative names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- --on-error fail (the default) --------------------------------------------------


def test_malformed_json_mid_file_is_reported_with_its_line_and_stops(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), line(good(2)), '{"conversations": [oops', line(good(4)), "[1,2]"])

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl"])

    assert result.exit_code == 1
    err = result.stderr.splitlines()
    # said once: click's "Error: " with the location and reason, then the hint
    assert err[0].startswith("Error: in.jsonl:3: invalid JSON: ")
    assert err[1:] == [STOP_HINT]
    assert len(err) == 2  # stopped at line 3: line 5 is never reported, no summary
    assert result.stdout == ""
    # no output, no temp file, no rejects, no dataset_info.json
    assert listing(cwd) == ["in.jsonl"]


@pytest.mark.parametrize(
    "bad, options, reason",
    [
        ("[1,2]", [], "expected a JSON object, got an array"),
        ('"just text"', [], "expected a JSON object, got a string"),
        ("42", [], "expected a JSON object, got a number"),
        ('{"conversations": "hi"}', ["--from", "sharegpt"], "field 'conversations' must be an array, got a string"),
        ('{"id": "x"}', ["--from", "sharegpt"], "missing field 'conversations'"),
        ('{"id": "x"}', [], CANNOT_TELL),
        (
            '{"conversations": [{"from": "bot", "value": "beep"}]}',
            [],
            f"message 1: unknown role 'bot' in 'from' {SHAREGPT_KNOWN}",
        ),
        (
            '{"conversations": [{"from": "human", "value": "hi"}, {"from": "narrator", "value": "..."}]}',
            ["--from", "sharegpt"],
            f"message 2: unknown role 'narrator' in 'from' {SHAREGPT_KNOWN}",
        ),
        (
            '{"messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]}',
            [],
            "message 2: unknown role 'robot' (known: system, user, assistant, tool)",
        ),
        (
            '{"conversations": [{"from": "human", "value": 5}]}',
            [],
            "message 1: 'value' must be a string, got a number",
        ),
        (
            '{"conversations": [{"from": ["human"], "value": "hi"}]}',
            [],
            f"message 1: unknown role ['human'] in 'from' {SHAREGPT_KNOWN}",
        ),
        (
            '{"messages": [{"role": {"name": "user"}, "content": "hi"}]}',
            [],
            "message 1: unknown role {'name': 'user'} (known: system, user, assistant, tool)",
        ),
    ],
    ids=["array", "string", "number", "wrong-type", "missing-field", "no-format", "unknown-tag", "unknown-tag-2", "openai-role", "value-type", "list-tag", "object-role"],
)
def test_each_kind_of_bad_record_is_reported_as_file_line_why(cwd, bad, options, reason):
    write_lines(cwd / "in.jsonl", [line(good(1)), "", line(good(3)), bad, line(good(5))])

    failed = invoke(["convert", "in.jsonl", "-o", "out.jsonl", *options])
    assert failed.exit_code == 1
    assert failed.stderr == f"Error: in.jsonl:4: {reason}\n{STOP_HINT}\n"
    assert listing(cwd) == ["in.jsonl"]

    skipped = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip", *options])
    assert skipped.exit_code == 0, skipped.stderr
    err = skipped.stderr.splitlines()
    assert err[0] == f"in.jsonl:4: {reason}"
    assert "read 4, written 3, rejected 1, repaired 0" in err
    assert jsonl(cwd / "out.jsonl") == [good(1), good(3), good(5)]
    [entry] = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert entry == {"location": "in.jsonl:4", "reason": reason, "record": json.loads(bad)}


def test_wrong_type_without_from_does_not_claim_the_field_is_missing(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), '{"conversations": "hi"}'])

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    reason = result.stderr.splitlines()[0]
    assert reason.startswith("in.jsonl:2: ")
    assert "no 'conversations'" not in reason
    assert "'conversations'" in reason and "array" in reason


def test_fail_leaves_an_existing_output_untouched_and_no_partial_files(cwd):
    (cwd / "out.jsonl").write_bytes(b'{"old": true}\n')
    write_lines(cwd / "in.jsonl", [line(good(n)) for n in range(1, 50)] + ["{broken"])

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl"])

    assert result.exit_code == 1
    assert "in.jsonl:50: invalid JSON" in result.stderr
    assert (cwd / "out.jsonl").read_bytes() == b'{"old": true}\n'
    assert listing(cwd) == ["in.jsonl", "out.jsonl"]


# -- --on-error skip: rejects and accounting ------------------------------------------


def test_skip_accounts_for_every_record_of_a_mixed_file(cwd):
    lines = [
        line(good(1)),
        "{not json",
        line(good(3)),
        "",
        "[1,2]",
        line(good(6)),
        '{"conversations": [{"from": "bot", "value": "x"}]}',
        "   ",
        '{"id": 9}',
        line(good(10)),
        line(good(11)),
        "null",
    ]
    write_lines(cwd / "mixed.jsonl", lines)
    non_blank = sum(1 for l in lines if l.strip())

    result = invoke(["convert", "mixed.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0, result.stderr
    out, rejects = cwd / "out.jsonl", cwd / "out.jsonl.rejects.jsonl"
    written, rejected = count_lines(out), count_lines(rejects)
    assert written + rejected == non_blank == 10
    assert (written, rejected) == (5, 5)
    assert jsonl(out) == [good(1), good(3), good(6), good(10), good(11)]

    entries = jsonl(rejects)
    assert [e["location"] for e in entries] == ["mixed.jsonl:2", "mixed.jsonl:5", "mixed.jsonl:7", "mixed.jsonl:9", "mixed.jsonl:12"]
    assert all(set(e) <= {"location", "reason", "record", "raw"} for e in entries)
    assert entries[0]["raw"] == "{not json" and entries[0]["reason"].startswith("invalid JSON: ")
    assert entries[1] == {"location": "mixed.jsonl:5", "reason": "expected a JSON object, got an array", "record": [1, 2]}
    assert entries[2]["record"] == json.loads(lines[6])
    assert entries[2]["reason"] == f"message 1: unknown role 'bot' in 'from' {SHAREGPT_KNOWN}"
    assert entries[3] == {"location": "mixed.jsonl:9", "reason": CANNOT_TELL, "record": {"id": 9}}
    assert entries[4]["reason"] == "expected a JSON object, got null"

    err = result.stderr.splitlines()
    assert [l.split(": ", 1)[0] for l in err[:5]] == [e["location"] for e in entries]
    assert "read 10, written 5, rejected 5, repaired 0" in err
    assert "  rejects are in out.jsonl.rejects.jsonl" in err
    assert "wrote out.jsonl and its entry in dataset_info.json" in err
    assert result.stdout == ""


def test_a_null_line_keeps_its_text_in_the_rejects_file(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), "null"])

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    [entry] = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert entry["location"] == "in.jsonl:2"
    assert ("record" in entry and entry["record"] is None) or entry.get("raw") == "null"


def test_rejects_option_names_the_rejects_file(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), "[true]", line(good(3))])

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip", "--rejects", "bad/why.jsonl"])

    assert result.exit_code == 0, result.stderr
    assert jsonl(cwd / "bad" / "why.jsonl") == [
        {"location": "in.jsonl:2", "reason": "expected a JSON object, got an array", "record": [True]}
    ]
    assert not (cwd / "out.jsonl.rejects.jsonl").exists()
    assert "  rejects are in bad/why.jsonl" in result.stderr.splitlines()
    assert count_lines(cwd / "out.jsonl") == 2
    assert not [p for p in cwd.rglob("*.partial")]


def test_rejects_with_stdout_output_go_only_to_the_named_file(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), "{", line(good(3))])

    skipped = invoke(["convert", "in.jsonl", "-o", "-", "--on-error", "skip"])
    assert skipped.exit_code == 0
    assert listing(cwd) == ["in.jsonl"]  # no default rejects file without an output file

    named = invoke(["convert", "in.jsonl", "-o", "-", "--on-error", "skip", "--rejects", "r.jsonl"])
    assert named.exit_code == 0
    assert [e["location"] for e in jsonl(cwd / "r.jsonl")] == ["in.jsonl:2"]
    assert jsonl(cwd / "r.jsonl")[0]["raw"] == "{"


def test_a_clean_skip_run_removes_the_stale_default_rejects_file(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), "[1]"])
    assert invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"]).exit_code == 0
    assert (cwd / "out.jsonl.rejects.jsonl").exists()

    write_lines(cwd / "in.jsonl", [line(good(1)), line(good(2))])
    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    assert not (cwd / "out.jsonl.rejects.jsonl").exists()
    assert "rejects are in" not in result.stderr
    assert count_lines(cwd / "out.jsonl") == 2


def test_a_clean_skip_run_does_not_leave_a_stale_named_rejects_file(cwd):
    write_lines(cwd / "in.jsonl", [line(good(1)), "[1]"])
    assert invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip", "--rejects", "rej.jsonl"]).exit_code == 0
    assert count_lines(cwd / "rej.jsonl") == 1

    write_lines(cwd / "in.jsonl", [line(good(1)), line(good(2))])
    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip", "--rejects", "rej.jsonl"])

    assert result.exit_code == 0
    assert count_lines(cwd / "out.jsonl") == 2
    assert not (cwd / "rej.jsonl").exists() or count_lines(cwd / "rej.jsonl") == 0


def test_only_twenty_rejects_are_echoed_but_all_are_in_the_rejects_file(cwd):
    lines = [line(good(0))] + [f"[{n}]" for n in range(25)]
    write_lines(cwd / "in.jsonl", lines)

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    err = result.stderr.splitlines()
    assert err[:20] == [f"in.jsonl:{n}: expected a JSON object, got an array" for n in range(2, 22)]
    assert err[20] == "... more rejects not shown; see the rejects file"
    assert "read 26, written 1, rejected 25, repaired 0" in err
    assert [e["location"] for e in jsonl(cwd / "out.jsonl.rejects.jsonl")] == [f"in.jsonl:{n}" for n in range(2, 27)]


# -- encodings, line ends, blank lines, empty input -----------------------------------


def test_bom_and_crlf_are_read_and_line_numbers_stay_right(cwd):
    lines = [line(good(1)), "", line(good(3)), "  ", "[3]", line(good(6))]
    (cwd / "in.jsonl").write_bytes(b"\xef\xbb\xbf" + "".join(l + "\r\n" for l in lines).encode())

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == "in.jsonl:5: expected a JSON object, got an array"
    assert jsonl(cwd / "out.jsonl") == [good(1), good(3), good(6)]
    assert b"\r" not in (cwd / "out.jsonl").read_bytes()
    assert jsonl(cwd / "out.jsonl.rejects.jsonl") == [
        {"location": "in.jsonl:5", "reason": "expected a JSON object, got an array", "record": [3]}
    ]


def test_bom_on_a_bad_first_line_is_not_part_of_the_raw_text(cwd):
    (cwd / "in.jsonl").write_bytes(b"\xef\xbb\xbf{oops\r\n" + line(good(2)).encode() + b"\r\n")

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    [entry] = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert entry["location"] == "in.jsonl:1" and entry["raw"] == "{oops"
    assert entry["reason"].startswith("invalid JSON: ")


def test_blank_lines_are_skipped_but_counted_for_line_numbers(cwd):
    lines = ["", "", line(good(3)), "", "\t", line(good(6)), "", "{bad", "", line(good(10)), ""]
    write_lines(cwd / "in.jsonl", lines)

    failed = invoke(["convert", "in.jsonl", "-o", "out.jsonl"])
    assert failed.exit_code == 1
    assert failed.stderr.startswith("Error: in.jsonl:8: invalid JSON: ")

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])
    assert result.exit_code == 0
    assert "read 4, written 3, rejected 1, repaired 0" in result.stderr.splitlines()
    assert jsonl(cwd / "out.jsonl") == [good(3), good(6), good(10)]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n\r\n"], ids=["empty", "blank", "bom", "bom-crlf"])
def test_an_empty_file_gives_zero_records_and_exits_0(cwd, content):
    (cwd / "in.jsonl").write_bytes(content)

    result = invoke(["convert", "in.jsonl", "-o", "out.jsonl"])

    assert result.exit_code == 0, result.stderr
    assert result.stderr == "read 0, written 0, rejected 0, repaired 0\n"
    assert (cwd / "out.jsonl").read_bytes() == b""
    assert listing(cwd) == ["in.jsonl", "out.jsonl"]  # no dataset_info.json for nothing written


def test_invalid_utf8_is_reported_with_line_and_byte(cwd):
    bad = b'{"conversations":[{"from":"human","value":"caf\xe9"},{"from":"gpt","value":"oui"}]}'
    data = b"\n".join([line(good(1)).encode(), b"", bad, line(good(4)).encode()]) + b"\n"
    (cwd / "in.jsonl").write_bytes(data)
    at = bad.index(b"\xe9") + 1
    reason = f"invalid UTF-8 at byte {at}"

    failed = invoke(["convert", "in.jsonl", "-o", "out.jsonl"])
    assert failed.exit_code == 1
    assert failed.stderr == f"Error: in.jsonl:3: {reason}\n{STOP_HINT}\n"
    assert listing(cwd) == ["in.jsonl"]

    skipped = invoke(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"])
    assert skipped.exit_code == 0
    assert jsonl(cwd / "out.jsonl") == [good(1), good(4)]
    [entry] = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert entry == {"location": "in.jsonl:3", "reason": reason, "raw": bad.decode("utf-8", "replace")}


# -- .json arrays ---------------------------------------------------------------------


def test_json_array_bad_elements_report_their_own_lines(cwd):
    records = [good(1), {"conversations": "hi"}, [1, 2], good(4), {"id": "no-conv"}]
    text = json.dumps(records, indent=2)
    (cwd / "in.json").write_text(text, encoding="utf-8")
    starts = [n for n, l in enumerate(text.splitlines(), 1) if l in ("  {", "  [")]
    assert len(starts) == 5

    result = invoke(["convert", "in.json", "--from", "sharegpt", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[:3] == [
        f"in.json:{starts[1]}: field 'conversations' must be an array, got a string",
        f"in.json:{starts[2]}: expected a JSON object, got an array",
        f"in.json:{starts[4]}: missing field 'conversations'",
    ]
    assert jsonl(cwd / "out.jsonl") == [good(1), good(4)]
    rejects = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert [(e["location"], e["record"]) for e in rejects] == [
        (f"in.json:{starts[1]}", records[1]),
        (f"in.json:{starts[2]}", records[2]),
        (f"in.json:{starts[4]}", records[4]),
    ]
    assert count_lines(cwd / "out.jsonl") + len(rejects) == len(records)

    failed = invoke(["convert", "in.json", "--from", "sharegpt", "-o", "fail.jsonl"])
    assert failed.exit_code == 1
    assert f"Error: in.json:{starts[1]}: field 'conversations' must be an array, got a string" in failed.stderr
    assert not (cwd / "fail.jsonl").exists()


def test_json_array_syntax_error_reports_its_line_and_stops_reading(cwd):
    text = "[\n" + line(good(1)) + ",\n" + line(good(2)) + ",\n{\"conversations\": [}\n," + line(good(4)) + "\n]\n"
    (cwd / "in.json").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())

    result = invoke(["convert", "in.json", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    first = result.stderr.splitlines()[0]
    assert first.startswith("in.json:4: invalid JSON: ")
    assert first.endswith("; the rest of the array cannot be read")
    assert jsonl(cwd / "out.jsonl") == [good(1), good(2)]
    [entry] = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert entry["location"] == "in.json:4" and entry["raw"].startswith('{"conversations": [}')


@pytest.mark.parametrize(
    "tail, where, reason",
    [
        ("\n]\n\nextra", 5, "text after the closing ']'"),
        ("\n", 3, "invalid JSON: the array is not closed"),
        ("\n\n" + line(good(9)) + "]", 4, "invalid JSON: expected ',' or ']' between records"),
    ],
    ids=["trailing-text", "unclosed", "missing-comma"],
)
def test_json_array_framing_errors(cwd, tail, where, reason):
    (cwd / "in.json").write_text("[\n" + line(good(1)) + tail, encoding="utf-8")

    result = invoke(["convert", "in.json", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == f"in.json:{where}: {reason}"
    assert jsonl(cwd / "out.jsonl") == [good(1)]
    assert [e["location"] for e in jsonl(cwd / "out.jsonl.rejects.jsonl")] == [f"in.json:{where}"]


def test_json_array_with_invalid_utf8_reports_the_line_of_the_bad_byte(cwd):
    data = ("[\n" + line(good(1)) + ",\n").encode() + b'{"conversations": [{"from": "human", "value": "\xff"}]}\n]\n'

    (cwd / "in.json").write_bytes(data)
    result = invoke(["convert", "in.json", "-o", "out.jsonl"])

    assert result.exit_code == 1
    at = data.index(b"\xff") + 1
    reason = f"invalid UTF-8 at byte {at}; the file cannot be read"
    assert result.stderr.splitlines() == [f"Error: in.json:3: {reason}", STOP_HINT]
    assert listing(cwd) == ["in.json"]


def test_empty_json_array_gives_zero_records(cwd):
    (cwd / "in.json").write_bytes(b"\xef\xbb\xbf  [ \r\n ]\r\n")

    result = invoke(["convert", "in.json", "-o", "out.json"])

    assert result.exit_code == 0
    assert result.stderr == "read 0, written 0, rejected 0, repaired 0\n"
    assert json.loads((cwd / "out.json").read_text()) == []


def test_json_array_after_long_leading_whitespace_is_still_an_array(cwd):
    (cwd / "in.json").write_text("\n" * 70 + json.dumps([good(1), good(2)], indent=2), encoding="utf-8")

    result = invoke(["convert", "in.json", "-o", "out.jsonl", "--on-error", "skip"])

    assert result.exit_code == 0
    assert "read 2, written 2, rejected 0, repaired 0" in result.stderr.splitlines()
    assert jsonl(cwd / "out.jsonl") == [good(1), good(2)]


# -- stdin and stdout (subprocess: real pipes) ----------------------------------------


def test_stdin_to_stdout_holds_only_json_lines(tmp_path):
    lines = [line(good(1)), "", "{torn", line(good(4)), "[4]", line(good(6))]
    data = b"\xef\xbb\xbf" + "".join(l + "\r\n" for l in lines).encode()

    proc = run_augment(["convert", "-", "-o", "-", "--on-error", "skip"], cwd=tmp_path, input=data)

    assert proc.returncode == 0, proc.stderr.decode()
    out_lines = proc.stdout.decode("utf-8").splitlines()
    assert [json.loads(l) for l in out_lines] == [good(1), good(4), good(6)]
    err = proc.stderr.decode("utf-8").splitlines()
    assert err[0].startswith("<stdin>:3: invalid JSON: ")
    assert err[1] == "<stdin>:5: expected a JSON object, got an array"
    assert "read 5, written 3, rejected 2, repaired 0" in err
    assert len(out_lines) + 2 == 5
    assert listing(tmp_path) == []  # nothing written beside, no rejects file, no dataset_info.json


def test_stdin_fail_exits_non_zero_with_the_stdin_location(tmp_path):
    data = (line(good(1)) + "\n\n[1,2]\n" + line(good(4)) + "\n").encode()

    proc = run_augment(["convert", "-", "-o", "out.jsonl"], cwd=tmp_path, input=data)

    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        "Error: <stdin>:3: expected a JSON object, got an array\n" + STOP_HINT + "\n"
    )
    assert proc.stdout == b""
    assert listing(tmp_path) == []


def test_stdin_json_array_to_stdout(tmp_path):
    records = [good(1), [1], good(3)]
    text = json.dumps(records, indent=1)
    where = text.splitlines().index(" [") + 1  # the line the [1] element starts on
    data = text.encode()

    proc = run_augment(["convert", "-", "-o", "-", "--on-error", "skip", "--rejects", "r.jsonl"], cwd=tmp_path, input=data)

    assert proc.returncode == 0, proc.stderr.decode()
    assert [json.loads(l) for l in proc.stdout.decode().splitlines()] == [good(1), good(3)]
    assert jsonl(tmp_path / "r.jsonl") == [
        {"location": f"<stdin>:{where}", "reason": "expected a JSON object, got an array", "record": [1]}
    ]


def test_file_to_stdout_writes_summary_to_stderr_only(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [line(good(n)) for n in range(1, 6)])

    proc = run_augment(["convert", str(src), "--to", "openai", "-o", "-"], cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert [r["messages"][0] for r in out] == [{"role": "user", "content": f"Hello {n}"} for n in range(1, 6)]
    assert proc.stderr.decode() == "read 5, written 5, rejected 0, repaired 0\n"
    assert listing(tmp_path) == ["in.jsonl"]


def test_stdin_to_a_file_writes_the_dataset_info_entry_like_a_file_input_does(tmp_path):
    data = (line(good(1)) + "\n").encode()

    proc = run_augment(["convert", "-", "-o", "out.jsonl"], cwd=tmp_path, input=data)

    assert proc.returncode == 0
    assert jsonl(tmp_path / "out.jsonl") == [good(1)]
    assert json.loads((tmp_path / "dataset_info.json").read_text())["out"]["formatting"] == "sharegpt"


# -- what the standard-library fallback reader lets through ----------------------------


def test_lone_surrogate_escape_is_rejected_or_written_not_a_crash(tmp_path):
    lines = [line(good(1)), '{"conversations":[{"from":"human","value":"\\ud800"},{"from":"gpt","value":"yo"}]}', line(good(3))]
    write_lines(tmp_path / "in.jsonl", lines)

    proc = run_augment(["convert", "in.jsonl", "-o", "out.jsonl", "--on-error", "skip"], cwd=tmp_path)

    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    assert proc.returncode == 0, err
    written = count_lines(tmp_path / "out.jsonl")
    rejects = tmp_path / "out.jsonl.rejects.jsonl"
    rejected = [e["location"] for e in jsonl(rejects)] if rejects.exists() else []
    assert rejected in ([], ["in.jsonl:2"])
    assert written + len(rejected) == 3


def test_nan_is_kept_or_rejected_not_silently_turned_into_null(tmp_path):
    record = line(good(1))[:-1] + ', "score": NaN}'
    write_lines(tmp_path / "in.jsonl", [record])

    proc = run_augment(["convert", "in.jsonl", "-o", "-", "--on-error", "skip"], cwd=tmp_path)

    out = [json.loads(l) for l in proc.stdout.decode().splitlines()]  # Python's json reads NaN back
    assert out == [] or (len(out) == 1 and out[0]["score"] != out[0]["score"])  # NaN != NaN
    assert proc.returncode == (0 if out else 1), proc.stderr.decode()  # rejected: nothing written, a failure


def test_a_rejected_record_with_a_big_integer_keeps_its_number_in_the_rejects_file(cwd):
    big = 123456789012345678901234567890  # past 64 bits: orjson cannot write it
    bad = '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "n", "n": %d}]}' % big
    write_lines(cwd / "in.jsonl", [line(good(1)), bad])

    done = invoke(["convert", "in.jsonl", "--to", "alpaca", "-o", "out.jsonl", "--on-error", "skip"])
    assert done.exit_code == 0, done.stderr
    [entry] = jsonl(cwd / "out.jsonl.rejects.jsonl")
    assert entry["location"] == "in.jsonl:2" and entry["reason"].startswith("cannot write as alpaca: ")
    assert entry["record"]["conversations"][1]["n"] == big


def test_a_long_number_is_told_by_a_run_of_19_digits_not_by_many_digits():
    from augment.dataio.streams import _has_long_number, loads

    assert _has_long_number(b'{"n": 1234567890123456789}')
    assert _has_long_number(b'{"a": 1, "b": "x", "c": 12345678901234567890123}')
    assert not _has_long_number(b'{"n": 123456789012345678}')
    assert not _has_long_number(b'{"a": 1234567890, "b": 1234567890, "c": 1234567890}')  # 30 digits, no run of 19
    assert loads(b'{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}  # kept, not a float
