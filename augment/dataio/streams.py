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

import itertools
import json
import os
import sys
from array import array
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import orjson

from augment.conversation import Location
from augment.dataio.formats import type_name

BOM = b"\xef\xbb\xbf"
STDIO = "-"


class Raw:
    """One record as read: where it is, its JSON value, or why it could not
    be read. A JSON Lines record keeps its line until its value (or error)
    is first asked for, so the parsing is done where the record is worked on
    (a worker process), not where the file is read."""

    __slots__ = ("location", "_value", "_error", "_text", "format", "_line")

    def __init__(self, location: Location, value: Any = None, error: str | None = None, text: str | None = None,
                 format: Any = None, *, line: bytes | None = None) -> None:
        self.location = location
        self._value, self._error, self._text = value, error, text
        #: The format the file is read with (None: recognised record by record).
        self.format = format
        self._line = line

    @property
    def value(self) -> Any:
        if self._line is not None:
            self._parse()
        return self._value

    @property
    def error(self) -> str | None:
        """Why the record could not be read, when it could not."""
        if self._line is not None:
            self._parse()
        return self._error

    @property
    def text(self) -> str | None:
        """The raw text of an unreadable record, for the rejects file."""
        if self._line is not None:
            self._parse()
        return self._text

    def _parse(self) -> None:
        body, self._line = self._line, None
        assert body is not None
        try:
            value = loads(body)
        except ValueError as exc:
            self._error, self._text = _json_reason(exc, body), body.decode("utf-8", "replace")
            return
        self._value = value
        if not isinstance(value, dict):
            self._error = f"expected a JSON object, got {type_name(value)}"

    def __repr__(self) -> str:
        return f"Raw({self.location!s}, value={self.value!r}, error={self.error!r})"

    def __reduce__(self) -> tuple:  # to a worker process as a tuple, the line still unparsed
        return (_raw, (self.location, self._value, self._error, self._text, self.format, self._line))


def _raw(location: Location, value: Any, error: str | None, text: str | None, format: Any, line: bytes | None) -> Raw:
    return Raw(location, value, error, text, format, line=line)


class Batch(list):
    """A batch of ``(ordinal, Raw)`` for the per-record work. It pickles
    (to a worker process or a Ray task) as a few byte strings when its
    records are unparsed lines of one file read with one format, as those
    of a JSON Lines file are (1.8 µs a record to pickle against 3.2 for
    each record as itself, 4.1 against 4.9 to unpickle)."""

    def __reduce__(self) -> tuple:
        if not self:
            return (Batch, ((),))
        raw = self[0][1]
        file, fmt = raw.location.file, raw.format
        lines: list[bytes] = []
        numbers = array("q")
        for ordinal, raw in self:
            if raw._line is None or raw.format is not fmt or raw.location.file != file:
                return (Batch, (list(self),))  # (parsed, unreadable or mixed records: each as itself)
            lines.append(raw._line)
            numbers.append(ordinal)
            numbers.append(raw.location.line)
            numbers.append(len(raw._line))
        return (_lines_batch, (file, fmt, numbers.tobytes(), b"".join(lines)))


def _lines_batch(file: str, fmt: Any, numbers: bytes, data: bytes) -> Batch:
    batch = Batch()
    append = batch.append
    values = array("q")
    values.frombytes(numbers)
    start = 0
    for i in range(0, len(values), 3):
        end = start + values[i + 2]
        append((values[i], Raw(Location(file, values[i + 1]), format=fmt, line=data[start:end])))
        start = end
    return batch


Progress = Callable[[int], None]


def label(path: str) -> str:
    return "<stdin>" if path == STDIO else path


#: The read buffer of an input file: lines are read from it (the default,
#: 8 KiB, reads the disk every few role-play records: 2.5 times the time a line).
READ_BUFFER = 1 << 16


def open_binary(path: str) -> IO[bytes]:
    if path == STDIO:
        return sys.stdin.buffer
    return open(path, "rb", buffering=READ_BUFFER)


def input_size(path: str) -> int | None:
    """Bytes to read, for a progress bar; None for a pipe."""
    if path == STDIO:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if os.path.isfile(path) else None


def read_json_records(stream: IO[bytes], file: str, progress: Progress | None = None, lines: bool = False) -> Iterator[Raw]:
    """Records from a JSON array or a JSON Lines stream, told apart by the
    first non-blank character, unless ``lines`` says it is JSON Lines (a
    ``.jsonl`` file whose first line happens to start with ``[`` is still
    read line by line, so one bad line costs one record)."""
    if lines:
        yield from _read_lines(iter(stream), file, progress)
        return
    head = b""
    while True:  # read past leading blanks, however many
        chunk = stream.read(4096)
        head += chunk
        body = head[len(BOM) :] if head.startswith(BOM) else head
        if not chunk or body.strip():
            break
    if body.lstrip()[:1] == b"[":
        yield from _read_array(head + stream.read(), file, progress)
    else:
        yield from _read_lines(_lines_after(head, stream), file, progress)


