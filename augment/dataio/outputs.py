"""The files beside an output: the rejects file, and the LLaMA-Factory
``dataset_info.json`` entry that names exactly the columns the output has."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import orjson

from augment.dataio.formats import Format
from augment.dataio.streams import STDIO, AtomicFile, dumps, write_json_atomic
from augment.engine.resume import partial_path
from augment.errors import Unrepresentable, UsageError


class Rejects:
    """The rejects file: one JSON line per rejected record (or dropped
    output), with where and why."""

    def __init__(self, path: str | None, always: bool = False, resumable: bool = False, resume_at: int | None = None) -> None:
        self.path = path
        self._file: AtomicFile | None = None
        self._partial = partial_path(path) if path is not None and resumable else None
        if path is not None and (always or resume_at is not None):  # a file the user named is never left stale
            self._file = AtomicFile(path, self._partial, resume_at)

    def add(self, location: Any, reason: str, *, record: Any = None, raw: str | None = None, output: Any = None) -> None:
        """A rejected input record (``record``, or ``raw`` text when it could
        not be parsed), or an ``output`` a filter dropped."""
        if self.path is None:
            return
        if self._file is None:
            self._file = AtomicFile(self.path, self._partial)
        entry: dict[str, Any] = {"location": str(location), "reason": reason}
        if output is not None:
            entry["output"] = output
        elif raw is not None:
            entry["raw"] = raw
        else:
            entry["record"] = record
        self._file.file.write(dumps(entry) + b"\n")  # big integers and lone surrogates too

    def offset(self) -> int | None:
        """How long the partial file is (None: not started)."""
        if self._file is None:
            return None
        self._file.file.flush()
        return self._file.file.tell()

    def finish(self, ok: bool, keep: bool = False) -> None:
        if self._file is None:
            return
        if ok:
            self._file.commit()
        elif keep:
            self._file.file.close()  # left for --resume
        else:
            self._file.abort()


def dataset_name(output_path: str) -> str:
    """The output's name in dataset_info.json and the dataset card."""
    name = Path(output_path).name
    for suffix in (".jsonl", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def dataset_info_entry(fmt: Format, file_name: str, columns: list[str], kinds: list[str], traits: list[str] = ()) -> dict[str, Any]:
    """The entry for a file of ``fmt`` whose records have these top-level
    ``columns``, are of these ``kinds`` and have these ``traits``;
    Unrepresentable when LLaMA-Factory cannot read it as one dataset."""
    if not columns:
        raise Unrepresentable("the file is empty, and LLaMA-Factory cannot load an empty dataset")
    if len(kinds) > 1:
        raise Unrepresentable(f"the file mixes {' and '.join(kinds)} records, and a LLaMA-Factory dataset holds one kind")
    if traits and "traits" in inspect.signature(fmt.dataset_info).parameters:
        return fmt.dataset_info(file_name, columns, traits=frozenset(traits))
    return fmt.dataset_info(file_name, columns)


def write_dataset_info(output_path: str, entry: dict[str, Any]) -> Path:
    """Add or replace this output's entry in ``dataset_info.json`` beside it."""
    out = Path(output_path)
    info_path = out.parent / "dataset_info.json"
    info: dict[str, Any] = {}
    if info_path.exists():
        try:
            loaded = orjson.loads(info_path.read_bytes())
            if isinstance(loaded, dict):
                info = loaded
        except orjson.JSONDecodeError:
            raise UsageError(f"{info_path} exists but is not valid JSON; not overwriting it") from None
    info[dataset_name(output_path)] = entry
    write_json_atomic(info_path, info)
    return info_path


def default_rejects(output_path: str | None) -> str | None:
    if output_path is None or output_path == STDIO:
        return None
    return f"{output_path.rstrip('/')}.rejects.jsonl"  # beside a folder of shards, not in it


def remove_stale(path: str | None) -> None:
    if path is not None and os.path.exists(path):
        os.unlink(path)
