"""From an input file to an output file: read, decode, repair, augment, encode,
write, and account for every record.

The per-record work (:class:`RecordJob`) is a pure function of the record and
its ordinal, so it can run in worker processes; reading, writing and counting
stay in the main process, in input order.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from .conversation import Conversation, Location
from .engine import Engine, Outcome
from .errors import RecordError, StopRun, UsageError
from .filters import Filter, FilterContext
from .formats import Format
from .personas import link
from .plugins import Registry
from .resume import Journal, partial_path
from .streams import (
    STDIO,
    AtomicFile,
    Raw,
    RecordWriter,
    is_array_path,
    label,
    open_binary,
    read_json_records,
    write_json_atomic,
)
from .validation import problems, repair
from .workers import batched, run_batches


@dataclass
class Summary:
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
    rejects_path: str | None = None
    #: Records rejected or breaking the trainers' rules (validate).
    invalid: int = 0
    #: The format records were written in (for the dataset_info.json entry).
    output_format: Format | None = None

    #: The run stopped with its partial files kept for --resume.
    resumable: bool = False

    COUNTERS = ("reject_reasons", "repairs", "dropped", "skipped", "filtered", "changed")
    NUMBERS = ("read", "written", "rejected", "repaired", "invalid_for_trainers", "invalid")

    def state(self) -> dict[str, Any]:
        """The counts, as JSON, for a checkpoint."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.NUMBERS}
        for name in self.COUNTERS:
            out[name] = [[list(k) if isinstance(k, tuple) else k, n] for k, n in getattr(self, name).items()]
        if self.output_format is not None:
            out["output_format"] = self.output_format.name
        return out

    def restore(self, state: dict[str, Any]) -> None:
        for name in self.NUMBERS:
            setattr(self, name, state.get(name, 0))
        for name in self.COUNTERS:
            counter = getattr(self, name)
            for key, n in state.get(name, []):
                counter[tuple(key) if isinstance(key, list) else key] = n

    def lines(self) -> list[str]:
        out = [f"read {self.read}, written {self.written}, rejected {self.rejected}, repaired {self.repaired}"]
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


# -- choosing formats -----------------------------------------------------------


def input_format(registry: Registry, path: str, name: str | None, dataset_info: tuple[str, str] | None, speaker: str | None) -> Format | None:
    """The format to read ``path`` with, or None to detect it per record."""
    fmt: Format | None = None
    if dataset_info is not None:
        fmt = from_dataset_info(registry, *dataset_info)
    elif name is not None:
        fmt = registry.format(name)
    else:
        suffix = Path(path).suffix.lower()
        for candidate in registry.formats.values():
            if suffix and suffix in candidate.suffixes:
                fmt = candidate
                break
    if fmt is not None:
        fmt = fmt.configure(speaker=speaker)
    elif speaker is not None:
        raise UsageError("--as applies to script input: add --from script or use a .txt file")
    return fmt


def from_dataset_info(registry: Registry, file: str, dataset: str) -> Format:
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
    return registry.format(formatting).from_dataset_info(entry)


def detect(formats: Iterable[Format], record: Any) -> Format:
    formats = [f for f in formats if not f.suffixes]  # text formats are chosen by file name
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


# -- reading --------------------------------------------------------------------


def read_raw(path: str, fmt: Format | None, progress: Callable[[int], None] | None = None) -> Iterator[Raw]:
    """Every record of ``path`` with its location, unreadable ones included."""
    file = label(path)
    try:
        stream = open_binary(path)
    except OSError as exc:
        raise UsageError(f"cannot open {path}: {exc.strerror}") from None
    try:
        custom = fmt.read(stream, file) if fmt is not None else None
        if custom is None:
            yield from read_json_records(stream, file, progress, lines=path.lower().endswith(".jsonl"))
        else:
            for location, record in custom:
                yield Raw(location, value=record)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


# -- the work on one record -----------------------------------------------------


@dataclass
class Result:
    """What became of one input record."""

    location: Location
    value: Any = None
    text: str | None = None
    ordinal: int = 0
    #: What to write: (conversation, encoded record, is the source itself)
    records: list[tuple[Conversation, dict[str, Any], bool]] = field(default_factory=list)
    #: The decoded source conversation, for filters.
    source: Conversation | None = None
    rejects: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    #: (step, reason, turns) passed over unchanged
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    invalid: int = 0
    #: With ``RecordJob.check``: the rules the record breaks (after repairs).
    problems: list[str] = field(default_factory=list)
    #: The format the records were written in.
    target: Format | None = None


