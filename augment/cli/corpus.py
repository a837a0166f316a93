"""Looking at a corpus: ``augment stats``, ``augment review`` and ``augment split``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from augment.cli.options import registry, user_errors
from augment.corpus.personas import load_all as load_personas
from augment.corpus.report import lines, page as report_page, summary_json
from augment.corpus.stats import DEFAULT_CUTOFF, Stats, rejects_beside
from augment.dataio.reading import Reader, Source, detect
from augment.dataio.streams import write_text_atomic
from augment.dataio.outputs import dataset_info_entry, write_dataset_info
from augment.engine.records import RecordJob
from augment.errors import Unrepresentable, UsageError
from augment.plugins import Registry


def _rejects(path: str):
    """The entries of the rejects file beside ``path``, if there is one."""
    rejects = rejects_beside(path)
    if rejects is None:
        return
    with open(rejects, encoding="utf-8", newline="\n") as fh:  # lines end at \n only: U+0085 is data
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{rejects}:{number}: not a rejects entry: {exc.msg}") from None


def _stats_of(reg: Registry, path: str, from_: str | None, cutoff: int, personas: dict, compare: str | None = None) -> Stats:
    def source_of(variants: list) -> list:
        from augment.corpus.review import from_files  # only for variants whose sources the file does not hold

        return from_files(reg.formats, variants, fallback=compare)

    reader = Reader(reg.formats, Source(path, from_))
    job = RecordJob(list(reg.formats.values()), write=False, personas=personas)
    stats = Stats(path, cutoff, source_of)
    for conv, persona in job.decoded(reader.read()):
        stats.add(conv, persona)
    stats.add_rejects(_rejects(path))
    return stats.finish()


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

        used: list = []

        def decode(raw):
            fmt = raw.format or detect(reg.formats.values(), raw.value)
            if not used:
                used.append(fmt)
            return fmt.decode(raw.value)

        sides = split_file(reader.read, decode, stem, suffix, {"val": val, "test": test}, seed)
        unreadable = sides.pop("unreadable")["records"]
        for side in sides.values():
            click.echo(f"wrote {side['path']}: {side['records']} records from {side['sources']} sources", err=True)
            if used and side["records"] and used[0].writable:  # its LLaMA-Factory entry, as for every output
                try:
                    entry = dataset_info_entry(used[0], Path(side["path"]).name, side["columns"], side["kinds"])
                except Unrepresentable as exc:
                    click.echo(f"  ({exc}: no dataset_info.json entry)", err=True)
                else:
                    write_dataset_info(side["path"], entry)
        if unreadable:
            click.echo(f"left out {unreadable} record(s) that cannot be read (see 'augment validate')", err=True)


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--compare", metavar="SOURCE", help="The corpus FILE was made from: its figures side by side.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write a self-contained HTML report with charts.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--cutoff-len", "cutoff", type=click.IntRange(1), default=DEFAULT_CUTOFF, show_default=True,
              help="The trainer's cutoff_len: conversations estimated longer are counted (trainers truncate them).")
@click.option("--personas", "personas_dir", type=click.Path(file_okay=False), help="Personas folder (default: $AUGMENT_PERSONAS or ./personas): conversations are counted per character.")
@click.option("--from", "from_", metavar="FORMAT", help="Input format (default: detected per record).")
def stats(file, compare, html_path, as_json, cutoff, personas_dir, from_):
    """Statistics of a corpus: conversations, turns, lengths by role, estimated
    tokens against --cutoff-len, characters, languages, duplicates and
    near-duplicate similarity, lexical diversity (distinct-1/2); for an
    augmented file the yield per chain, the share of words each chain changed,
    and the reasons in its rejects file."""
    with user_errors():
        reg = registry()
        personas = load_personas(personas_dir)
        main_stats = _stats_of(reg, file, from_, cutoff, personas, compare)
        source = _stats_of(reg, compare, from_, cutoff, personas) if compare else None
    if as_json:
        click.echo(json.dumps(summary_json(main_stats, source), indent=2, ensure_ascii=False))
    else:
        for line in lines(main_stats):
            click.echo(line)
        if source is not None:
            click.echo("")
            for line in lines(source):
                click.echo(line)
    if html_path:
        write_text_atomic(html_path, report_page(main_stats, source))
        click.echo(f"wrote {html_path}", err=True)




@click.command()
@click.argument("file", metavar="OUT")
@click.option("--sample", "size", type=click.IntRange(1), default=10, show_default=True, help="Variants to draw (and rejects to show).")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed draws the same variants.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write a self-contained HTML page (default: a short text version on stdout).")
@click.option("--source", "source_path", metavar="SRC", help="Read the sources from SRC (at the lines in provenance) instead of the file named there.")
@click.option("--from", "from_", metavar="FORMAT", help="Format of OUT (default: detected per record).")
def review(file, size, seed, html_path, source_path, from_):
    """A random sample of the variants in OUT beside their sources, the changed
    words highlighted, with each one's chain and provenance, and the rejects
    with their reasons: to judge an augmented file before training on it."""
    from augment.corpus.review import page, sample_review, text

    if file == "-":
        raise click.BadParameter("OUT is read twice: give a file, not -", param_hint="OUT")
    with user_errors():
        reg = registry()
        reader = Reader(reg.formats, Source(file, from_))
        job = RecordJob(list(reg.formats.values()), write=False)

        def read():
            return (conv for conv, _ in job.decoded(reader.read()))

        found = sample_review(file, read, reg.formats, size, seed, source_path, _rejects(file))
    if html_path:
        write_text_atomic(html_path, page(found, reg.formats))
        click.echo(f"wrote {html_path}: {len(found.pairs)} variants, {len(found.rejects)} of {found.rejected} rejects", err=True)
    else:
        for line in text(found):
            click.echo(line)
