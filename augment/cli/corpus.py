"""Looking at a corpus: ``augment stats`` and ``augment split``."""

from __future__ import annotations

import json

import click

from augment.cli.options import registry, user_errors
from augment.corpus.report import page as report_page, summary_json
from augment.corpus.stats import Stats, rejects_beside
from augment.dataio.reading import Reader, Source, detect
from augment.dataio.streams import write_text_atomic
from augment.engine.records import RecordJob
from augment.plugins import Registry


def _stats_of(reg: Registry, path: str, from_: str | None) -> Stats:
    reader = Reader(reg.formats, Source(path, from_))
    job = RecordJob(list(reg.formats.values()), write=False)
    stats = Stats(path)
    for conv, _ in job.decoded(reader.read()):
        stats.add(conv)
    rejects = rejects_beside(path)
    if rejects is not None:
        lines = rejects.read_text(encoding="utf-8").split("\n")  # not splitlines(): U+0085 is data
        stats.add_rejects(json.loads(line) for line in lines if line.strip())
    return stats


@click.command()
@click.argument("input", metavar="IN")
@click.option("--val", type=click.FloatRange(0.0, 0.9), default=0.1, show_default=True, help="Share of sources for validation.")
@click.option("--test", type=click.FloatRange(0.0, 0.9), default=0.0, show_default=True, help="Share of sources for test.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--prefix", help="Output prefix (default: IN without its suffix): PREFIX.train.jsonl, PREFIX.val.jsonl, PREFIX.test.jsonl.")
@click.option("--from", "from_", metavar="FORMAT", help="Input format (default: detected per record).")
def split(input, val, test, seed, prefix, from_):
    """Split IN into train / validation (/ test) files without leakage: every
    variant of a source lands on the same side as its source."""
    from augment.corpus.split import split_file

    if val + test >= 1:
        raise click.BadParameter("--val and --test must leave something for train")
    with user_errors():
        reg = registry()
        reader = Reader(reg.formats, Source(input, from_))
        suffix = ".json" if input.endswith(".json") else ".jsonl"
        stem = prefix or (input[: -len(suffix)] if input.endswith(suffix) else input)

        def decode(raw):
            return (raw.format or detect(reg.formats.values(), raw.value)).decode(raw.value)

        sides = split_file(reader.read, decode, stem, suffix, {"val": val, "test": test}, seed)
        unreadable = sides.pop("unreadable")["records"]
        for side in sides.values():
            click.echo(f"wrote {side['path']}: {side['records']} records from {side['sources']} sources", err=True)
        if unreadable:
            click.echo(f"left out {unreadable} record(s) that cannot be read (see 'augment validate')", err=True)


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--compare", metavar="SOURCE", help="The corpus FILE was made from: its figures side by side.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write a self-contained HTML report with charts.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--from", "from_", metavar="FORMAT", help="Input format (default: detected per record).")
def stats(file, compare, html_path, as_json, from_):
    """Statistics of a corpus: conversations, turns, lengths by role, languages,
    duplicates, lexical diversity (distinct-1/2); for an augmented file the yield
    per chain and the reasons in its rejects file."""
    with user_errors():
        reg = registry()
        main_stats = _stats_of(reg, file, from_)
        source = _stats_of(reg, compare, from_) if compare else None
    if as_json:
        click.echo(json.dumps(summary_json(main_stats, source), indent=2, ensure_ascii=False))
    else:
        for line in main_stats.lines():
            click.echo(line)
        if source is not None:
            click.echo("")
            for line in source.lines():
                click.echo(line)
    if html_path:
        write_text_atomic(html_path, report_page(main_stats, source))
        click.echo(f"wrote {html_path}", err=True)


