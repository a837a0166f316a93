"""Splitting a corpus into train / validation / test without leakage: every
variant of a source lands on the same side as its source (grouped by the
source in its provenance), so a model is never validated on a paraphrase of a
training record."""

from __future__ import annotations

import hashlib
from typing import Any, Callable

from augment.conversation import Conversation
from augment.dataio.streams import AtomicFile, RecordWriter


def group_key(conv: Conversation, ordinal: int) -> str:
    """The source a record was made from; a record with no provenance is its own source."""
    source = (conv.provenance or {}).get("source") or {}
    if source.get("id") is not None:
        return f"id:{source['id']}"
    if source.get("file") is not None:
        return f"at:{source['file']}:{source.get('line')}"
    if conv.extra.get("id") is not None:
        return f"id:{conv.extra['id']}"
    return f"record:{ordinal}"


def assign(groups: list[str], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Each group's side. Groups are ordered by a seeded hash and cut at the
    fractions, so the sizes are as close as whole groups allow and the same
    seed always gives the same split."""
    order = sorted(set(groups), key=lambda g: hashlib.blake2b(f"{seed}/{g}".encode(), digest_size=8).digest())
    out: dict[str, str] = {}
    start = 0
    total = len(order)
    for side, share in fractions.items():
        count = round(total * share)
        for g in order[start : start + count]:
            out[g] = side
        start += count
    for g in order[start:]:
        out[g] = "train"
    return out


def side_paths(prefix: str, suffix: str, sides: list[str]) -> dict[str, str]:
    return {side: f"{prefix}.{side}{suffix}" for side in sides}




def split_file(
    read: Callable[[], Any], decode: Callable[[Any], Conversation], prefix: str, suffix: str, fractions: dict[str, float], seed: int
) -> dict[str, dict[str, Any]]:
    """Write ``prefix.train|val|test + suffix``; ``read()`` yields the input's
    raw records (twice: once to find the sources, once to write) and ``decode``
    turns one into a conversation. Records are written as they were read.
    Returns, per side, its path, records, sources, and the columns and kinds
    of its records (for its dataset_info.json entry)."""
    keys: dict[int, str] = {}
    kinds: dict[int, str] = {}
    for i, raw in enumerate(read()):
        if raw.error is None:
            conv = decode(raw)
            keys[i] = group_key(conv, i)
            kinds[i] = conv.kind
    wanted = {k: v for k, v in fractions.items() if v > 0}
    sides = assign(list(keys.values()), wanted, seed)
    names = ["train", *wanted]
    paths = side_paths(prefix, suffix, names)
    files = {side: AtomicFile(path) for side, path in paths.items()}
    writers = {side: RecordWriter(f.file, array=suffix == ".json") for side, f in files.items()}
    out = {side: {"path": paths[side], "records": 0, "sources": 0, "columns": [], "kinds": []} for side in names}
    ok = False
    try:
        for i, raw in enumerate(read()):
            if i in keys:
                side = sides[keys[i]]
                writers[side].write(raw.value)
                out[side]["records"] += 1
                seen = out[side]
                seen["columns"].extend(k for k in raw.value if k not in seen["columns"])
                if kinds[i] not in seen["kinds"]:
                    seen["kinds"].append(kinds[i])
        for w in writers.values():
            w.close()
        ok = True
    finally:
        for f in files.values():
            f.commit() if ok else f.abort()
    for side in sides.values():
        out[side]["sources"] += 1
    out["unreadable"] = {"records": sum(1 for _ in read()) - len(keys)}
    return out
