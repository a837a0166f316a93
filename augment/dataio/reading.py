"""Choosing how to read an input, and reading it: every record with its
``file:line``, unreadable ones included.

An input is a file, ``-`` (stdin), a folder (every file below it, in sorted
order) or a glob (``data/*.jsonl``). Each file's format is the one named
(``--from``, ``--dataset-info``), else the one that owns its suffix (``.txt``
scripts), else the one that claims its first bytes (:meth:`Format.sniff`: a
SillyTavern chat, a character card), else none: its JSON records are then
recognised one by one (:func:`detect`).
"""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from augment.dataio.formats import Format
from augment.dataio.streams import STDIO, Raw, label, open_binary, read_json_records
from augment.conversation import Location
from augment.errors import RecordError, UsageError

#: Bytes a format's ``sniff`` is shown.
HEAD = 1 << 16
#: Files in an input folder that are never data.
NOT_DATA = ("dataset_info.json", "README.md")


@dataclass(frozen=True)
class Source:
    """What to read and how: the input (file, folder, glob or ``-``), the
    format named by the user, and the format options given (``speaker``,
    ``swipes`` ...; None when not given)."""

    path: str
    format: str | None = None
    dataset_info: tuple[str, str] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def input_files(path: str) -> list[str]:
    """The files an input names, in a stable order."""
    if path == STDIO or os.path.isfile(path):
        return [path]
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith(".") and f not in NOT_DATA and not f.endswith(".rejects.jsonl"))
        if not found:
            raise UsageError(f"{path}: no files in this folder")
        return found
    if glob.has_magic(path):
        found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        if not found:
            raise UsageError(f"{path}: no file matches")
        return found
    raise UsageError(f"cannot open {path}: No such file or directory")


class Reader:
    """Reads a :class:`Source` with the registered formats."""

    def __init__(self, formats: dict[str, Format], source: Source) -> None:
        self.formats = formats
        self.source = source
        self.files = input_files(source.path)
        self.fixed = self._named()
        self._given = {k: v for k, v in source.options.items() if v is not None}
        if self.fixed is not None:
            self.fixed = self._configure(self.fixed, strict=True)

    def _named(self) -> Format | None:
        src = self.source
        if src.dataset_info is not None:
            return from_dataset_info(self.formats, *src.dataset_info)
        if src.format is not None:
            return format_named(self.formats, src.format)
        return None

    def _configure(self, fmt: Format, strict: bool) -> Format:
        """``fmt`` with the options it takes; a named format that takes none
        of the options given is an error."""
        taken = {k: v for k, v in self._given.items() if k in fmt.options}
        if strict and len(taken) < len(self._given):
            missing = sorted(set(self._given) - set(taken))
            takers = sorted((f.name for f in self.formats.values() if any(k in f.options for k in missing)), key=lambda n: (not self.formats[n].suffixes, n))
            flags = ", ".join("--" + ("as" if k == "speaker" else k.replace("_", "-")) for k in missing)
            suffixes = [sfx for name in takers for sfx in self.formats[name].suffixes]
            where = f"use a {suffixes[0]} file" if suffixes else "name a file of that format"
            raise UsageError(f"{flags} applies to {' or '.join(takers) or 'no'} input: add --from {takers[0] if takers else '...'} or {where}")
        return fmt.configure(**taken) if taken else fmt

    def format_of(self, path: str) -> Format | None:
        """The format ``path`` is read with, or None to recognise each record."""
        if self.fixed is not None:
            return self.fixed
        suffix = Path(path).suffix.lower()
        chosen = next((f for f in self.formats.values() if suffix and suffix in f.suffixes), None)
        if chosen is None and path != STDIO:
            try:
                with open(path, "rb") as fh:
                    head = fh.read(HEAD)
            except OSError as exc:
                raise UsageError(f"cannot open {path}: {exc.strerror}") from None
            chosen = next((f for f in self.formats.values() if f.sniff(path, head)), None)
        if chosen is None:
            if self._given and len(self.files) == 1:
                self._configure(_Plain(), strict=True)  # says which format takes the option
            return None
        return self._configure(chosen, strict=len(self.files) == 1)

    def size(self) -> int | None:
        """Bytes to read, for a progress bar; None for a pipe."""
        if self.files == [STDIO]:
            return None
        return sum(os.path.getsize(f) for f in self.files)

    def __iter__(self) -> Iterator[Raw]:
        return self.read()

    def read(self, progress: Callable[[int], None] | None = None) -> Iterator[Raw]:
        for path in self.files:
            yield from read_file(path, self.format_of(path), progress)

    def formats_for_detection(self) -> list[Format]:
        return list(self.formats.values())


