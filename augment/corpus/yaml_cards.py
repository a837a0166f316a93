"""Hand-written YAML personas, parsed once.

PyYAML takes ~15 ms to import (most of a small command's own start-up) and
its pure-Python parser is slow, while the persona files seldom change. So a
YAML card is parsed with ``yaml.safe_load`` the first time and remembered as
JSON in the cache folder (``$AUGMENT_CACHE`` or ``~/.cache/augment``,
``personas/``), keyed by the file's absolute path; the next run uses it while
the file has the same modification time and size. Only a card that JSON holds
exactly is remembered (a date, a number as a key or a NaN is parsed again each
time), and a cache folder that cannot be read or written only means parsing.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from augment.engine.dictionary import cache_folder

#: Bumped when the layout of a remembered card changes.
VERSION = 1


class YamlError(Exception):
    """The file is not valid YAML: where (a 1-based line, or None) and why."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_mtime_ns, st.st_size]


def _entry(key: str) -> Path:
    return cache_folder() / "personas" / f"{zlib.crc32(key.encode('utf-8', 'surrogatepass')):08x}.json"


def load(path: Path) -> Any:
    """The value of the YAML file ``path``; YamlError when it is not valid
    (safe) YAML, OSError when it cannot be read."""
    stamp = _stamp(path)
    key = str(path.absolute())
    entry = _entry(key)
    try:
        kept = json.loads(entry.read_bytes())
        if kept.get("version") == VERSION and kept.get("path") == key and kept.get("stamp") == stamp:
            return kept["card"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    text = path.read_text(encoding="utf-8")
    import yaml

    try:
        card = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlError(mark.line + 1 if mark else None, str(getattr(exc, "problem", exc))) from None
    _remember(entry, key, stamp, card)
    return card


def _remember(entry: Path, key: str, stamp: list[int], card: Any) -> None:
    try:
        data = json.dumps({"version": VERSION, "path": key, "stamp": stamp, "card": card}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return  # a value JSON does not hold (a date, a NaN)
    if json.loads(data)["card"] != card:
        return  # a value JSON holds differently (a number as a key)
    from augment.dataio.streams import AtomicFile

    try:
        with AtomicFile(entry) as fh:
            fh.write(data.encode("utf-8"))
    except OSError:
        pass
