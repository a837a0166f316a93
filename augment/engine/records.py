"""The work on one record: decode, repair, link its persona, augment, and
(when the run allows it, :mod:`augment.engine.finish`) filter and encode.

:class:`RecordJob` is a pure function of a batch of records and their
ordinals, so it can run in worker processes; what it returns says, for each
record, what became of it (:mod:`augment.engine.fate`), except that a run of
records written as they came is one block of bytes and counts
(:class:`~augment.engine.finish.Plain`). The main process counts and writes
afterwards, in input order. In a conversion, such records go straight from
their decoded conversation to their bytes; the others go the whole way,
which says what became of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from augment.conversation import SYSTEM, Conversation, Location
from augment.corpus.personas import Persona, link
from augment.dataio.formats import Format
from augment.dataio.reading import detect, record_formats
from augment.dataio.streams import Raw
from augment.dataio.validation import problems, repair
from augment.engine.fate import Dropped, Failed, Fate, Kept
from augment.engine.finish import Finish, Output, Plain, Written, add_plain
from augment.errors import AugmentError, RecordError

if TYPE_CHECKING:
    from augment.engine.chain import Engine


@dataclass
class Result:
    """What became of one input record."""

    location: Location
    value: Any = None
    text: str | None = None
    ordinal: int = 0
    #: The format the record was read with (the output format when none is named).
    format: Format | None = None
    #: The decoded (and repaired) source conversation.
    source: Conversation | None = None
    persona: Persona | None = None
    fates: list[Fate] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    #: With ``RecordJob.check``: the rules the record breaks (after repairs).
    problems: list[str] = field(default_factory=list)
    #: The kept conversations after the filters and encoding done beside the
    #: steps (None: all of that is left to the main process).
    outputs: list[Output] | None = None
    #: The source's reading notes, once ``source`` is let go (see ``Finish``).
    notes: list[str] = field(default_factory=list)

    def __reduce__(self) -> tuple:  # results cross from the workers as tuples: far faster than a dataclass's state
        return (Result, tuple(getattr(self, f.name) for f in fields(self)))

    @property
    def failures(self) -> list[str]:
        return [f.reason for f in self.fates if isinstance(f, Failed)]

    @property
    def kept(self) -> list[Kept]:
        return [f for f in self.fates if isinstance(f, Kept)]


@dataclass
class RecordJob:
    """Decode, repair and augment a batch of records. No I/O."""

    #: Every registered format, to recognise records read without one.
    formats: list[Format]
    engine: Engine | None = None
    greeting: str | None = None
    opener: str = "Hello."
    #: Check each decoded (and repaired) record against the trainers' rules.
    check: bool = False
    #: Keep the records (False when nothing is written, as in validate).
    write: bool = True
    personas: dict[str, Persona] = field(default_factory=dict)
    #: Filters and encoding done here rather than in the main process (set by the run).
    finish: Finish | None = None
    #: Hand plainly written records back in blocks (:class:`~augment.engine.finish.Plain`).
    pack: bool = True

    def __post_init__(self) -> None:
        self._per_record = record_formats(self.formats)  # the formats to tell a record's by, chosen once

    def __call__(self, batch: list[tuple[int, Raw]]) -> list[Result | Plain]:
        return self._converted(batch) if self._converts() else self._worked(batch)

    def _converts(self) -> bool:
        """A conversion: no step, repair or check, and the filters and the
        encoding all done here."""
        return self.engine is None and self.greeting is None and not self.check and self.write and self.pack and self.finish is not None and self.finish.encode

    def _converted(self, batch: list[tuple[int, Raw]]) -> list[Result | Plain]:
        """A conversion's batch (no step, repair or check; filtered and encoded
        here): each record that is plainly written (see :class:`Plain`) goes
        straight from its decoded conversation to its bytes; any other goes
        the whole way (:meth:`_worked`), which says what became of it."""
        finish = self.finish
        assert finish is not None
        out: list[Result | Plain] = []
        block: Plain | None = None
        for ordinal, raw in batch:
            done = self._plainly(raw, ordinal, finish)
            if done is None:
                out += self._worked([(ordinal, raw)])
                block = None
                continue
            name, written = done
            block = add_plain(out, block, ordinal, name, [written])
        return out

    def _plainly(self, raw: Raw, ordinal: int, finish: Finish) -> tuple[str, Written] | None:
        """(output format, bytes) of a record read, filtered and encoded with
        nothing to note; None for any other record."""
        if raw.error is not None:
            return None
        try:
            fmt, conv = self._read(raw)
        except Exception:  # noqa: BLE001 - the whole way says what is wrong with the record
            return None
        if conv.notes:
            return None
        conv.location = raw.location
        target = finish.target or fmt
        written = finish.plainly(conv, ordinal, link(conv, self.personas), target) if target.writable else None
        return None if written is None else (target.name, written)

    def _worked(self, batch: list[tuple[int, Raw]]) -> list[Result | Plain]:
        results: list[Result] = []
        decoded: list[Result] = []
        for ordinal, raw in batch:
            result = Result(raw.location, raw.value, raw.text, ordinal=ordinal)
            results.append(result)
            if self._decode(result, raw):
                decoded.append(result)
        if not self.write:
            return results
        if self.engine is None:
            for result in decoded:
                result.fates.append(Kept(result.source, original=True))
        else:
            expanded = self.engine.expand_batch([(r.source, r.ordinal, r.persona) for r in decoded])
            for result, fates in zip(decoded, expanded):
                result.fates.extend(fates)
        for result in decoded:
            if not result.kept and not result.failures:
                why = "; ".join(sorted({f.reason for f in result.fates if isinstance(f, Dropped)})) or "the chain produced nothing"
                result.fates.append(Failed(f"no output for this record: {why}"))
        if self.finish is not None:
            for result in decoded:
                self.finish(result)
            if self.pack:
                return self.finish.pack(results)
        return results

    def decoded(self, raws: Iterable[Raw]) -> Iterator[tuple[Conversation, Persona | None]]:
        """The conversations that decode (repaired if asked), with their
        personas; for estimates and statistics."""
        for raw in raws:
            result = Result(raw.location)
            if self._decode(result, raw):
                assert result.source is not None
                yield result.source, result.persona

    def _read(self, raw: Raw) -> tuple[Format, Conversation]:
        """The record's format (its file's, or told by its fields) and its conversation."""
        fmt = raw.format or detect(self._per_record, raw.value, chosen=True)
        return fmt, fmt.decode(raw.value)

    def _decode(self, result: Result, raw: Raw) -> bool:
        if raw.error is not None:
            result.fates.append(Failed(raw.error))
            return False
        try:
            fmt, conv = self._read(raw)
        except RecordError as exc:
            result.fates.append(Failed(str(exc)))
            return False
        except AugmentError:
            raise  # said on purpose (a usage error stops the run)
        except Exception as exc:  # noqa: BLE001 - a reader's bug on one record rejects that record, with what went wrong
            reader = getattr(raw.format, "name", None) or "the reader"
            result.fates.append(Failed(f"{reader} could not read this record ({type(exc).__name__}: {exc}); please report it"))
            return False
        conv.location = raw.location
        if self.greeting is not None:
            result.repairs = repair(conv, self.greeting, self.opener)
            if result.repairs:
                conv.provenance = {**(conv.provenance or {}), "repairs": result.repairs}
            if not any(t.role != SYSTEM for t in conv.dialogue):
                result.fates.append(Failed(f"no dialogue left after the repairs ({'; '.join(result.repairs) or 'none'})"))
                return False
        if self.check:
            result.problems = problems(conv)
        result.format = fmt
        result.source = conv
        result.persona = link(conv, self.personas)
        return True