class _Plain(Format):
    name = "json"


def format_named(formats: dict[str, Format], name: str) -> Format:
    try:
        return formats[name]
    except KeyError:
        known = ", ".join(sorted(formats))
        raise UsageError(f"unknown format {name!r} (known: {known})") from None


def from_dataset_info(formats: dict[str, Format], file: str, dataset: str) -> Format:
    try:
        info = orjson.loads(Path(file).read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{file}: invalid JSON: {exc}") from None
    if not isinstance(info, dict) or dataset not in info:
        known = ", ".join(sorted(info)) if isinstance(info, dict) else ""
        raise UsageError(f"{file}: no dataset named {dataset!r} (known: {known})")
    entry = info[dataset]
    formatting = entry.get("formatting", "alpaca")
    return format_named(formats, formatting).from_dataset_info(entry)


def record_formats(formats: Iterable[Format]) -> list[Format]:
    """The formats a single JSON record may be in: formats of whole files
    (scripts, chat exports, cards) are chosen by file, never per record."""
    return [f for f in formats if not f.suffixes and type(f).read is Format.read]


def detect(formats: Iterable[Format], record: Any, *, chosen: bool = False) -> Format:
    """The format of one JSON record, by its fields (``chosen``: ``formats``
    is already ``record_formats``'s list)."""
    formats = formats if chosen else record_formats(formats)
    for fmt in formats:
        if fmt.detect(record):
            return fmt
    for fmt in formats:  # a format whose fields are there but wrong says why
        try:
            fmt.decode(record)
        except RecordError as exc:
            if not str(exc).startswith("missing field"):
                raise RecordError(f"{exc} (read as {fmt.name}; name the format with --from)") from None
        except Exception:
            continue
    raise RecordError(
        "cannot tell the format of this record (no 'conversations', 'messages' or "
        "'instruction'/'output' fields); name it with --from"
    )


def read_file(path: str, fmt: Format | None, progress: Callable[[int], None] | None = None) -> Iterator[Raw]:
    """Every record of one file with its location; ``fmt`` (when not None)
    travels with each record, to decode it."""
    file = label(path)
    try:
        stream = open_binary(path)
    except OSError as exc:
        raise UsageError(f"cannot open {path}: {exc.strerror}") from None
    try:
        custom = fmt.read(stream, file) if fmt is not None else None
        if custom is None:
            for raw in read_json_records(stream, file, progress, lines=path.lower().endswith(".jsonl")):
                raw.format = fmt
                yield raw
            return
        try:
            for location, record in custom:
                yield Raw(location, value=record, format=fmt)
        except RecordError as exc:  # the file cannot be read on
            why = str(exc)
            if exc.line and why.startswith(f"line {exc.line}: "):
                why = why[len(f"line {exc.line}: "):]  # the location says it
            yield Raw(Location(file, exc.line or 1), error=why, format=fmt)
        except UnicodeDecodeError as exc:
            yield Raw(Location(file, 1), error=f"invalid UTF-8: {exc.reason}", format=fmt)
        if progress is not None and path != STDIO:
            progress(os.path.getsize(path))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
