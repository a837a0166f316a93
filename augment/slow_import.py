"""Importing a slow library once, and saying so on a terminal when it is slow.

litellm takes a second or more to import. A run that asks a model imports it
on the first request (never at start-up); when that import is still going
after ``threshold`` seconds and stderr is a terminal, one line says what the
wait is ("loading litellm ..."), so a silent pause is not taken for a hang.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Callable

#: Seconds an import may take before it is announced.
ANNOUNCE_AFTER = 1.0


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def import_announced(name: str, threshold: float = ANNOUNCE_AFTER, say: Callable[[str], None] = _to_stderr,
                     terminal: bool | None = None) -> ModuleType:
    """``importlib.import_module(name)``; if it is not done within
    ``threshold`` seconds and ``terminal`` (default: stderr is a terminal),
    ``say("loading NAME ...")`` once, from a timer thread."""
    if name in sys.modules:
        return sys.modules[name]
    if terminal is None:
        terminal = sys.stderr.isatty()
    timer = threading.Timer(threshold, say, [f"loading {name} ..."]) if terminal else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        return importlib.import_module(name)
    finally:
        if timer is not None:
            timer.cancel()
