"""The test kit for plugin authors, and a pytest plugin.

Load it in a plugin's tests with ``pytest_plugins = ["augment.testing"]`` in
``conftest.py`` (or ``pytest -p augment.testing``). It gives:

- fixtures: ``conversations`` (a small role-play corpus full of protected
  spans, with named speakers and a Chinese conversation), ``llm_server`` (a
  scripted OpenAI-compatible server on 127.0.0.1), ``augment_cli`` (runs the
  ``augment`` command in-process and returns exit code, stdout, stderr);
- functions: ``run_augmenter`` (one step over conversations, as ``augment
  run`` does), and the conformance checks ``check_augmenter``,
  ``check_format`` and ``check_filter``.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from augment.testing.conformance import check_augmenter, check_filter, check_format, conversations as _conversations, run_augmenter, variants
from augment.testing.llm_server import Reply, ScriptedLLM

__all__ = [
    "Reply",
    "ScriptedLLM",
    "check_augmenter",
    "check_filter",
    "check_format",
    "run_augmenter",
    "variants",
]


@pytest.fixture
def conversations():
    """The kit's test corpus, fresh for each test."""
    return _conversations()


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    """A scripted OpenAI-compatible server; ``llm_server.url`` is the API base."""
    with ScriptedLLM() as server:
        yield server


@pytest.fixture
def augment_cli():
    """``augment_cli("run", "in.jsonl", ...)`` -> click's Result (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from augment.cli import main

    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return invoke
