"""The safety gate's optional judge (--judge-model): borderline records are
put to a model on a real 127.0.0.1 server; its verdict rejects or keeps them,
and no verdict rejects. Test sentences are short, clinical and written for
the project."""

from __future__ import annotations

import json

from conftest import read_records, run_cli

from augment.testing import ScriptedLLM

BORDERLINE = {"conversations": [{"from": "human", "value": "The two students meet after class."}, {"from": "gpt", "value": "The scene turns explicit and they have sex."}]}
CLEAR = {"conversations": [{"from": "human", "value": "Any work for a sellsword?"}, {"from": "gpt", "value": "*spits* Rats in the cellar. Five copper."}]}
EXPLICIT_MINOR = {"conversations": [{"from": "human", "value": "The character is 15 years old."}, {"from": "gpt", "value": "The scene turns explicit and they have sex."}]}


def write(tmp_path, records):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    return src


def judged(tmp_path, llm, records, *extra):
    out = tmp_path / "out.jsonl"
    done = run_cli(
        "convert", str(write(tmp_path, records)), "--to", "openai", "-o", str(out), "--on-error", "skip",
        "--judge-model", "openai/judge", "--judge-api-base", llm.url, "--judge-api-key-env", "JUDGE_KEY", "-q", *extra,
        env={"JUDGE_KEY": "sk-test-judge", "AUGMENT_CACHE": str(tmp_path / "cache")},
    )
    return done, out


def test_without_a_judge_a_borderline_record_passes_the_lexicon_gate(tmp_path):
    out = tmp_path / "out.jsonl"
    done = run_cli("convert", str(write(tmp_path, [BORDERLINE, EXPLICIT_MINOR])), "--to", "openai", "-o", str(out), "--on-error", "skip", "-q")
    assert done.returncode == 0, done.stderr.decode()
    assert len(read_records(out)) == 1  # the explicit one is rejected by the lexicons alone
    rejects = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert [r["reason"] for r in rejects] == ["safety: sexual content with a minor (age under 18 in turn 1; sexual term in turn 2)"]


def test_the_judge_rejects_what_it_finds_and_only_borderline_records_are_asked(tmp_path):
    with ScriptedLLM(responder=lambda body: '{"sexualises_minor": true, "reason": "the students are described as minors"}') as llm:
        done, out = judged(tmp_path, llm, [BORDERLINE, CLEAR])
        asked = len(llm.requests)
    assert done.returncode == 0, done.stderr.decode()
    assert asked == 1  # the clear record is never sent
    assert len(read_records(out)) == 1
    (reject,) = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert reject["reason"] == "safety: sexual content with a minor (judged by openai/judge: the students are described as minors)"
    sent = llm.requests[0]["messages"][1]["content"]
    assert "students" in sent and "sexualises_minor" in llm.requests[0]["messages"][0]["content"]


def test_a_judge_that_clears_a_record_keeps_it(tmp_path):
    with ScriptedLLM(responder=lambda body: '{"sexualises_minor": false, "reason": "adults at a university"}') as llm:
        done, out = judged(tmp_path, llm, [BORDERLINE])
    assert done.returncode == 0, done.stderr.decode()
    assert len(read_records(out)) == 1


def test_no_verdict_rejects(tmp_path):
    with ScriptedLLM(responder=lambda body: "I would rather not say.") as llm:
        done, out = judged(tmp_path, llm, [BORDERLINE, CLEAR])
    assert done.returncode == 0, done.stderr.decode()
    (reject,) = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert reject["reason"].startswith("safety: borderline, and the safety judge gave no verdict")


def test_a_judge_needs_the_gate(tmp_path):
    done = run_cli("convert", str(write(tmp_path, [CLEAR])), "--to", "openai", "-o", str(tmp_path / "o.jsonl"), "--no-safety", "--judge-model", "openai/judge")
    assert done.returncode == 2
    assert "cannot go with --no-safety" in done.stderr.decode()