@dataclass
class RecordJob:
    """Decode, repair, augment and encode a batch of records. No I/O."""

    formats: list[Format]
    fixed_input: Format | None
    output: Format | None
    engine: Engine | None = None
    greeting: str | None = None
    opener: str = "Hello."
    #: Check each decoded (and repaired) record against the trainers' rules.
    check: bool = False
    #: Encode the outputs (False when nothing is written, as in validate).
    write: bool = True
    #: Replace {{char}}/<BOT> and {{user}}/<USER> in what is written.
    expand: bool = False
    user_name: str = "User"
    personas: dict = field(default_factory=dict)

    def __call__(self, batch: list[tuple[int, Raw]]) -> list[Result]:
        results: list[Result] = []
        decoded: list[tuple[Result, Format, Conversation, int]] = []
        for ordinal, raw in batch:
            result = Result(raw.location, raw.value, raw.text, ordinal=ordinal)
            results.append(result)
            item = self._decode(result, raw)
            if item is not None:
                decoded.append((result, item[0], item[1], ordinal))
        if not self.write:
            return results
        if self.engine is None:
            expanded = [[Outcome(conv)] for _, _, conv, _ in decoded]
        else:
            expanded = self.engine.expand_batch([(conv, ordinal) for _, _, conv, ordinal in decoded])
        for (result, fmt, conv, _), outcomes in zip(decoded, expanded):
            result.source = conv
            self._encode(result, self.output or fmt, outcomes)
        return results

    def decoded(self, path: str) -> Iterator[Conversation]:
        """The conversations of ``path`` that decode (repaired if asked); for estimates."""
        for raw in read_raw(path, self.fixed_input):
            item = self._decode(Result(raw.location), raw)
            if item is not None:
                yield item[1]

    def _decode(self, result: Result, raw: Raw) -> tuple[Format, Conversation] | None:
        if raw.error is not None:
            result.rejects.append(raw.error)
            return None
        try:
            fmt = self.fixed_input or detect(self.formats, raw.value)
            conv = fmt.decode(raw.value)
        except RecordError as exc:
            result.rejects.append(str(exc))
            return None
        conv.location = raw.location
        if self.greeting is not None:
            result.repairs = repair(conv, self.greeting, self.opener)
            if result.repairs:
                conv.provenance = {**(conv.provenance or {}), "repairs": result.repairs}
        if self.check:
            result.problems = problems(conv)
        return fmt, conv

    def _encode(self, result: Result, target: Format, outcomes: list[Outcome]) -> None:
        result.target = target
        for outcome in outcomes:
            if outcome.failed:
                result.rejects.append(outcome.reason or "")
            elif outcome.skipped_turns:
                result.skipped.append((outcome.step or "", outcome.reason or "", outcome.skipped_turns))
            elif outcome.conversation is None:
                result.dropped.append((outcome.step or "", outcome.reason or ""))
            else:
                conv = outcome.conversation
                if self.expand:
                    conv = expand_placeholders(conv, self.personas, self.user_name)
                try:
                    original = self.engine is None or not (conv.provenance or {}).get("chain")
                    result.records.append((conv, target.encode(conv), original))
                except RecordError as exc:
                    result.rejects.append(f"cannot write as {target.name}: {exc}")
                    continue
                if problems(outcome.conversation):
                    result.invalid += 1
        if not result.records and not result.rejects:
            why = "; ".join(sorted({r for _, r in result.dropped})) or "the chain produced nothing"
            result.rejects.append(f"no output for this record: {why}")


def expand_placeholders(conv: Conversation, personas: dict, user_name: str) -> Conversation:
    """``{{char}}``/``<BOT>`` become the character's name (the linked persona's,
    or the assistant's speaker name) and ``{{user}}``/``<USER>`` ``user_name``."""
    persona = link(conv, personas)
    char = persona.name if persona else next((t.name for t in conv.turns if t.role == "assistant" and t.name), None)
    out = conv.copy()
    for turn in out.turns:
        text = turn.content.replace("{{user}}", user_name).replace("<USER>", user_name)
        if char:
            text = text.replace("{{char}}", char).replace("<BOT>", char)
        turn.content = text
    return out


# -- the run ----------------------------------------------------------------------


