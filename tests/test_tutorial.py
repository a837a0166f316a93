"""The tutorial's code, taken from docs/plugins.md as written, works: the
plugin installs, shows up, runs in a chain, and passes its own kit tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from conftest import ROOT, SAMPLES, install_plugin, read_records, run_cli

DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def block(first_line: str) -> str:
    """The fenced code block of the tutorial that starts with ``first_line``."""
    for body in re.findall(r"```(?:python|toml)\n(.*?)```", DOC, re.S):
        if body.startswith(first_line):
            return body
    raise AssertionError(f"no block starting {first_line!r} in docs/plugins.md")


def test_the_tutorial_plugin_installs_shows_up_and_runs(tmp_path):
    module = block("# augment_politeness.py")
    entry = re.search(r'^politeness = "(\w+)"', block("# pyproject.toml"), re.M).group(1)
    site = install_plugin(tmp_path / "site", "augment-politeness", {"augment_politeness": module}, {"politeness": entry})
    env = {"PYTHONPATH": str(site)}

    listing = json.loads(run_cli("plugins", env=env).stdout)
    assert next(p for p in listing if p["name"] == "politeness")["registered"] == {"augmenters": ["politeness"]}
    helptext = run_cli("run", "politeness", "--help", env=env).stdout.decode()
    assert "--rate FLOAT" in helptext

    out = tmp_path / "polite.jsonl"
    done = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--seed", "3", "politeness", "--rate", "1.0", "--variants", "2", "typos", "--rate", "0.1", env=env)
    assert done.returncode == 0, done.stderr.decode()
    records = read_records(out)
    variants = [r for r in records if r["provenance"]["chain"]]
    assert variants and all([s["step"] for s in r["provenance"]["chain"]] == ["politeness", "typos"] for r in variants)
    assert any(re.search(r", (please|if you would|kindly)\?", m["value"]) for r in variants for m in r["conversations"])

    bad = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(tmp_path / "x.jsonl"), "politeness", "--rate", "2.0", env=env)
    assert bad.returncode == 2
    assert bad.stderr.decode() == "Error: politeness --rate must be between 0.0 and 1.0, got 2.0\n"


def test_the_tutorial_tests_pass_with_the_kit(tmp_path):
    module = block("# augment_politeness.py")
    (tmp_path / "augment_politeness.py").write_text(module)
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text(block("# tests/conftest.py"))
    (tests / "test_politeness.py").write_text(block("# tests/test_politeness.py"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        cwd=tmp_path, env=env, capture_output=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert b"2 passed" in done.stdout
