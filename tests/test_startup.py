"""`augment --help` and `augment convert` start without the heavy libraries:
litellm, nlpaug, nltk and langdetect are imported only by the steps that use them."""

from __future__ import annotations

import subprocess
import sys

from conftest import SAMPLES

HEAVY = ("litellm", "nlpaug", "nltk", "langdetect", "numpy", "pandas")

PROBE = """
import sys
from augment.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def heavy_after(args: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    last = [line for line in done.stdout.decode().splitlines() if line.startswith("HEAVY:")][-1]
    return [m for m in last[len("HEAVY:"):].split(",") if m]


def test_help_imports_nothing_heavy():
    assert heavy_after(["--help"]) == []
    assert heavy_after(["run", "--help"]) == []


def test_convert_imports_nothing_heavy(tmp_path):
    out = tmp_path / "out.jsonl"
    assert heavy_after(["convert", str(SAMPLES / "tavern.sharegpt.jsonl"), "--to", "openai", "-o", str(out), "-q"]) == []
    assert out.read_text().count("\n") == 12


def test_a_typo_step_does_import_nlpaug_so_the_probe_can_see_imports(tmp_path):
    out = tmp_path / "out.jsonl"
    found = heavy_after(["run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "-q", "--workers", "1", "typos"])
    assert "nlpaug" in found and "litellm" not in found