class Rejects:
    """The rejects file: one JSON line per rejected record, with where and why."""

    def __init__(self, path: str | None, always: bool = False, resumable: bool = False, resume_at: int | None = None) -> None:
        self.path = path
        self._file: AtomicFile | None = None
        self._partial = partial_path(path) if path is not None and resumable else None
        if path is not None and (always or resume_at is not None):  # a file the user named is never left stale
            self._file = AtomicFile(path, self._partial, resume_at)

    def add(self, result: Result, reason: str) -> None:
        if self.path is None:
            return
        if self._file is None:
            self._file = AtomicFile(self.path, self._partial)
        entry: dict[str, Any] = {"location": str(result.location), "reason": reason}
        if result.text is not None:
            entry["raw"] = result.text
        else:
            entry["record"] = result.value
        self._file.file.write(orjson.dumps(entry) + b"\n")

    def add_record(self, result: Result, reason: str, record: dict[str, Any]) -> None:
        """An output record a filter dropped (not the input record)."""
        if self.path is None:
            return
        if self._file is None:
            self._file = AtomicFile(self.path, self._partial)
        entry = {"location": str(result.location), "reason": reason, "output": record}
        self._file.file.write(orjson.dumps(entry) + b"\n")

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


@dataclass
class Run:
    """One pass from ``input_path`` to ``output_path``."""

    input_path: str
    output_path: str | None
    job: RecordJob
    on_error: str = "fail"
    rejects_path: str | None = None
    #: Called with ``file:line: why`` for each rejected record.
    report: Callable[[str], None] = lambda line: None
    progress: Callable[[int], None] | None = None
    #: Worker processes for the per-record work (1: this process).
    workers: int = 1
    #: Records per batch handed to the job.
    batch_size: int = 64
    #: The user named the rejects file: write it even when empty.
    rejects_named: bool = False
    #: Called for each record that breaks the trainers' rules (with ``job.check``).
    on_problems: Callable[[Result], None] | None = None
    #: Filters applied, in this process and in order, to what is about to be written.
    filters: list[Filter] = field(default_factory=list)
    #: Identifies this run for --resume (None: the run cannot be resumed, e.g. to stdout).
    fingerprint: str | None = None
    #: Continue from the last checkpoint of the same run, if there is one.
    resume: bool = False
    summary: Summary = field(default_factory=Summary)

    def _reject(self, result: Result, reason: str, summary: Summary) -> None:
        self._rejects.add(result, reason)
        summary.rejected += 1
        summary.reject_reasons[_reason_kind(reason)] += 1
        if self.on_error == "fail":
            raise StopRun(str(result.location), reason)  # the CLI says it once
        self.report(f"{result.location}: {reason}")

    def _verdicts(self, result: Result) -> tuple[list[dict[str, Any]], list[tuple[str, str, dict[str, Any]]], list[tuple[str, str]]]:
        """What the filters make of ``result``'s outputs: the records to write,
        the ones dropped as (filter, reason, record), and (filter, note) per change."""
        kept: list[dict[str, Any]] = []
        dropped: list[tuple[str, str, dict[str, Any]]] = []
        notes: list[tuple[str, str]] = []
        for conv, record, original in result.records:
            context = FilterContext(result.source or conv, result.ordinal, original)
            changed = False
            for flt in self.filters:
                new, made = flt.transform(conv, context)
                if made:
                    conv, changed = new, True
                    notes.extend((flt.name, note) for note in made)
                reason = flt.check(conv, context)
                if reason:
                    dropped.append((flt.name, reason, record))
                    break
            else:
                kept.append(result.target.encode(conv) if changed and result.target is not None else record)
        return kept, dropped, notes

    def _filter(self, result: Result, summary: Summary) -> list[dict[str, Any]]:
        """The records of ``result`` to write. Each output a filter drops goes
        to the rejects file with the filter and the reason; a record that lost
        every output counts as rejected."""
        if not self.filters:
            return [record for _, record, _ in result.records]
        kept, dropped, notes = self._verdicts(result)
        for name, note in notes:
            summary.changed[(name, note)] += 1
        for name, reason, record in dropped:
            summary.filtered[(name, _reason_kind(reason))] += 1
            self._rejects.add_record(result, f"{name}: {reason}", record)
            self.report(f"{result.location}: {name}: {reason}")
        if result.records and not kept:
            summary.rejected += 1
        return kept

    def execute(self) -> Summary:
        summary = self.summary
        summary.rejects_path = self.rejects_path
        to_file = self.output_path is not None and self.output_path != STDIO
        journal = Journal(self.output_path, self.fingerprint) if to_file and self.fingerprint else None
        state = journal.load() if journal is not None and self.resume else None
        if journal is not None and state is None:
            _clear(self.output_path, self.rejects_path, journal)
        if state is not None:
            summary.restore(state["summary"])
            name = state["summary"].get("output_format")
            summary.output_format = next((f for f in [self.job.output, self.job.fixed_input, *self.job.formats] if f is not None and f.name == name), None)
        rejects = self._rejects = Rejects(
            self.rejects_path, self.rejects_named, journal is not None, state.get("rejects_offset") if state else None
        )
        for flt in self.filters:
            flt.start()
        out_file: AtomicFile | None = None
        writer: RecordWriter | None = None
        ok = keep = False
        try:
            if self.output_path == STDIO:
                writer = RecordWriter(sys.stdout.buffer)
            elif self.output_path is not None:
                partial = partial_path(self.output_path) if journal is not None else None
                out_file = AtomicFile(self.output_path, partial, state["offset"] if state else None)
                writer = RecordWriter(out_file.file, array=is_array_path(self.output_path))
                if state is not None:
                    writer.count = state["count"]
            done = state["done"] if state else 0
            if self.job.engine is not None:
                self.job.engine.setup()  # before the workers start, so they share it
            self._replay_filters(done)
            raws = ((o, r) for o, r in enumerate(read_raw(self.input_path, self.job.fixed_input, self.progress)) if o >= done)
            for batch in run_batches(self.job, batched(raws, self.batch_size), self.workers):
                for result in batch:
                    self._account(result, summary, writer)
                    done = result.ordinal + 1
                if journal is not None and writer is not None and out_file is not None:
                    out_file.file.flush()
                    journal.save({"done": done, "offset": out_file.file.tell(), "count": writer.count, "rejects_offset": rejects.offset(), "summary": summary.state()})
            if writer is not None:
                writer.close()
            ok = True
        except (StopRun, UsageError):
            raise  # a bad record, or a command that cannot work: nothing to resume
        except BaseException:
            keep = journal is not None  # a crash or Ctrl-C: --resume can go on from the last checkpoint
            summary.resumable = keep
            raise
        finally:
            rejects.finish(ok, keep)
            if out_file is not None:
                if ok:
                    out_file.commit()
                elif keep:
                    out_file.file.close()
                else:
                    out_file.abort()
            if journal is not None and not keep:
                journal.remove()
        return summary

    def _account(self, result: Result, summary: Summary, writer: RecordWriter | None) -> None:
        summary.read += 1
        for reason in result.rejects:
            self._reject(result, reason, summary)
        if result.repairs:
            summary.repaired += 1
            summary.repairs.update(_reason_kind(r) for r in result.repairs)
        summary.dropped.update(result.dropped)
        for step, reason, turns in result.skipped:
            summary.skipped[(step, reason)] += turns
        if result.rejects or result.problems:
            summary.invalid += 1
        if result.problems and self.on_problems is not None:
            self.on_problems(result)
        if summary.output_format is None and result.records:
            summary.output_format = result.target
        summary.invalid_for_trainers += result.invalid
        kept = self._filter(result, summary)
        if writer is not None:
            for record in kept:
                writer.write(record)
                summary.written += 1

    def _replay_filters(self, done: int) -> None:
        """Show the filters what the interrupted run showed them (records
        0..done-1, worked again: model answers come from the cache), so
        stateful filters (duplicates, caps per source) carry on as if the run
        had not stopped. Nothing is written or counted."""
        if not self.filters or not done:
            return
        raws = ((o, r) for o, r in enumerate(read_raw(self.input_path, self.job.fixed_input)) if o < done)
        for batch in run_batches(self.job, batched(raws, self.batch_size), self.workers):
            for result in batch:
                self._verdicts(result)  # for the filters' memory; nothing is written


def _clear(output_path: str, rejects_path: str | None, journal: Journal) -> None:
    """Forget an earlier, different run's partial files."""
    journal.remove()
    for path in (output_path, rejects_path):
        if path is not None:
            partial_path(path).unlink(missing_ok=True)


def _reason_kind(reason: str) -> str:
    """A reason without its record-specific details, for counting."""
    return re.sub(r"(turn|message|item) \d+", r"\1 N", re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason))[:120]


def write_dataset_info(output_path: str, fmt: Format) -> tuple[Path, dict[str, Any]]:
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
    name = out.name
    for suffix in (".jsonl", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    info[name] = fmt.dataset_info(out.name)
    write_json_atomic(info_path, info)
    return info_path, info[name]


def default_rejects(output_path: str | None) -> str | None:
    if output_path is None or output_path == STDIO:
        return None
    return f"{output_path}.rejects.jsonl"


def remove_stale(path: str | None) -> None:
    if path is not None and os.path.exists(path):
        os.unlink(path)
