"""The run specification: everything a command asks for, typed, built once
by the CLI and turned into a run by :func:`augment.engine.plan.prepare`.

Every command (convert, validate, run, filter, and the statistics and split
readers) is a RunSpec with some parts left at their defaults; the CLI only
maps its options onto these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from augment.dataio.reading import Source

if TYPE_CHECKING:  # the model's settings are imported by the commands that take a model
    from augment.model.settings import ModelSettings


@dataclass(frozen=True)
class StepSpec:
    """One augmenter of the chain, with the options the user gave."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    #: New conversations made from each conversation the step gets.
    variants: int = 1
    #: The roles the step may change (None: the augmenter's own default).
    roles: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FilterSpec:
    """A filter of the command line: its name and option values."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSpec:
    """Everything a command line asks of a run, before anything is loaded or opened."""

    source: Source
    #: Where records go: a file, ``-`` for stdout, or None (nothing is written).
    output: str | None = None
    #: The output format (None: each record's input format).
    to: str | None = None
    #: Repair role order with this greeting policy (None: no repair).
    greeting: str | None = None
    opener: str = "Hello."
    steps: list[StepSpec] = field(default_factory=list)
    filters: list[FilterSpec] = field(default_factory=list)
    #: The safety gate (the ``safety`` filter) runs first unless turned off
    #: with --no-safety, which is recorded in provenance and the dataset card.
    safety: bool = True
    #: A model that judges the safety gate's borderline records (--judge-model).
    judge: ModelSettings | None = None
    #: The model for steps that ask one (None: no step may).
    model: ModelSettings | None = None
    seed: int = 0
    originals: bool = True
    workers: int = 1
    #: Records per batch (None: what the steps prefer).
    batch_size: int | None = None
    #: "fail": stop at the first bad record; "skip": reject it and go on.
    on_error: str = "fail"
    #: The rejects file (None: OUT.rejects.jsonl when records may be rejected without stopping).
    rejects: str | None = None
    resume: bool = False
    #: Check every record against the trainers' rules (validate).
    check: bool = False
    expand_placeholders: bool = False
    user_name: str = "User"
    personas_dir: str | None = None
    protect: tuple[str, ...] = ()
    protect_regex: tuple[str, ...] = ()
    #: Write numbered shards of this many records into the folder ``output`` (``-o DIR/``).
    shard_records: int | None = None
    #: Where the per-record work runs: "local" (``workers`` processes) or "ray".
    executor: str = "local"
    #: The Ray cluster (None: a Ray instance started for the run).
    ray_address: str | None = None
    #: The command line, for --resume's fingerprint and the dataset card.
    command: tuple[str, ...] = ()
