"""``augment convert`` and ``augment validate``: a run with no steps."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from augment.cli.options import (
    SectionedCommand, error_options, execute, judge_settings, safety_options, label_of, nothing_written, option, read_options, registry,
    reporter, resume_options, source, user_errors, write_options,
)
from augment.dataio.streams import STDIO

if TYPE_CHECKING:
    from augment.spec import RunSpec


def finish(spec: RunSpec, run, quiet: bool) -> None:
    """After a run: the dataset_info.json entry and the dataset card beside
    the output, the summary, and a non-zero exit if nothing was written."""
    from augment.engine.plan import write_beside

    beside = write_beside(spec, run, registry())
    written = spec.output
    if spec.shard_records:
        from augment.dataio.shards import shards_in

        written = f"{len(shards_in(spec.output))} shard(s) in {spec.output}"
    if beside.no_entry:
        click.echo(f"wrote {written} ({beside.no_entry}: no dataset_info.json entry)", err=True)
    elif beside.info_path is not None and not quiet:
        click.echo(f"wrote {written} and its entry in {beside.info_path}", err=True)
    if beside.card_path is not None and not quiet:
        click.echo(f"dataset card: {beside.card_path}", err=True)
    if not quiet:
        for line in run.summary.lines():
            click.echo(line, err=True)
    if spec.output is not None:
        nothing_written(run.summary)


@click.command(cls=SectionedCommand)
@click.argument("input", metavar="IN")
@option("--to", metavar="FORMAT", section="Output", help="Output format (default: the input's).")
@option("-o", "--output", default=STDIO, show_default=True, section="Output", help="Output file (.json: one array, otherwise JSON Lines); - for stdout.")
@write_options
@read_options
@error_options
@safety_options
@resume_options
@option("--workers", type=click.IntRange(1), default=1, show_default=True, section="Speed", help="Processes that decode, repair, check (the safety gate) and encode the records; the output is the same bytes for any number.")
def convert(**o):
    """Convert IN to another format, losing nothing.

    IN is a file, - for stdin, a folder (every file in it) or a glob. What the
    target format cannot hold is refused per record, with the reason. A
    dataset_info.json entry for LLaMA-Factory and a dataset card are written
    beside the output.
    """
    from augment.engine.plan import prepare
    from augment.spec import RunSpec

    with user_errors():
        spec = RunSpec(
            source(o), o["output"], o["to"], o["greeting"], o["opener"], on_error=o["on_error"], rejects=o["rejects"],
            resume=o["resume"], expand_placeholders=o["expand_placeholders"], user_name=o["user_name"],
            personas_dir=o["personas_dir"], safety=not o["no_safety"], judge=judge_settings(o), command=tuple(sys.argv[1:]),
            workers=o["workers"],
        )
        run = prepare(spec, registry())
        run.report = reporter(o["quiet"])
        execute(run, label_of(o["input"]), o["quiet"])
        finish(spec, run, o["quiet"])


@click.command(cls=SectionedCommand)
@click.argument("input", metavar="IN")
@option("-o", "--output", section="Output", help="With --repair/--greeting: write the repaired records here.")
@read_options
@option("--rejects", type=click.Path(dir_okay=False), section="Errors", help="Write the unreadable records here, with their reason.")
@option("-q", "--quiet", is_flag=True, section="Errors", help="No summary line; the problems and the exit status only.")
@option("--workers", type=click.IntRange(1), default=1, show_default=True, section="Speed", help="Processes that decode, repair and check the records; the output is the same for any number.")
def validate(**o):
    """Check IN against the rules trainers enforce.

    Role alternation, message count, empty turns, unknown roles: every problem
    is printed as file:line: why, then a summary. Exits 1 when any record is
    invalid. With --repair or --greeting, the fixable defects are repaired
    first (and written with -o).
    """
    if o["output"] is not None and o["greeting"] is None:
        raise click.UsageError("-o writes repaired records: add --repair or --greeting")
    from augment.engine.plan import prepare, write_beside
    from augment.spec import RunSpec

    with user_errors():
        spec = RunSpec(source(o), o["output"], None, o["greeting"], o["opener"], on_error="skip", rejects=o["rejects"], check=True, command=tuple(sys.argv[1:]), workers=o["workers"])
        run = prepare(spec, registry())
        run.report = click.echo
        run.on_problems = lambda result: [click.echo(f"{result.location}: {p}") for p in result.problems]
        summary = run.execute()
        write_beside(spec, run, registry(), card=False)
        if not o["quiet"]:
            verb = "repaired and checked" if o["greeting"] else "checked"
            click.echo(
                f"{verb} {summary.read} records: {summary.read - summary.invalid} valid, "
                f"{summary.invalid} invalid" + (f", {summary.repaired} repaired" if o["greeting"] else ""),
                err=True,
            )
            for note, n in summary.notes.most_common():
                click.echo(f"  {note}: {n} record(s)", err=True)
        if summary.invalid:
            sys.exit(1)
