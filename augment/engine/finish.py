"""The end of a record's work that may run beside the steps, in the worker
processes (or Ray tasks): the filters that carry nothing from one record to
the next (``Filter.stateless``, the first ones of the run's list), and the
encoding into the output format, down to the JSON bytes to write.

The main process then only counts and writes, in input order, so the bytes
are the same as when all of it ran there. Records that leave nothing to
count but their bytes travel back together (:class:`Plain`): one block to
send, count and write instead of an object each. A filter that remembers earlier
records (duplicates, caps per source) and every filter after it stay in the
main process, and so does the encoding when any of them is left.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from augment.conversation import ASSISTANT, Conversation
from augment.dataio.formats import Format
from augment.dataio.streams import dumps
from augment.dataio.validation import problems
from augment.engine.fate import Kept
from augment.engine.filters import Filter, FilterContext
from augment.errors import RecordError

if TYPE_CHECKING:
    from augment.corpus.personas import Persona
    from augment.engine.records import Result


@dataclass
class Written:
    """A conversation encoded for the output, and what the summary notes of it."""

    data: bytes
    columns: tuple[str, ...]
    kind: str
    function_calls: bool
    #: It breaks the trainers' rules (counted, still written).
    invalid: bool

    def __reduce__(self) -> tuple:  # results cross from the workers as tuples: far faster than a dataclass's state
        return (Written, (self.data, self.columns, self.kind, self.function_calls, self.invalid))


@dataclass
class Output:
    """One kept conversation after the filters that ran beside the steps."""

    original: bool
    #: The conversation to write (None once it is encoded: not needed any more).
    conversation: Conversation | None
    #: (filter, note) for each change a filter made.
    changes: list[tuple[str, str]] = field(default_factory=list)
    #: (filter, reason) when a filter dropped it; ``rejected_output`` is it, encoded (or None).
    rejected: tuple[str, str] | None = None
    rejected_output: Any = None
    written: Written | None = None
    #: Why it cannot be written in the output format.
    error: str | None = None

    def __reduce__(self) -> tuple:
        return (Output, (self.original, self.conversation, self.changes, self.rejected, self.rejected_output, self.written, self.error))


class Plain:
    """Records of a batch, one after another, that were read, kept, passed
    the filters run beside the steps and encoded, with nothing else to count:
    no repair, reading note, dropped variant, change or problem. The main
    process counts them together and writes their bytes in one go."""

    __slots__ = ("ordinal", "records", "format", "data", "seen", "invalid")

    def __init__(self, ordinal: int, format: str) -> None:
        #: The last record's ordinal.
        self.ordinal = ordinal
        self.records = 0
        #: The name of the format they are written in.
        self.format = format
        #: The encoded conversations, in order (a record may have several: its variants).
        self.data: list[bytes] = []
        #: (columns, kind, function calls) of the written conversations, each once, in first-seen order.
        self.seen: list[tuple[tuple[str, ...], str, bool]] = []
        #: Written conversations that break the trainers' rules.
        self.invalid = 0

    def add(self, ordinal: int, written: list[Written]) -> None:
        """Record ``ordinal``, written as ``written``."""
        self.ordinal = ordinal
        self.records += 1
        for w in written:
            self.data.append(w.data)
            key = (w.columns, w.kind, w.function_calls)
            if key not in self.seen:
                self.seen.append(key)
            self.invalid += w.invalid

    def __reduce__(self) -> tuple:
        return (_plain, (self.ordinal, self.records, self.format, self.data, self.seen, self.invalid))


def _plain(ordinal: int, records: int, format: str, data: list[bytes], seen: list, invalid: int) -> Plain:
    out = Plain(ordinal, format)
    out.records, out.data, out.seen, out.invalid = records, data, seen, invalid
    return out


def add_plain(out: list, block: Plain | None, ordinal: int, format: str, written: list[Written]) -> Plain:
    """Record ``ordinal``, written as ``written`` in ``format``, added to
    ``block`` (the last item of ``out``, or None) when it is in that format,
    else to a new block at the end of ``out``; the block it went to."""
    if block is None or block.format != format:
        block = Plain(ordinal, format)
        out.append(block)
    block.add(ordinal, written)
    return block


def plainly_written(result: Result) -> list[Written] | None:
    """The encoded conversations of ``result`` when that is all there is to
    it (see :class:`Plain`); None otherwise."""
    if result.fates or result.repairs or result.problems or result.notes or not result.outputs:
        return None
    written = []
    for output in result.outputs:
        if output.written is None or output.changes or output.rejected is not None or output.error is not None:
            return None
        written.append(output.written)
    return written


def encode_for_output(conv: Conversation, target: Format, persona: Persona | None, *, expand: bool, user_name: str, safety_off: bool) -> tuple[Conversation, dict[str, Any]]:
    """The conversation as written (placeholders expanded, the gate's absence
    said in its provenance) and its record in ``target``; RecordError when
    the format cannot hold it."""
    if expand:
        conv = expand_placeholders(conv, persona, user_name)
    if safety_off:
        conv = copy.copy(conv)  # shallow: only the provenance is new (a deep copy costs more than the rest)
        conv.provenance = {**(conv.provenance or {}), "safety": "off (--no-safety)"}
    return conv, target.encode(conv)


def as_written(conv: Conversation, record: dict[str, Any]) -> Written:
    return Written(
        dumps(record), tuple(record), conv.kind, any(t.role == "function_call" for t in conv.turns), bool(problems(conv))
    )


def run_filters(filters: list[Filter], conv: Conversation, context: FilterContext) -> tuple[Conversation, list[tuple[str, str]], tuple[str, str] | None]:
    """``conv`` as ``filters`` change it, the (filter, note) of each change,
    and the (filter, reason) of the one that drops it (None: kept)."""
    changes: list[tuple[str, str]] = []
    for flt in filters:
        conv, made = flt.transform(conv, context)
        reason = flt.check(conv, context)
        changes.extend((flt.name, note) for note in made)
        if reason:
            return conv, changes, (flt.name, reason)
    return conv, changes, None


def encoded_or_none(target: Format, conv: Conversation) -> Any:
    try:
        return target.encode(conv)
    except RecordError:
        return None


@dataclass
class Finish:
    """Worker-side filters and encoding for a run (see the module)."""

    filters: list[Filter]
    #: Encode here (no filter is left for the main process).
    encode: bool
    #: The output format (None: each record's own input format).
    target: Format | None = None
    expand: bool = False
    user_name: str = "User"
    safety_off: bool = False

    def __call__(self, result: Result) -> None:
        target = self.target or result.format
        if target is None or not target.writable:
            return  # the main process says why it cannot be written
        result.outputs = [self._one(result, fate, target) for fate in result.kept]
        if self.encode and not result.failures and all(o.error is None for o in result.outputs):
            # nothing of this record is needed in the main process but its outputs and counts
            result.notes = list(result.source.notes) if result.source is not None else []
            result.fates = [f for f in result.fates if not isinstance(f, Kept)]
            result.source = result.persona = result.value = result.text = None

    def pack(self, results: list[Result]) -> list[Result | Plain]:
        """``results`` with each run of plainly written ones made one :class:`Plain`."""
        out: list[Result | Plain] = []
        block: Plain | None = None
        for result in results:
            written = plainly_written(result) if self.encode else None
            if written is None:
                out.append(result)
                block = None
                continue
            name = (self.target or result.format).name  # type: ignore[union-attr]  (written: it has a target)
            block = add_plain(out, block, result.ordinal, name, written)
        return out

    def plainly(self, conv: Conversation, ordinal: int, persona: Persona | None, target: Format) -> Written | None:
        """A source conversation, encoded, when the filters let it through
        unchanged (none notes a change) and ``target`` holds it: as
        :meth:`_one` would write it; None otherwise."""
        conv, changes, rejected = run_filters(self.filters, conv, FilterContext(conv, ordinal, True, persona))
        if changes or rejected is not None:
            return None
        try:
            conv, record = encode_for_output(conv, target, persona, expand=self.expand, user_name=self.user_name, safety_off=self.safety_off)
        except RecordError:
            return None
        return as_written(conv, record)

    def _one(self, result: Result, fate: Kept, target: Format) -> Output:
        conv = fate.conversation
        out = Output(fate.original, conv)
        context = FilterContext(result.source or conv, result.ordinal, fate.original, result.persona)
        conv, out.changes, out.rejected = run_filters(self.filters, conv, context)
        if out.rejected is not None:
            out.rejected_output, out.conversation = encoded_or_none(target, conv), None
            return out
        out.conversation = conv
        if self.encode:
            try:
                conv, record = encode_for_output(conv, target, result.persona, expand=self.expand, user_name=self.user_name, safety_off=self.safety_off)
            except RecordError as exc:
                out.error = f"cannot write as {target.name}: {exc}"
                return out
            out.written, out.conversation = as_written(conv, record), None
        return out


def expand_placeholders(conv: Conversation, persona: Persona | None, user_name: str) -> Conversation:
    """``{{char}}``/``<BOT>`` become the character's name (the linked persona's,
    or the assistant's speaker name) and ``{{user}}``/``<USER>`` ``user_name``."""
    char = persona.name if persona else next((t.name for t in conv.turns if t.role == ASSISTANT and t.name), None)
    out = conv.copy()
    turns = out.turns + ([out.preference.chosen, out.preference.rejected] if out.preference else [])
    for turn in turns:
        text = turn.content.replace("{{user}}", user_name).replace("<USER>", user_name)
        if char:
            text = text.replace("{{char}}", char).replace("<BOT>", char)
        turn.content = text
    return out