def _lines_after(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of ``head`` followed by the rest of ``stream``."""
    *complete, tail = head.split(b"\n")
    for line in complete:
        yield line + b"\n"
    for line in stream:
        yield tail + line
        tail = b""
        yield from stream
        return
    if tail:
        yield tail


PROGRESS_STEP = 1 << 18  # report progress every 256 KiB, not every line


def _read_lines(lines: Iterator[bytes], file: str, progress: Progress | None) -> Iterator[Raw]:
    pending = 0
    for lineno, line in enumerate(lines, 1):
        if progress is not None:
            pending += len(line)
            if pending >= PROGRESS_STEP:
                progress(pending)
                pending = 0
        if lineno == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        body = line.strip()
        if not body:
            continue
        yield Raw(Location(file, lineno), line=body)  # parsed where it is worked on
    if progress is not None and pending:
        progress(pending)


# Every digit becomes "0" and every other byte a space: a run of 19 zeros in
# the result is a run of 19 digits in the line (ten times faster than a regex).
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_RUN = b"0" * 19
#: Every byte but the digits (deleted, a line's digits are left: most lines have a few).
_NOT_DIGITS = bytes(b for b in range(256) if not 48 <= b <= 57)


def _has_long_number(data: bytes) -> bool:
    return len(data.translate(None, _NOT_DIGITS)) >= len(_LONG_RUN) and _LONG_RUN in data.translate(_DIGITS_ONLY)


def loads(data: bytes) -> Any:
    """orjson, with the standard library where orjson would refuse a valid
    record (NaN) or change it (it turns integers beyond 64 bits into floats)."""
    if _has_long_number(data):
        return json.loads(data, parse_constant=_no_constant)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        # lone surrogate escapes ("\\ud800") are valid JSON that orjson refuses
        return json.loads(data, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def dumps(record: Any) -> bytes:
    try:
        return orjson.dumps(record)
    except TypeError:
        # big integers, or lone surrogates that only \\u escapes can carry
        return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _json_reason(exc: Exception, body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as u:
        return f"invalid UTF-8 at byte {u.start + 1}"
    msg = str(exc)
    return f"invalid JSON: {msg}"


def _read_array(data: bytes, file: str, progress: Progress | None) -> Iterator[Raw]:
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
    decoder = json.JSONDecoder(parse_constant=_no_constant)
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
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                where, why = at(exc.pos), exc.msg
            else:
                why = str(exc)
            yield Raw(where, error=f"invalid JSON: {why}; the rest of the array cannot be read", text=text[pos : pos + 200])
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
    """A binary file that appears at ``path`` only when closed without error.

    Until then it is written to a hidden ``.NAME.partial`` beside it (a unique
    name, or ``partial`` when given, so that a resumable run finds it again;
    ``resume_at`` reopens that file cut back to a checkpoint's length)."""

    def __init__(self, path: str | Path, partial: Path | None = None, resume_at: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if partial is None:
            fd, self.tmp = _new_partial(self.path)
            self.file: IO[bytes] = os.fdopen(fd, "wb")
        elif resume_at is not None:
            self.tmp = partial
            self.file = open(partial, "r+b")
            self.file.truncate(resume_at)
            self.file.seek(resume_at)
        else:
            self.tmp = partial
            self.file = open(partial, "wb")

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
            try:
                self.commit()
            except BaseException:  # Ctrl-C in the fsync: no hidden file left behind
                self.abort()
                raise
        else:
            self.abort()


_numbers = itertools.count()


def _new_partial(path: Path) -> tuple[int, Path]:
    """A new hidden file beside ``path`` (``.NAME.PID-N.partial``), created
    for this writer alone (O_EXCL, mode 0600), as ``tempfile.mkstemp`` makes
    one (without its import, a tenth of a small command's start-up)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(1000):
        tmp = path.parent / f".{path.name}.{os.getpid()}-{next(_numbers)}.partial"
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue  # left by an earlier process with the same id
    raise FileExistsError(f"no free name for a partial file beside {path}")


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
        self.write_encoded(dumps(record))

    def write_encoded(self, data: bytes) -> None:
        """Write a record already encoded (``dumps``)."""
        if self.array:
            self.file.write(b"[\n" if self.count == 0 else b",\n")
        self.file.write(data)
        if not self.array:
            self.file.write(b"\n")
        self.count += 1

    def write_many(self, data: list[bytes]) -> None:
        """Write records already encoded, in order (as ``write_encoded`` each)."""
        if self.array or not data:
            for one in data:
                self.write_encoded(one)
            return
        self.file.write(b"\n".join(data))
        self.file.write(b"\n")
        self.count += len(data)

    def close(self) -> None:
        if self.array:
            self.file.write(b"[]\n" if self.count == 0 else b"\n]\n")
        self.file.flush()


def is_array_path(path: str) -> bool:
    return path != STDIO and path.lower().endswith(".json")


def write_json_atomic(path: str | Path, value: Any) -> None:
    with AtomicFile(path) as fh:
        fh.write(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")


def write_text_atomic(path: str | Path, text: str) -> None:
    with AtomicFile(path) as fh:
        fh.write(text.encode("utf-8"))
