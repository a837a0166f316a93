"""Shared fixtures: paths to the samples, and a way to install a throwaway
plugin distribution (a real ``*.dist-info`` with entry points) for a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
AUGMENT = Path(sys.executable).parent / "augment"


def read_records(path: Path) -> list[dict]:
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".json"):
        return json.loads(text)
    return [json.loads(line) for line in text.split("\n") if line.strip()]  # not splitlines(): U+0085 is data


def install_plugin(site: Path, dist: str, modules: dict[str, str], entry_points: dict[str, str]) -> Path:
    """Write modules and a ``dist-info`` declaring ``augment`` entry points into ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n", encoding="utf-8")
    lines = ["[augment]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site


def run_cli(*args: str, env: dict | None = None, input: bytes | None = None, cwd: Path = ROOT, new_session: bool = False) -> subprocess.CompletedProcess:
    """Run the installed ``augment`` command; ``new_session`` gives it its own
    process group, so a Ctrl-C it sends to its group reaches no one else."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [str(AUGMENT), *args], input=input, capture_output=True, env=full_env, cwd=cwd, timeout=120,
        start_new_session=new_session,
    )


@pytest.fixture
def samples() -> Path:
    return SAMPLES


# CI runs the property tests with a fixed sequence of examples, so a run is
# repeatable; locally they explore new examples each time.
from hypothesis import settings as _settings  # noqa: E402

_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    _settings.load_profile("ci")
