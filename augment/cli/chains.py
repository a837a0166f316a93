"""``augment run`` and ``augment filter``: chains of steps over IN."""

from __future__ import annotations

import sys

import click

from augment.cli.commands import finish
from augment.cli.options import (
    error_options, execute, judge_settings, label_of, model_options, safety_options, model_settings, option, read_options, registry, reporter,
    resume_options, source, user_errors, write_options,
)
from augment.cli.steps import FilterGroup, StepGroup
from augment.engine.executors import EXECUTORS
from augment.engine.plan import prepare
from augment.engine.records import RecordJob
from augment.engine.workers import default_workers
from augment.spec import FilterSpec, RunSpec, StepSpec


def output_options(fn):
    fn = option("--shard-records", type=click.IntRange(1), metavar="N", section="Output", help="With -o DIR/: write numbered JSON Lines shards of N records (DIR/part-00000.jsonl ...), one dataset_info.json entry for the folder.")(fn)
    fn = option("--to", metavar="FORMAT", section="Output", help="Output format (default: the input's).")(fn)
    return option("-o", "--output", required=True, section="Output", help="Output file (.json: one array, otherwise JSON Lines), a folder DIR/ with --shard-records; - for stdout.")(fn)


def executor_options(fn):
    s = "Executor"
    fn = option("--ray-address", metavar="ADDRESS", section=s, help="The Ray cluster for --executor ray: auto, HOST:PORT or ray://HOST:PORT (default: a Ray instance started for the run, with --workers CPUs).")(fn)
    return option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True, section=s, help="Where the steps run: local processes (--workers), or Ray tasks (pip install 'roleplay-augment[ray]'); the same output either way.")(fn)


def chain_options(fn):
    s = "Chain"
    for opt in reversed([
        option("--seed", type=int, default=0, show_default=True, section=s, help="Same input and seed, same output."),
        option("--originals/--no-originals", default=True, show_default=True, section=s, help="Write each source conversation as well as its variants."),
        option("--batch-size", type=click.IntRange(1), section=s, help="Records worked on at once; --resume restarts from the last whole batch (default: what the steps prefer, 64 or 256)."),
        option("--workers", type=click.IntRange(1), default=default_workers, show_default="the number of cores", section=s, help="Processes for the augmenters; the output is the same for any number."),
        option("--protect", multiple=True, metavar="WORD", section=s, help="A name or word no step may change (repeatable)."),
        option("--protect-regex", multiple=True, metavar="REGEX", section=s, help="A pattern no step may change (repeatable)."),
    ]):
        fn = opt(fn)
    return fn


def _spec(o: dict, steps: list[StepSpec], filters: list[FilterSpec]) -> RunSpec:
    return RunSpec(
        source(o), o["output"], o["to"], o["greeting"], o["opener"], steps=steps, filters=filters,
        model=model_settings(o), seed=o.get("seed", 0), originals=o.get("originals", True), workers=o.get("workers", 1),
        batch_size=o.get("batch_size"), on_error=o["on_error"], rejects=o["rejects"], resume=o["resume"],
        expand_placeholders=o["expand_placeholders"], user_name=o["user_name"], personas_dir=o["personas_dir"],
        protect=tuple(o.get("protect", ())), protect_regex=tuple(o.get("protect_regex", ())), safety=not o["no_safety"], judge=judge_settings(o),
        command=tuple(sys.argv[1:]), shard_records=o.get("shard_records"), executor=o.get("executor", "local"),
        ray_address=o.get("ray_address"),
    )


@click.group(cls=StepGroup, chain=True, invoke_without_command=True, subcommand_metavar="STEP [OPTIONS] [STEP [OPTIONS]]...")
@click.argument("input", metavar="IN")
@output_options
@write_options
@read_options
@chain_options
@executor_options
@model_options
@error_options
@safety_options
@resume_options
def run(**_):
    """Run a chain of augmenters over IN and write the results to -o.

    Each STEP is an augmenter (see 'augment augmenters') or a filter (see
    'augment filters'); 'augment run STEP --help' shows its options. Filters
    apply to what the chain is about to write, in order. Steps compose: each
    one makes --variants new conversations from every conversation the step
    before it produced. Every output record carries provenance: source, seed
    and the chain with options. The run's options may stand before or after
    the steps.
    """


@run.result_callback()
def _run_chain(steps, **o):
    augmenting = [s for s in steps if isinstance(s, StepSpec)]
    filters = [s for s in steps if isinstance(s, FilterSpec)]
    if not augmenting:
        raise click.UsageError("name at least one augmenter STEP (see 'augment augmenters'); to only filter, use 'augment filter'")
    with user_errors():
        spec = _spec(o, augmenting, filters)
        run_ = prepare(spec, registry())
        if o["dry_run"]:
            if run_.client is None:
                raise click.UsageError("--dry-run estimates model requests: no step of this chain asks a model")
            _dry_run(run_)
            return
        run_.report = reporter(o["quiet"])
        if run_.executor is not None and not o["quiet"]:
            run_.executor.say = lambda line: click.echo(line, err=True)
        execute(run_, label_of(o["input"]), o["quiet"])
        finish(spec, run_, o["quiet"])
        if run_.client is not None and not o["quiet"]:
            for line in run_.client.usage.lines(run_.client.settings.model):
                click.echo(line, err=True)


def _dry_run(run_) -> None:
    """How many requests and roughly how many tokens the run needs; nothing is asked or written."""
    job: RecordJob = run_.job
    estimate = job.engine.estimate(job.decoded(run_.reader.read()))
    settings = run_.client.settings
    click.echo(f"dry run: {estimate['records']} record(s), {estimate['requests']} request(s) to {settings.model} at least (more if answers are retried)")
    click.echo(f"  about {estimate['prompt_tokens']} prompt tokens, and up to {estimate['requests'] * settings.max_tokens} completion tokens (--max-tokens {settings.max_tokens})")
    prices = run_.client.prices()
    if prices is None:
        click.echo(f"  cost: unknown (no price for {settings.model}: give --price-in/--price-out)")
    else:
        low = estimate["prompt_tokens"] * prices[0]
        high = low + estimate["requests"] * settings.max_tokens * prices[1]
        click.echo(f"  cost: between ${low:.4f} and ${high:.4f}")


@click.group("filter", cls=FilterGroup, chain=True, invoke_without_command=True, subcommand_metavar="FILTER [OPTIONS] [FILTER [OPTIONS]]...")
@click.argument("input", metavar="IN")
@output_options
@write_options
@read_options
@error_options
@safety_options
@resume_options
@option("--workers", type=click.IntRange(1), default=1, show_default=True, section="Speed", help="Processes that decode the records and run the filters that look at one record at a time; the filters that remember earlier records run in order here. The output is the same bytes for any number.")
def filter_(**_):
    """Run filters over IN and write what they keep to -o.

    Each FILTER (see 'augment filters') looks at every record in order; a
    dropped record goes to the rejects file with the filter and the reason.
    """


@filter_.result_callback()
def _filter_chain(filters, **o):
    if not filters:
        raise click.UsageError("name at least one FILTER (see 'augment filters')")
    with user_errors():
        spec = _spec(o, [], list(filters))
        run_ = prepare(spec, registry())
        run_.report = reporter(o["quiet"])
        execute(run_, label_of(o["input"]), o["quiet"])
        finish(spec, run_, o["quiet"])
