"""What a run did, counted: the summary printed at the end, kept in resume
checkpoints and shown in the dataset card."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

#: A quoted span longer than this is shortened in summary lines.
QUOTE_LIMIT = 60


@dataclass
class Summary:
    """What a run did, counted: records read, written, rejected and repaired, and why."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    repaired: int = 0
    invalid_for_trainers: int = 0
    reject_reasons: Counter = field(default_factory=Counter)
    repairs: Counter = field(default_factory=Counter)
    #: (step, reason) -> variants dropped
    dropped: Counter = field(default_factory=Counter)
    #: (step, reason) -> turns passed over unchanged
    skipped: Counter = field(default_factory=Counter)
    #: (filter, reason) -> records dropped
    filtered: Counter = field(default_factory=Counter)
    #: (filter, note) -> changes made (personal data scrubbed ...)
    changed: Counter = field(default_factory=Counter)
    #: what readers did while decoding (system lines left out ...) -> records
    notes: Counter = field(default_factory=Counter)
    rejects_path: str | None = None
    #: Records rejected or breaking the trainers' rules (validate).
    invalid: int = 0
    #: The name of the format records were written in (for the dataset_info.json entry).
    output_format: str | None = None
    #: Top-level fields of the written records, in first-seen order (the
    #: columns a loader sees).
    columns: list[str] = field(default_factory=list)
    #: The kinds of record written (chat, preference, labelled).
    kinds: list[str] = field(default_factory=list)
    #: What else the written records hold that a loader must know (function_calls).
    traits: list[str] = field(default_factory=list)

    #: The run stopped with its partial files kept for --resume.
    resumable: bool = False

    COUNTERS = ("reject_reasons", "repairs", "dropped", "skipped", "filtered", "changed", "notes")
    NUMBERS = ("read", "written", "rejected", "repaired", "invalid_for_trainers", "invalid")
    LISTS = ("columns", "kinds", "traits")

    def state(self) -> dict[str, Any]:
        """The counts, as JSON, for a checkpoint."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.NUMBERS + self.LISTS}
        for name in self.COUNTERS:
            out[name] = [[list(k) if isinstance(k, tuple) else k, n] for k, n in getattr(self, name).items()]
        out["output_format"] = self.output_format
        return out

    def restore(self, state: dict[str, Any]) -> None:
        for name in self.NUMBERS:
            setattr(self, name, state.get(name, 0))
        for name in self.LISTS:
            setattr(self, name, list(state.get(name, [])))
        for name in self.COUNTERS:
            counter = getattr(self, name)
            for key, n in state.get(name, []):
                counter[tuple(key) if isinstance(key, list) else key] = n
        self.output_format = state.get("output_format")

    def saw_record(self, columns: Sequence[str], kind: str, function_calls: bool) -> None:
        """Note the columns, kind and traits of a written record."""
        if len(self.columns) < len(columns) or any(k not in self.columns for k in columns):
            self.columns.extend(k for k in columns if k not in self.columns)
        if kind not in self.kinds:
            self.kinds.append(kind)
        if function_calls and "function_calls" not in self.traits:
            self.traits.append("function_calls")

    def lines(self) -> list[str]:
        out = [f"read {self.read}, written {self.written}, rejected {self.rejected}, repaired {self.repaired}"]
        for note, n in self.notes.most_common():
            out.append(f"  {note}: {n} record(s)")
        for reason, n in self.repairs.most_common():
            out.append(f"  repaired {n}: {reason}")
        for (step, reason), n in sorted(self.dropped.items()):
            out.append(f"  {step}: dropped {n} variant(s): {reason}")
        for (name, reason), n in sorted(self.filtered.items()):
            out.append(f"  {name}: filtered out {n} record(s): {reason}")
        for (name, note), n in sorted(self.changed.items()):
            out.append(f"  {name}: {note}: {n}")
        for (step, reason), n in sorted(self.skipped.items()):
            out.append(f"  {step}: left {n} turn(s) unchanged: {reason}")
        for reason, n in self.reject_reasons.most_common(10):
            out.append(f"  rejected {n}: {reason}")
        if self.rejects_path and self.rejected:
            out.append(f"  rejects are in {self.rejects_path}")
        if self.invalid_for_trainers:
            out.append(
                f"  {self.invalid_for_trainers} written record(s) break the trainers' role rules and "
                "would be skipped in training: see 'augment validate', or add --repair"
            )
        return out


#: A quoted span: its opening quote does not follow a letter (not "model's").
_QUOTED = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|(?<!\w)\"[^\"\n]*\"(?!\w)")


def _shorten(match: re.Match) -> str:
    text = match.group(0)
    if len(text) <= QUOTE_LIMIT + 2:
        return text
    return text[: QUOTE_LIMIT - 1] + "…" + text[-1]


def reason_kind(reason: str) -> str:
    """A reason for counting: the position of a turn or message left out,
    long quotes shortened (the words quoted are kept), one line."""
    reason = _QUOTED.sub(_shorten, reason.replace("\n", " "))
    return re.sub(r"\b(turn|message|item) \d+", r"\1 N", reason)[:200]
