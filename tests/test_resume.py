"""Killed with SIGKILL in the middle, the same command with --resume goes on
where it stopped: no request made twice, no duplicate, and the same output as
a run that was never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess

from conftest import AUGMENT, SAMPLES, install_plugin, read_records, run_cli
from fake_model import answer

from augment.testing import ScriptedLLM

KILL_ONCE = '''
import os, signal
from pathlib import Path
import augment
from augment import TextAugmenter

MARK = Path(os.environ["KILL_MARK"])

class Shout(TextAugmenter):
    name = "shout"
    seen = 0

    def augment(self, conversation, context):
        Shout.seen += 1  # conversations, not text pieces: independent of how spans cut the text
        if Shout.seen == int(os.environ["KILL_AT"]) and not MARK.exists():
            MARK.write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
        return super().augment(conversation, context)

    def augment_text(self, text, rng):
        return text.upper()

@augment.hookimpl
def register_augmenters(register):
    register(Shout)
'''


def corpus(path, n):
    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_text().splitlines()
    path.write_text("".join(lines[i % len(lines)][:-1] + f', "n": {i}}}\n' for i in range(n)))


def test_resume_after_sigkill_gives_the_uninterrupted_output(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-shout", {"shout_plugin": KILL_ONCE}, {"shout": "shout_plugin"})
    source = tmp_path / "in.jsonl"
    corpus(source, 60)
    env = {"PYTHONPATH": str(site), "KILL_MARK": str(tmp_path / "mark"), "KILL_AT": "50"}
    out = tmp_path / "a" / "out.jsonl"
    args = ["run", str(source), "-o", str(out), "--seed", "4", "--workers", "1", "--batch-size", "8", "--on-error", "skip",
            "typos", "--variants", "2", "shout", "exact-duplicates"]
    killed = run_cli(*args, env=env)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()
    hidden = sorted(p.name for p in out.parent.iterdir())
    assert hidden == [".out.jsonl.journal", ".out.jsonl.partial", ".out.jsonl.rejects.jsonl.partial"]

    resumed = run_cli(args[0], "--resume", *args[1:], env=env)
    assert resumed.returncode == 0, resumed.stderr.decode()

    clean = tmp_path / "b" / "out.jsonl"
    whole = run_cli(*[clean if a == str(out) else a for a in map(str, args)], env={**env, "KILL_MARK": str(tmp_path / "mark")})
    assert whole.returncode == 0, whole.stderr.decode()
    assert out.read_bytes() == clean.read_bytes()
    rejects = tmp_path / "a" / "out.jsonl.rejects.jsonl"
    assert rejects.read_bytes() == (tmp_path / "b" / "out.jsonl.rejects.jsonl").read_bytes()
    assert all(r["reason"].startswith("exact-duplicates: ") for r in read_records(rejects))
    records = read_records(out)
    assert len(records) == len(read_records(clean)) > 60
    turns = [json_key({"messages": r["conversations"]}) for r in records]
    assert len(turns) == len(set(turns))  # exact-duplicates kept its memory across the kill
    assert {r["n"] for r in records} == set(range(60))
    assert sorted(p.name for p in out.parent.iterdir()) == ["README.md", "dataset_info.json", "out.jsonl", "out.jsonl.rejects.jsonl"]
    # the summary counts the whole run, not just the resumed part
    def summary(done):
        return next(line for line in done.stderr.decode().splitlines() if line.startswith("read "))

    assert summary(resumed) == summary(whole)
    assert summary(resumed).startswith(f"read 60, written {len(records)}")


def test_resume_makes_no_request_twice(tmp_path):
    source = tmp_path / "in.jsonl"
    corpus(source, 40)
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, AUGMENT_CACHE=str(tmp_path / "cache"), OPENAI_API_KEY="sk-test")
    killed = {}

    with ScriptedLLM(responder=lambda body: answer(body)) as llm:
        def responder(body):
            if len(llm.requests) == 20 and "proc" in killed:
                os.kill(killed["proc"].pid, signal.SIGKILL)
            return answer(body)

        llm.responder = responder
        args = [str(AUGMENT), "run", str(source), "-o", str(out), "--model", "openai/fake", "--api-base", llm.url,
                "--concurrency", "1", "--batch-size", "8", "--repair", "dialogue-extension", "--turns", "2"]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        killed["proc"] = proc
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        asked_before = len(llm.requests)
        assert asked_before == 20

        resumed = subprocess.run(args[:2] + ["--resume"] + args[2:], capture_output=True, env=env, timeout=120)
        assert resumed.returncode == 0, resumed.stderr.decode()
        asked = len(llm.requests)
    # 19 were answered before the kill; the 20th was cut off and is asked again; 20 more are new
    assert asked == 20 + 21
    prompts = [json_key(r) for r in llm.requests]
    assert len(prompts) - len(set(prompts)) == 1  # only the request cut off by the kill was repeated
    assert len(read_records(out)) == 80


def json_key(body):
    import json

    return json.dumps([body["messages"], body.get("seed")], sort_keys=True)


def test_the_fingerprint_is_the_sha256_journals_were_written_with(tmp_path):
    """The fingerprint uses CPython's own SHA-256 (not hashlib's OpenSSL one,
    slower to import): a journal written before still matches."""
    import hashlib
    import json

    from augment.engine.resume import fingerprint

    data = tmp_path / "in.jsonl"
    data.write_text("{}\n")
    st = data.stat()
    args = ["convert", str(data), "--to", "openai", "-o", "out.jsonl"]
    material = [args, [[str(data), st.st_size, st.st_mtime_ns], [str(tmp_path / "gone"), None]]]
    got = fingerprint(args + ["--resume"], [str(data), str(tmp_path / "gone")])
    assert got == hashlib.sha256(json.dumps(material).encode()).hexdigest()
