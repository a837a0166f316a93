"""From a :class:`RunSpec` to a :class:`Run`, and the files written beside
its output afterwards. The one place where a command becomes a run."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from augment.corpus.personas import load_all as load_personas
from augment.dataio import dataset_card, shards
from augment.dataio.outputs import dataset_info_entry, default_rejects, remove_stale, write_dataset_info
from augment.dataio.reading import Reader, format_named
from augment.dataio.streams import STDIO
from augment.engine.augmenters import Resources
from augment.engine import executors
from augment.engine.filters import Filter
from augment.engine.records import RecordJob
from augment.engine.resume import fingerprint
from augment.engine.run import Run
from augment.engine.summary import Summary
from augment.errors import CommandLineError, Unrepresentable, UsageError
from augment.plugins import Registry
from augment.spec import FilterSpec, RunSpec

if TYPE_CHECKING:
    from augment.engine.chain import Engine

#: The filter that keeps sexual content involving minors out of every output.
SAFETY = "safety"


def prepare(spec: RunSpec, registry: Registry) -> Run:
    """The run ``spec`` asks for: its reader, steps, filters, model client
    and output files. Raises UsageError for what cannot work."""
    _check_shards(spec)
    reader = Reader(registry.formats, spec.source)
    output_format = format_named(registry.formats, spec.to) if spec.to else reader.fixed
    if output_format is not None and not output_format.writable and spec.output is not None:
        writable = ", ".join(sorted(n for n, f in registry.formats.items() if f.writable))
        raise UsageError(f"{output_format.name} is an input-only format: add --to (one of {writable})")
    personas = load_personas(spec.personas_dir) if spec.output is not None or spec.steps else {}
    engine, client = _engine(spec, registry, personas)
    wanted = list(spec.filters)
    if spec.safety and spec.output is not None and SAFETY in registry.filters and all(f.name != SAFETY for f in wanted):
        wanted.insert(0, FilterSpec(SAFETY))
    judge = None
    if spec.judge is not None:
        if not (spec.safety and any(f.name == SAFETY for f in wanted)):
            raise CommandLineError("--judge-model judges the safety gate's borderline records: it cannot go with --no-safety")
        from augment.model.client import LLMClient

        judge = LLMClient(spec.judge)
    filters = [_filter(registry, f.name, f.values, personas, judge if f.name == SAFETY else None) for f in wanted]
    job = RecordJob(list(registry.formats.values()), engine, spec.greeting, spec.opener, check=spec.check, write=spec.output is not None, personas=personas)
    rejects = spec.rejects
    if rejects is None and (spec.on_error == "skip" or filters):
        rejects = default_rejects(spec.output)
        if not spec.resume:
            remove_stale(rejects)
    run = Run(
        reader, job, spec.output, output_format, spec.on_error, rejects, rejects_named=spec.rejects is not None,
        filters=filters, workers=spec.workers if client is None else 1,  # model steps wait on the network: threads, not processes
        expand=spec.expand_placeholders, user_name=spec.user_name, resume=spec.resume, client=client,
        safety_off=not spec.safety, shard_records=spec.shard_records,
    )
    run.executor = executors.make(spec.executor, spec.workers, spec.ray_address, asks_model=client is not None)
    if spec.batch_size:
        run.batch_size = spec.batch_size
    elif engine is not None:
        run.batch_size = max(step.augmenter.batch_size for step in engine.steps)
    if spec.output not in (None, STDIO):
        run.fingerprint = fingerprint(list(spec.command), reader.files)
    return run


def _check_shards(spec: RunSpec) -> None:
    """``-o DIR/`` and ``--shard-records N`` go together, JSON Lines only."""
    folder = shards.is_folder_output(spec.output)
    if spec.shard_records is None and folder:
        raise CommandLineError(f"-o {spec.output} is a folder: add --shard-records N to write numbered shards of N records into it")
    if spec.shard_records is None:
        return
    if not folder:
        raise CommandLineError(f"--shard-records writes numbered shards into a folder: give -o DIR/ (got {spec.output})")
    shards.check_folder(spec.output)


def _engine(spec: RunSpec, registry: Registry, personas: dict) -> tuple[Engine | None, Any]:
    if not spec.steps:
        return None, None
    from augment.engine.chain import Engine, Step  # only a run with steps needs the engine
    from augment.engine.protect import Protector

    classes = [(s, registry.augmenter(s.name)) for s in spec.steps]
    resolved = [(s, cls, cls.resolve(s.values)) for s, cls in classes]
    needing = [s.name for s, cls, values in resolved if cls.needs_model(values)]
    client = None
    if needing:
        if spec.model is None:
            raise CommandLineError(f"{', '.join(needing)} need(s) a model: add --model MODEL (any litellm model string; openai/NAME with --api-base for a local server)")
        from augment.model.client import LLMClient

        client = LLMClient(spec.model)
    elif spec.model is not None:
        raise CommandLineError("--model is given but no step asks a model")
    steps = [
        Step(cls(resources=Resources(client if cls.needs_model(values) else None, personas), **values), s.variants, s.roles)
        for s, cls, values in resolved
    ]
    try:
        protector = Protector(spec.protect, spec.protect_regex)
    except re.error as exc:
        raise UsageError(f"--protect-regex: {exc}") from None
    engine = Engine(steps, spec.seed, spec.originals, protector)
    if client is not None:
        engine.model = spec.model.describe()
    return engine, client


def _filter(registry: Registry, name: str, values: dict[str, Any], personas: dict, client: Any = None) -> Filter:
    cls = registry.filters.get(name)
    if cls is None:
        raise UsageError(f"unknown filter {name!r} (known: {', '.join(sorted(registry.filters))})")
    return cls(resources=Resources(client, personas), **values)


@dataclass
class Beside:
    """What was written beside the output after the run."""

    info_path: Any = None
    entry: dict[str, Any] | None = None
    #: Why there is no dataset_info.json entry, when there is none.
    no_entry: str | None = None
    card_path: Any = None


def write_beside(spec: RunSpec, run: Run, registry: Registry, card: bool = True) -> Beside:
    """The dataset_info.json entry and (with ``card``) the dataset card beside the output."""
    out = Beside()
    summary = run.summary
    if spec.output in (None, STDIO) or summary.output_format is None:
        return out
    fmt = run.output_format or registry.formats[summary.output_format]
    output = spec.output.rstrip("/")  # a folder of shards is one dataset: LLaMA-Factory reads every file in it
    try:
        out.entry = dataset_info_entry(fmt, output.rsplit("/", 1)[-1], summary.columns, summary.kinds, summary.traits)
    except Unrepresentable as exc:
        out.no_entry = str(exc)
    else:
        out.info_path = write_dataset_info(output, out.entry)
    if card:
        files = f"{output.rsplit('/', 1)[-1]}/{shards.SHARD_GLOB}" if spec.shard_records else None
        out.card_path = dataset_card.write(output, summary, card_info(spec, run, summary), out.entry, files)
    return out


def card_info(spec: RunSpec, run: Run, summary: Summary) -> dict[str, Any]:
    info: dict[str, Any] = {"input": spec.source.path, "command": shlex.join(["augment", *spec.command]), "format": summary.output_format}
    engine = run.job.engine
    if engine is not None:
        info.update(seed=engine.seed, chain=[step.describe() for step in engine.steps], model=engine.model)
        if engine.model:
            info["endpoints"] = spec.model.endpoints()
    info["filters"] = [{"name": f.name, "options": dict(f.values)} for f in run.filters]
    info["safety"] = spec.safety
    if spec.shard_records:
        info["shards"] = (shards.shards_in(spec.output), spec.shard_records)
    return info
