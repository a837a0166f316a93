"""litellm is imported once, lazily, and a slow import is announced on a
terminal only (the threshold is injected: no timing in the test)."""

from __future__ import annotations

import sys
import threading
import types

from augment.slow_import import import_announced


def slow_module(name: str, gate: threading.Event, monkeypatch) -> None:
    """A module whose import waits until ``gate`` is set."""
    class Finder:
        def find_spec(self, fullname, path=None, target=None):
            if fullname != name:
                return None
            import importlib.machinery

            return importlib.machinery.ModuleSpec(name, self)

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            gate.wait(10)

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_a_slow_import_on_a_terminal_says_so_once(monkeypatch):
    gate = threading.Event()
    said: list[str] = []
    slow_module("augment_test_slowmod", gate, monkeypatch)

    def say(line):
        said.append(line)
        gate.set()  # the announcement came while the import waited: let it finish

    module = import_announced("augment_test_slowmod", threshold=0.0, say=say, terminal=True)
    assert isinstance(module, types.ModuleType)
    assert said == ["loading augment_test_slowmod ..."]
    # imported once: the second call returns the same module and says nothing
    assert import_announced("augment_test_slowmod", threshold=0.0, say=say, terminal=True) is module
    assert said == ["loading augment_test_slowmod ..."]


def test_not_on_a_terminal_nothing_is_said(monkeypatch):
    gate = threading.Event()
    gate.set()
    said: list[str] = []
    slow_module("augment_test_slowmod2", gate, monkeypatch)
    import_announced("augment_test_slowmod2", threshold=0.0, say=said.append, terminal=False)
    assert said == []


def test_a_fast_import_is_not_announced():
    said: list[str] = []
    import_announced("json", threshold=3600.0, say=said.append, terminal=True)
    assert said == []
