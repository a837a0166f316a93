"""One run from an input to an output: read, work on each record (here or in
worker processes), filter, encode, write, and account for every record.

Reading, filtering, encoding, writing and counting stay in this process, in
input order, so the output is the same for any number of workers. Every
input record ends up written or in the rejects file with its reason; the
output appears only when the run succeeded (and, with a journal, a killed
run can be resumed from its last checkpoint).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from augment.conversation import Conversation
from augment.dataio.formats import Format
from augment.dataio.outputs import Rejects
from augment.dataio.reading import Reader
from augment.dataio.shards import ShardedOutput
from augment.dataio.streams import STDIO, AtomicFile, RecordWriter, is_array_path
from augment.dataio.validation import problems
from augment.engine.filters import Filter, FilterContext
from augment.engine.records import RecordJob, Result, expand_placeholders
from augment.engine.resume import Journal, partial_path
from augment.engine.summary import Summary, reason_kind
from augment.engine.executors import Executor, Local
from augment.engine.workers import batched
from augment.errors import RecordError, StopRun, UsageError


@dataclass
class Run:
    """One pass from ``reader`` to ``output_path``."""

    reader: Reader
    job: RecordJob
    output_path: str | None
    #: The format to write (None: each record's own input format).
    output_format: Format | None = None
    on_error: str = "fail"
    rejects_path: str | None = None
    #: The user named the rejects file: write it even when empty.
    rejects_named: bool = False
    filters: list[Filter] = field(default_factory=list)
    #: Worker processes for the per-record work (1: this process).
    workers: int = 1
    #: Where the per-record work runs (None: ``workers`` local processes).
    executor: Executor | None = None
    #: Write numbered shards of this many records into the folder ``output_path``.
    shard_records: int | None = None
    #: Records per batch handed to the job.
    batch_size: int = 64
    #: Write {{char}}/{{user}} as names.
    expand: bool = False
    user_name: str = "User"
    #: Identifies this run for --resume (None: the run cannot be resumed, e.g. to stdout).
    fingerprint: str | None = None
    resume: bool = False
    #: Called with ``file:line: why`` for each rejected record or dropped output.
    report: Callable[[str], None] = lambda line: None
    #: Called with each record that breaks the trainers' rules (validate).
    on_problems: Callable[[Result], None] | None = None
    progress: Callable[[int], None] | None = None
    #: The model client, when a step asks a model (its usage is reported after the run).
    client: Any = None
    #: The safety gate was turned off (--no-safety): said in every record's provenance.
    safety_off: bool = False
    summary: Summary = field(default_factory=Summary)

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
        self._rejects = Rejects(self.rejects_path, self.rejects_named, journal is not None, state.get("rejects_offset") if state else None)
        for flt in self.filters:
            flt.start()
        out_file: AtomicFile | None = None
        writer: RecordWriter | None = None
        ok = keep = False
        executor = self._executor = self.executor or Local(self.workers)
        try:
            if self.output_path == STDIO:
                writer = RecordWriter(sys.stdout.buffer)
            elif self.shard_records:
                partial = partial_path(self.output_path) if journal is not None else None
                out_file = writer = ShardedOutput(self.output_path, self.shard_records, partial, state)
            elif self.output_path is not None:
                partial = partial_path(self.output_path) if journal is not None else None
                out_file = AtomicFile(self.output_path, partial, state["offset"] if state else None)
                writer = RecordWriter(out_file.file, array=is_array_path(self.output_path))
                if state is not None:
                    writer.count = state["count"]
            done = state["done"] if state else 0
            executor.start(self.job)  # loads the steps' data before local workers start, so they share it
            self._replay_filters(done)
            raws = ((o, r) for o, r in enumerate(self.reader.read(self.progress)) if o >= done)
            for batch in executor.map(self.job, batched(raws, self.batch_size)):
                for result in batch:
                    self._account(result, writer)
                    done = result.ordinal + 1
                if journal is not None and writer is not None and out_file is not None and journal.due():
                    out_file.file.flush()
                    journal.save({"done": done, "offset": out_file.file.tell(), "count": writer.count, "shard": getattr(out_file, "shard", None), "rejects_offset": self._rejects.offset(), "summary": summary.state()})
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
            executor.close()
            self._rejects.finish(ok, keep)
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

    # -- one record ---------------------------------------------------------------
    def _account(self, result: Result, writer: RecordWriter | None) -> None:
        summary = self.summary
        summary.read += 1
        failures = result.failures
        for reason in failures:
            self._reject(result, reason)
        if result.repairs:
            summary.repaired += 1
            summary.repairs.update(reason_kind(r) for r in result.repairs)
        if result.source is not None:
            summary.notes.update(result.source.notes)
        for fate in result.fates:
            step = getattr(fate, "step", None)
            if step is None:
                continue
            if hasattr(fate, "turns"):
                summary.skipped[(step, reason_kind(fate.reason))] += fate.turns
            else:
                summary.dropped[(step, reason_kind(fate.reason))] += 1
        if failures or result.problems:
            summary.invalid += 1
        if result.problems and self.on_problems is not None:
            self.on_problems(result)
        kept = result.kept
        if not kept:
            return
        written = unwritable = 0
        for conv, _ in self._filtered(result):
            if self._write(result, conv, writer):
                written += 1
            else:
                unwritable += 1  # rejected with the reason already
        if not written and not failures and not unwritable:
            summary.rejected += 1  # the filters dropped every output

    def _filtered(self, result: Result, count: bool = True) -> list[tuple[Conversation, bool]]:
        """The kept conversations the filters let through (changed as they
        say); each one a filter drops goes to the rejects file with the
        filter and the reason."""
        out = []
        for fate in result.kept:
            conv = fate.conversation
            context = FilterContext(result.source or conv, result.ordinal, fate.original, result.persona)
            for flt in self.filters:
                conv, made = flt.transform(conv, context)
                reason = flt.check(conv, context)
                if count:
                    for note in made:
                        self.summary.changed[(flt.name, note)] += 1
                if reason:
                    if count:
                        self.summary.filtered[(flt.name, reason_kind(reason))] += 1
                        self._rejects.add(result.location, f"{flt.name}: {reason}", output=self._encoded_or_none(result, conv))
                        self.report(f"{result.location}: {flt.name}: {reason}")
                    break
            else:
                out.append((conv, fate.original))
        return out

    def _target(self, result: Result) -> Format:
        target = self.output_format or result.format
        assert target is not None
        if not target.writable:
            raise UsageError(f"{target.name} is an input-only format: add --to (sharegpt, openai, alpaca, ...)")
        return target

    def _encoded_or_none(self, result: Result, conv: Conversation) -> Any:
        try:
            return self._target(result).encode(conv)
        except RecordError:
            return None

    def _write(self, result: Result, conv: Conversation, writer: RecordWriter | None) -> bool:
        target = self._target(result)
        if self.expand:
            conv = expand_placeholders(conv, result.persona, self.user_name)
        if self.safety_off:
            conv = conv.copy()
            conv.provenance = {**(conv.provenance or {}), "safety": "off (--no-safety)"}
        try:
            record = target.encode(conv)
        except RecordError as exc:
            self._reject(result, f"cannot write as {target.name}: {exc}")
            return False
        summary = self.summary
        if summary.output_format is None:
            summary.output_format = target.name
        if problems(conv):
            summary.invalid_for_trainers += 1
        if writer is not None:
            writer.write(record)
            summary.written += 1
            summary.saw_record(record, conv)
        return True

    def _reject(self, result: Result, reason: str) -> None:
        self._rejects.add(result.location, reason, record=result.value, raw=result.text)
        self.summary.rejected += 1
        self.summary.reject_reasons[reason_kind(reason)] += 1
        if self.on_error == "fail":
            raise StopRun(str(result.location), reason)  # the CLI says it once
        self.report(f"{result.location}: {reason}")

    def _replay_filters(self, done: int) -> None:
        """Show the filters what the interrupted run showed them (records
        0..done-1, worked again: model answers come from the cache), so
        stateful filters (duplicates, caps per source) carry on as if the run
        had not stopped. Nothing is written or counted."""
        if not self.filters or not done:
            return
        raws = ((o, r) for o, r in enumerate(self.reader.read()) if o < done)
        for batch in self._executor.map(self.job, batched(raws, self.batch_size)):
            for result in batch:
                self._filtered(result, count=False)


def _clear(output_path: str, rejects_path: str | None, journal: Journal) -> None:
    """Forget an earlier, different run's partial files."""
    journal.remove()
    for path in (output_path, rejects_path):
        if path is not None:
            partial = partial_path(path)
            if partial.is_dir():  # shards
                shutil.rmtree(partial)
            else:
                partial.unlink(missing_ok=True)
