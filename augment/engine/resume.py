"""Resuming a run that was killed: a journal of checkpoints beside the output.

While a run writes ``OUT``, it keeps ``.OUT.partial`` (the records so far),
``.REJECTS.partial`` and ``.OUT.journal``: every :data:`CHECKPOINT_SECONDS`
(checked after each batch), how many input records are fully done, how long each partial file was at that moment, and the
summary so far. ``--resume`` with the same command and input cuts the partial
files back to the last checkpoint (dropping anything written after it, so
nothing is duplicated), skips the records done, and goes on; answers already
given by a model come from the cache, so no request is made twice.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

try:  # CPython's own SHA-256: importing hashlib loads OpenSSL (2-3 ms of every run's start)
    from _sha256 import sha256
except ImportError:  # pragma: no cover - another Python, or 3.12+ (_sha2)
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

from augment.dataio.streams import write_json_atomic

#: How often a run saves a checkpoint: by time, not per batch (an fsync per
#: batch costs half the run on a busy disk); a killed run redoes at most this much.
CHECKPOINT_SECONDS = float(os.environ.get("AUGMENT_CHECKPOINT_SECONDS", "2"))


def fingerprint(argv: list[str], input_files: list[str]) -> str:
    """What makes two runs the same run: the command line (less --resume) and the input files."""
    args = [a for a in argv if a != "--resume"]
    stamps = []
    for path in input_files:
        try:
            st = os.stat(path)
            stamps.append([path, st.st_size, st.st_mtime_ns])
        except OSError:
            stamps.append([path, None])
    return sha256(json.dumps([args, stamps]).encode()).hexdigest()


def partial_path(path: str | Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.partial"


class Journal:
    def __init__(self, output_path: str | Path, fingerprint: str, interval: float = CHECKPOINT_SECONDS, clock=time.monotonic) -> None:
        out = Path(output_path)
        self.path = out.parent / f".{out.name}.journal"
        self.fingerprint = fingerprint
        self.interval = interval
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        """Whether a checkpoint is due: after the first batch, then once
        ``interval`` seconds have passed since the last one."""
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True

    def load(self) -> dict[str, Any] | None:
        """The last checkpoint of this same run, or None."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return state if state.get("fingerprint") == self.fingerprint else None

    def save(self, state: dict[str, Any]) -> None:
        write_json_atomic(self.path, {**state, "fingerprint": self.fingerprint})

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
