"""One run from an input to an output: read, work on each record (here or in
worker processes), filter, encode, write, and account for every record.

Reading, writing and counting stay in this process, in input order, and so
do the filters that remember earlier records (and those after them); the
others and the encoding go with the per-record work when they can
(:mod:`augment.engine.finish`). The output is the same for any number of
workers. Every
input record ends up written or in the rejects file with its reason; the
output appears only when the run succeeded (and, with a journal, a killed
run can be resumed from its last checkpoint).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from augment.conversation import Conversation
from augment.dataio.formats import Format
from augment.dataio.outputs import Rejects
from augment.dataio.reading import Reader
from augment.dataio.shards import ShardedOutput
from augment.dataio.streams import STDIO, AtomicFile, Batch, RecordWriter, is_array_path
from augment.engine.filters import Filter, FilterContext
from augment.engine.finish import Finish, Output, Plain, as_written, encode_for_output, encoded_or_none, run_filters
from augment.engine.records import RecordJob, Result
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
        self._driver_filters = self._hand_over_filters()
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
            for batch in executor.map(self.job, batched(raws, self.batch_size, Batch)):
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

    def _hand_over_filters(self) -> list[Filter]:
        """Give the per-record job the leading filters that carry nothing
        from one record to the next, and the encoding when no filter is left;
        the filters left for this process."""
        n = 0
        while n < len(self.filters) and self.filters[n].stateless:
            n += 1
        left = self.filters[n:]
        self.job.finish = None
        if self.job.write and self.output_path is not None:
            encode = not left
            if n or encode:
                self.job.finish = Finish(self.filters[:n], encode, self.output_format, self.expand, self.user_name, self.safety_off)
        return left if self.job.finish is not None else self.filters

    # -- one record ---------------------------------------------------------------
    def _account(self, result: Result | Plain, writer: RecordWriter | None) -> None:
        if type(result) is Plain:
            self._account_plain(result, writer)
            return
        summary = self.summary
        summary.read += 1
        failures = result.failures
        for reason in failures:
            self._reject(result, reason)
        if result.repairs:
            summary.repaired += 1
            summary.repairs.update(reason_kind(r) for r in result.repairs)
        summary.notes.update(result.source.notes if result.source is not None else result.notes)
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
        if result.outputs is not None:
            passed = self._finished(result)
        elif result.kept:
            passed = [(conv, None) for conv, _ in self._filtered(result)]
        else:
            return
        written = unwritable = 0
        for conv, output in passed:
            if self._write(result, conv, output, writer):
                written += 1
            else:
                unwritable += 1  # rejected with the reason already
        if not written and not failures and not unwritable:
            summary.rejected += 1  # the filters dropped every output

    def _account_plain(self, block: Plain, writer: RecordWriter | None) -> None:
        """Count and write a block of plainly written records (as ``_account``
        would, one by one)."""
        self.summary.read += block.records
        self._wrote(block.format, block.data, block.invalid, block.seen, writer)

    def _filtered(self, result: Result, count: bool = True) -> list[tuple[Conversation, bool]]:
        """The kept conversations the filters let through (changed as they
        say); each one a filter drops goes to the rejects file with the
        filter and the reason."""
        out = []
        for fate in result.kept:
            conv = self._filter(result, fate.conversation, fate.original, self._driver_filters, count)
            if conv is not None:
                out.append((conv, fate.original))
        return out

    def _finished(self, result: Result, count: bool = True) -> list[tuple[Conversation | None, Output]]:
        """As ``_filtered``, for a record whose first filters ran with the job:
        their changes and drops counted here, the filters left run here."""
        out: list[tuple[Conversation | None, Output]] = []
        assert result.outputs is not None
        for output in result.outputs:
            if count:
                self.summary.changed.update(output.changes)
            if output.rejected is not None:
                if count:
                    self._filter_drop(result, *output.rejected, output.rejected_output)
                continue
            conv = output.conversation
            if conv is not None and self._driver_filters:
                conv = self._filter(result, conv, output.original, self._driver_filters, count)
                if conv is None:
                    continue
            out.append((conv, output))
        return out

    def _filter(self, result: Result, conv: Conversation, original: bool, filters: list[Filter], count: bool) -> Conversation | None:
        """``conv`` as ``filters`` change it, or None when one drops it."""
        context = FilterContext(result.source or conv, result.ordinal, original, result.persona)
        conv, changes, dropped = run_filters(filters, conv, context)
        if count:
            self.summary.changed.update(changes)
            if dropped is not None:
                self._filter_drop(result, *dropped, encoded_or_none(self._target(result), conv))
        return None if dropped is not None else conv

    def _filter_drop(self, result: Result, name: str, reason: str, output: Any) -> None:
        self.summary.filtered[(name, reason_kind(reason))] += 1
        self._rejects.add(result.location, f"{name}: {reason}", output=output)
        self.report(f"{result.location}: {name}: {reason}")

    def _target(self, result: Result) -> Format:
        target = self.output_format or result.format
        assert target is not None
        if not target.writable:
            raise UsageError(f"{target.name} is an input-only format: add --to (sharegpt, openai, alpaca, ...)")
        return target

    def _write(self, result: Result, conv: Conversation | None, output: Output | None, writer: RecordWriter | None) -> bool:
        target = self._target(result)
        done = output.written if output is not None else None
        if output is not None and output.error is not None:
            self._reject(result, output.error)
            return False
        if done is None:
            assert conv is not None
            try:
                conv, record = encode_for_output(conv, target, result.persona, expand=self.expand, user_name=self.user_name, safety_off=self.safety_off)
            except RecordError as exc:
                self._reject(result, f"cannot write as {target.name}: {exc}")
                return False
            done = as_written(conv, record)
        self._wrote(target.name, [done.data], int(done.invalid), [(done.columns, done.kind, done.function_calls)], writer)
        return True

    def _wrote(self, format: str, data: list[bytes], invalid: int, seen: list[tuple[tuple[str, ...], str, bool]], writer: RecordWriter | None) -> None:
        """Write encoded conversations in ``format`` and count them: ``invalid``
        of them break the trainers' rules, ``seen`` are their (columns, kind,
        function calls)."""
        summary = self.summary
        if summary.output_format is None:
            summary.output_format = format
        summary.invalid_for_trainers += invalid
        if writer is not None:
            writer.write_many(data)
            summary.written += len(data)
            for columns, kind, function_calls in seen:
                summary.saw_record(columns, kind, function_calls)

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
        for batch in self._executor.map(self.job, batched(raws, self.batch_size, Batch)):
            for result in batch:
                if type(result) is Plain:
                    continue  # nothing a filter left here must see (Plain comes only when no filter is left here)
                if result.outputs is not None:
                    self._finished(result, count=False)
                else:
                    self._filtered(result, count=False)


def _clear(output_path: str, rejects_path: str | None, journal: Journal) -> None:
    """Forget an earlier, different run's partial files."""
    journal.remove()
    for path in (output_path, rejects_path):
        if path is not None:
            partial = partial_path(path)
            if partial.is_dir():  # shards
                import shutil

                shutil.rmtree(partial)
            else:
                partial.unlink(missing_ok=True)
