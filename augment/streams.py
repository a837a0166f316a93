"""Reading records from JSON / JSON Lines, and writing outputs safely.

Reading is a generator of :class:`Raw` items, one per record, each with its
``file:line``. A line that cannot be parsed is an item with an ``error``, not an
exception, so the caller decides whether to stop or to reject it and go on.
JSON Lines stream in constant memory; a ``.json`` array is read whole (arrays
are small in practice) but its records still get their own line numbers.

Writing goes to a temporary file beside the target, renamed over it only when
everything succeeded, so a crash or Ctrl-C never leaves a complete-looking file.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import orjson

from .conversation import Location
from .formats import type_name

BOM = b"\xef\xbb\xbf"
STDIO = "-"


@dataclass
class Raw:
    location: Location
    value: Any = None
    #: Why the record could not be read, when it could not.
    error: str | None = None
    #: The raw text of an unreadable record, for the rejects file.
    text: str | None = None


Progress = Callable[[int], None]


def label(path: str) -> str:
    return "<stdin>" if path == STDIO else path


def open_binary(path: str) -> IO[bytes]:
    if path == STDIO:
        return sys.stdin.buffer
    return open(path, "rb")


def input_size(path: str) -> int | None:
    """Bytes to read, for a progress bar; None for a pipe."""
    if path == STDIO:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if os.path.isfile(path) else None


def read_json_records(stream: IO[bytes], file: str, progress: Progress | None = None) -> Iterator[Raw]:
    """Records from a JSON array or a JSON Lines stream, told apart by the
    first non-blank character."""
    head = _peek(stream)
    if head.startswith(BOM):
        head = head[len(BOM) :]
    if head.lstrip()[:1] == b"[":
        yield from _read_array(stream, file, progress)
    else:
        yield from _read_lines(stream, file, progress)


def _peek(stream: IO[bytes]) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        data = peek(64)
        # peek may return fewer bytes than exist; enough to see past blanks in practice
        return data[:64]
    pos = stream.tell()
    data = stream.read(64)
    stream.seek(pos)
    return data


def _read_lines(stream: IO[bytes], file: str, progress: Progress | None) -> Iterator[Raw]:
    for lineno, line in enumerate(stream, 1):
        if progress is not None:
            progress(len(line))
        if lineno == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        body = line.strip()
        if not body:
            continue
        where = Location(file, lineno)
        try:
            value = loads(body)
        except ValueError as exc:
            yield Raw(where, error=_json_reason(exc, body), text=body.decode("utf-8", "replace"))
            continue
        if not isinstance(value, dict):
            yield Raw(where, value=value, error=f"expected a JSON object, got {type_name(value)}")
            continue
        yield Raw(where, value=value)


LONG_DIGITS = re.compile(rb"\d{19}")


def loads(data: bytes) -> Any:
    """orjson, with the standard library where orjson would refuse a valid
    record (NaN) or change it (it turns integers beyond 64 bits into floats)."""
    if LONG_DIGITS.search(data):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(record: Any) -> bytes:
    try:
        return orjson.dumps(record)
    except TypeError:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_reason(exc: Exception, body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as u:
        return f"invalid UTF-8 at byte {u.start + 1}"
    msg = str(exc)
    return f"invalid JSON: {msg}"


def _read_array(stream: IO[bytes], file: str, progress: Progress | None) -> Iterator[Raw]:
    data = stream.read()
    if progress is not None:
        progress(len(data))
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        yield Raw(Location(file, line), error=f"invalid UTF-8 at byte {exc.start + 1}; the file cannot be read")
        return
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0) + 1  # past '['
    line = 1 + text.count("\n", 0, pos)
    counted = pos

    def at(index: int) -> Location:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return Location(file, line)

    pos = _skip_ws(text, pos)
    if text.startswith("]", pos):
        return
    while True:
        where = at(pos)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield Raw(
                at(exc.pos),
                error=f"invalid JSON: {exc.msg}; the rest of the array cannot be read",
                text=text[pos : pos + 200],
            )
            return
        if isinstance(value, dict):
            yield Raw(where, value=value)
        else:
            yield Raw(where, value=value, error=f"expected a JSON object, got {type_name(value)}")
        pos = _skip_ws(text, end)
        if text.startswith(",", pos):
            pos = _skip_ws(text, pos + 1)
            continue
        if text.startswith("]", pos):
            rest = _skip_ws(text, pos + 1)
            if rest < len(text):
                yield Raw(at(rest), error="text after the closing ']'", text=text[rest : rest + 200])
            return
        problem = "the array is not closed" if pos >= len(text) else "expected ',' or ']' between records"
        yield Raw(at(min(pos, len(text))), error=f"invalid JSON: {problem}", text=text[pos : pos + 200])
        return


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n":
        pos += 1
    return pos


# -- writing ---------------------------------------------------------------


class AtomicFile:
    """A binary file that appears at ``path`` only when closed without error."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        self.tmp = Path(tmp)
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.chmod(self.tmp, 0o644 & ~_umask())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if not self.file.closed:
            self.file.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> IO[bytes]:
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class RecordWriter:
    """Writes records as JSON Lines, or as one JSON array when ``array``."""

    def __init__(self, file: IO[bytes], array: bool = False) -> None:
        self.file = file
        self.array = array
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        data = dumps(record)
        if self.array:
            self.file.write(b"[\n" if self.count == 0 else b",\n")
        self.file.write(data)
        if not self.array:
            self.file.write(b"\n")
        self.count += 1

    def close(self) -> None:
        if self.array:
            self.file.write(b"[]\n" if self.count == 0 else b"\n]\n")
        self.file.flush()


def is_array_path(path: str) -> bool:
    return path != STDIO and path.lower().endswith(".json")


def write_json_atomic(path: str | Path, value: Any) -> None:
    with AtomicFile(path) as fh:
        fh.write(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
