"""Under load and abuse: a model server failing 30% of requests, and readers
fed malformed input. The run completes and every input record is accounted
for; a bad line is always `file:line: why`, never a traceback."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner
from conftest import SAMPLES, read_records, run_cli
from fake_model import answer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augment.cli import main
from augment.dataio.streams import read_json_records
from augment.testing import Reply, ScriptedLLM


def test_a_server_failing_30_percent_of_requests(tmp_path):
    faults = [
        Reply(status=429, retry_after=0),
        Reply(status=500),
        Reply(delay=2),  # longer than --timeout
        Reply(raw=b'{"id": "x", "choices": [{"message": {"content": "{\\"turns\\": [{\\"ro'),  # cut short
        Reply("I'd be glad to help! Here is the continuation, not in JSON."),
        Reply(status=503),
    ]
    count = {"n": 0}

    def responder(body):
        count["n"] += 1
        n = count["n"]
        if n % 10 in (1, 4, 7):  # 30% of requests
            return faults[(n // 10 + n) % len(faults)]
        return answer(body)

    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_text().splitlines()
    source = tmp_path / "in.jsonl"
    source.write_text("".join(lines[i % 12][:-1] + f', "n": {i}}}\n' for i in range(48)))
    out = tmp_path / "out.jsonl"
    with ScriptedLLM(responder=responder) as llm:
        done = run_cli(
            "run", str(source), "-o", str(out), "--model", "openai/flaky", "--api-base", llm.url, "--timeout", "1",
            "--retries", "2", "--concurrency", "8", "--repair", "--no-originals", "--on-error", "skip", "--seed", "2",
            "dialogue-extension", "--turns", "2",
            env={"AUGMENT_CACHE": str(tmp_path / "cache"), "OPENAI_API_KEY": "sk-test"},
        )
        requests = len(llm.requests)
    assert done.returncode == 0, done.stderr.decode()
    written = read_records(out)
    rejected = read_records(tmp_path / "out.jsonl.rejects.jsonl") if (tmp_path / "out.jsonl.rejects.jsonl").exists() else []
    accounted = {r["n"] for r in written} | {r["record"]["n"] for r in rejected}
    assert accounted == set(range(48))  # every input record: written, or rejected with its reason
    assert len(written) + len(rejected) == 48
    assert all(r["reason"] for r in rejected)
    assert requests > 48 and "retried" in done.stderr.decode()


LINE = st.one_of(
    st.just(b'{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "*nods* hello"}]}'),
    st.just(b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}'),
    st.just(b'{"instruction": "q", "output": "a"}'),
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"[1, 2]", b"null", b'"text"', b"{", b'{"conversations": "hi"}', b'{"conversations": [{"from": "narrator", "value": "x"}]}',
                     b"\xff\xfe\xfa", b'{"a": NaN}', b'{"messages": [{"role": "user", "content": 5}]}', b"  ", b"\xef\xbb\xbf{}"]),
    st.integers(1000, 200_000).map(lambda n: b'{"conversations": [{"from": "human", "value": "' + b"x" * n + b'"}]}'),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(lines=st.lists(LINE, max_size=12), crlf=st.booleans(), bom=st.booleans())
def test_the_reader_never_raises_and_every_problem_has_a_line(lines, crlf, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + (b"\r\n" if crlf else b"\n").join(lines)
    total_lines = data.count(b"\n") + 1
    for raw in read_json_records(io.BytesIO(data), "fuzz.jsonl"):
        assert 1 <= raw.location.line <= total_lines
        if raw.error is None:
            assert isinstance(raw.value, dict)
        else:
            assert raw.error and "\n" not in raw.error


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture], deadline=None)
@given(lines=st.lists(LINE, max_size=10), crlf=st.booleans())
def test_the_cli_reports_bad_lines_and_keeps_the_good_ones(tmp_path, lines, crlf):
    data = (b"\r\n" if crlf else b"\n").join(lines) + b"\n"
    source = tmp_path / "fuzz.jsonl"
    source.write_bytes(data)
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(main, ["convert", str(source), "--to", "openai", "-o", str(out), "--on-error", "skip", "--rejects", str(rejects), "-q"])
    written = read_records(out) if out.read_bytes().strip() else []
    # JSON Lines are split on "\n" only: str.splitlines() would also split on U+0085 inside a string
    rejected = [json.loads(line) for line in rejects.read_text().split("\n") if line]
    if written or not rejected:
        assert result.exit_code == 0, result.output
        assert result.stderr == ""  # -q: no per-record lines, no summary
    else:  # records were read and none written: that is a failure, whatever --on-error says
        assert result.exit_code == 1
        assert result.stderr == f"Error: read {len(rejected)} record(s) and wrote none: every one was rejected (see the reasons above and the rejects file)\n"
    for rej in rejected:
        assert rej["location"].startswith(f"{source}:") and rej["reason"]
    good = sum(1 for line in lines if line.startswith(b"{") and _is_good(line))
    assert len(written) >= good


def _is_good(line: bytes) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return value in (
        {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "*nods* hello"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        {"instruction": "q", "output": "a"},
    )


def test_plugins_load_only_from_entry_points(tmp_path, monkeypatch):
    """A module lying around in the working directory is never imported as a plugin."""
    (tmp_path / "augment_evil.py").write_text("raise SystemExit('imported!')\n")
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "evil.py").write_text("raise SystemExit('imported!')\n")
    done = run_cli("plugins", cwd=tmp_path)
    assert done.returncode == 0 and b"imported!" not in done.stdout + done.stderr


def test_a_next_line_character_inside_a_record_is_data(tmp_path):
    """U+0085 (and U+2028) are not line ends in JSON Lines."""
    source = tmp_path / "in.jsonl"
    record = {"conversations": [{"from": "human", "value": "one\u0085two\u2028three"}, {"from": "gpt", "value": "ok"}]}
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n\u0085\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = run_cli("convert", str(source), "-o", str(out), "--on-error", "skip")
    assert done.returncode == 0, done.stderr.decode()
    assert read_records(out) == [record]
    assert f"{source}:2: invalid JSON" in done.stderr.decode()


def test_a_jsonl_file_is_read_line_by_line_even_if_a_line_starts_with_a_bracket(tmp_path):
    source = tmp_path / "in.jsonl"
    good = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    source.write_text("[1, 2\n" + json.dumps(good) + "\n")
    out = tmp_path / "out.jsonl"
    done = run_cli("convert", str(source), "-o", str(out), "--on-error", "skip")
    assert done.returncode == 0
    assert read_records(out) == [good]
    assert f"{source}:1: invalid JSON" in done.stderr.decode()
