"""The ``augment`` command: a thin shell over the pipeline.

This is the only place where errors become messages for a user. Heavy
libraries (nlpaug, litellm, nltk) are imported by the steps that need them,
never here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Iterator

import click

from . import __version__
from .card import write as write_card
from .cli_personas import personas_group
from .cli_steps import FilterGroup, StepGroup
from .engine import Engine, Step
from .filters import Filter
from .llm import LLMClient, ModelSettings, cache_root
from .personas import load_all as load_personas
from .errors import AugmentError, StopRun, Unrepresentable
from .resume import fingerprint
from .pipeline import (
    RecordJob,
    Run,
    Summary,
    default_rejects,
    detect,
    input_format,
    read_raw,
    remove_stale,
    write_dataset_info,
)
from .plugins import Registry, registry
from .protect import Protector
from .report import page as report_page, summary_json
from .stats import Stats, rejects_beside
from .streams import STDIO, input_size, write_text_atomic
from .validation import GREETING_POLICIES
from .workers import default_workers

MAX_ECHOED = 20


def _registry() -> Registry:
    reg = registry()
    for failure in reg.failures:
        click.echo(f"warning: plugin {failure.name}: {failure.error}", err=True)
    return reg


# -- shared options ---------------------------------------------------------------


def input_options(fn):
    options = [
        click.option("--from", "from_", metavar="FORMAT", help="Input format (default: detected per record)."),
        click.option("--dataset-info", type=click.Path(exists=True, dir_okay=False), help="LLaMA-Factory dataset_info.json whose entry names the columns and tags."),
        click.option("--dataset", metavar="NAME", help="The entry of --dataset-info to use."),
        click.option("--as", "speaker", metavar="NAME", help="Script input: the speaker the assistant plays."),
        click.option("--repair", "greeting", flag_value="fold-into-system", default=None, help="Repair role order (same as --greeting fold-into-system)."),
        click.option("--greeting", "greeting", type=click.Choice(GREETING_POLICIES), help="Repair role order; what to do with an assistant-first greeting."),
        click.option("--opener", default="Hello.", show_default=True, help="The user turn --greeting insert-user puts before a greeting."),
        click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True, help="Stop at the first bad record, or reject it and go on."),
        click.option("--rejects", type=click.Path(dir_okay=False), help="Where rejected records go with their reason (default with --on-error skip: OUT.rejects.jsonl)."),
        click.option("--expand-placeholders", is_flag=True, help="Write {{char}}/<BOT> as the character's name (its persona's, or the assistant's speaker name) and {{user}}/<USER> as --user-name."),
        click.option("--user-name", default="User", show_default=True, help="The name --expand-placeholders gives {{user}}."),
        click.option("--resume", is_flag=True, help="Go on from where the same command, killed or interrupted, stopped (output to a file only)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def model_options(fn):
    """The options of steps that ask a language model (through litellm)."""
    options = [
        click.option("--model", metavar="MODEL", help="litellm model string for model steps: openai/gpt-4o-mini, anthropic/..., openai/NAME with --api-base for a local server."),
        click.option("--api-base", metavar="URL", help="An OpenAI-compatible server (vLLM, llama.cpp, Ollama): http://127.0.0.1:8000/v1."),
        click.option("--api-key-env", metavar="NAME", help="Environment variable that holds the API key (default: the one litellm looks for)."),
        click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True, help="Requests in flight at once."),
        click.option("--timeout", type=click.FloatRange(0.1), default=120.0, show_default=True, help="Seconds before a request is given up and retried."),
        click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True, help="Retries of a request after 429, 5xx, a timeout or an unreadable answer."),
        click.option("--temperature", type=click.FloatRange(0.0, 2.0), default=0.8, show_default=True),
        click.option("--max-tokens", type=click.IntRange(16), default=1024, show_default=True, help="Longest answer asked for."),
        click.option("--max-cost", type=click.FloatRange(0.0), metavar="USD", help="Stop asking before the run could spend more than this."),
        click.option("--price-in", type=click.FloatRange(0.0), metavar="USD", help="Price per million prompt tokens (for models litellm has no price for)."),
        click.option("--price-out", type=click.FloatRange(0.0), metavar="USD", help="Price per million completion tokens."),
        click.option("--cache-dir", type=click.Path(file_okay=False), help="Answer cache (default: ~/.cache/augment/llm, or $AUGMENT_CACHE/llm)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the answer cache."),
        click.option("--dry-run", is_flag=True, help="Say how many requests and tokens the run needs; ask nothing, write nothing."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _dataset_info(dataset_info: str | None, dataset: str | None) -> tuple[str, str] | None:
    if (dataset_info is None) != (dataset is None):
        raise click.UsageError("--dataset-info and --dataset go together")
    return (dataset_info, dataset) if dataset_info else None


@contextlib.contextmanager
def _progress(path: str, quiet: bool) -> Iterator[Any]:
    size = input_size(path)
    if quiet or size is None or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, file=sys.stderr, label=os.path.basename(path)) as bar:
        yield bar.update


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except StopRun as exc:
        raise click.ClickException(
            f"{exc.location}: {exc.reason}\n(stopped at the first bad record; --on-error skip rejects bad records and goes on)"
        ) from None
    except AugmentError as exc:
        raise click.ClickException(str(exc)) from None
    except Interrupted as exc:
        hint = "; run the same command with --resume to go on from the last checkpoint" if exc.resumable else ""
        click.echo(f"interrupted: nothing was written{hint}", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)


def _reporter():
    shown = [0]

    def report(line: str) -> None:
        shown[0] += 1
        if shown[0] <= MAX_ECHOED:
            click.echo(line, err=True)
        elif shown[0] == MAX_ECHOED + 1:
            click.echo("... more rejects not shown; see the rejects file", err=True)

    return report


class Interrupted(Exception):
    def __init__(self, resumable: bool) -> None:
        self.resumable = resumable


def _execute(run: Run, quiet: bool) -> Summary:
    with _progress(run.input_path, quiet) as update:
        run.progress = update
        try:
            summary = run.execute()
        except KeyboardInterrupt:
            raise Interrupted(run.summary.resumable) from None
    return summary


def _finish(summary: Summary, output: str | None, quiet: bool, info: dict[str, Any] | None = None) -> None:
    """After a run: the dataset_info.json entry and the dataset card beside
    the output, then the summary."""
    if output not in (None, STDIO) and summary.output_format is not None:
        entry = None
        try:
            info_path, entry = write_dataset_info(output, summary.output_format)
        except Unrepresentable as exc:
            click.echo(f"wrote {output} ({exc}: no dataset_info.json entry)", err=True)
        else:
            if not quiet:
                click.echo(f"wrote {output} and its entry in {info_path}", err=True)
        if info is not None:
            card = write_card(output, summary, {**info, "format": summary.output_format.name}, entry)
            if not quiet:
                click.echo(f"dataset card: {card}", err=True)
    if not quiet:
        for line in summary.lines():
            click.echo(line, err=True)


def _card_info(input: str) -> dict[str, Any]:
    return {"input": input, "command": shlex.join(["augment", *sys.argv[1:]])}


def _new_run(input: str, output: str | None, job: RecordJob, on_error: str, rejects: str | None, report, resume: bool = False, always_rejects: bool = False) -> Run:
    """A run whose rejects go to the file the user named, or by default (with
    --on-error skip, or filters) to OUT.rejects.jsonl, an old one of which is removed."""
    path = rejects
    if path is None and (on_error == "skip" or always_rejects):
        path = default_rejects(output)
        if not resume:
            remove_stale(path)
    run = Run(input, output, job, on_error, path, report, rejects_named=rejects is not None)
    run.fingerprint = fingerprint(sys.argv[1:], input)
    run.resume = resume
    return run


def _output_format(reg: Registry, to: str | None, fixed):
    if to is not None:
        fmt = reg.format(to)
    else:
        fmt = fixed
    if fmt is not None and not fmt.writable:
        raise AugmentError(f"{fmt.name} is an input-only format: add --to (one of {', '.join(_writable(reg))})")
    return fmt


def _writable(reg: Registry) -> list[str]:
    return sorted(name for name, fmt in reg.formats.items() if fmt.writable)


# -- commands -----------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="augment")
def main() -> None:
    """Grow a role-play conversation corpus for fine-tuning.

    Convert between Alpaca, ShareGPT and OpenAI messages; validate and repair
    role order; run chains of augmenters. Progress and summaries go to stderr,
    records to the output (stdout with -o -).
    """


@main.command()
@click.argument("input", metavar="IN")
@click.option("--to", metavar="FORMAT", help="Output format (default: the input's).")
@click.option("-o", "--output", default=STDIO, show_default=True, help="Output file (.json: one array, otherwise JSON Lines); - for stdout.")
@input_options
def convert(input, to, output, from_, dataset_info, dataset, speaker, greeting, opener, on_error, rejects, expand_placeholders, user_name, resume, quiet):
    """Convert IN (a file, or - for stdin) to another format, losing nothing.

    What the target format cannot hold is refused per record, with the reason.
    A dataset_info.json entry for LLaMA-Factory is written beside the output.
    """
    with _user_errors():
        reg = _registry()
        fixed = input_format(reg, input, from_, _dataset_info(dataset_info, dataset), speaker)
        out_fmt = _output_format(reg, to, fixed)
        job = RecordJob(list(reg.formats.values()), fixed, out_fmt, greeting=greeting, opener=opener)
        _placeholders(job, expand_placeholders, user_name, None)
        run = _new_run(input, output, job, on_error, rejects, _reporter(), resume)
        _finish(_execute(run, quiet), output, quiet, _card_info(input))


@main.command()
@click.argument("input", metavar="IN")
@click.option("-o", "--output", help="With --repair/--greeting: write the repaired records here.")
@input_options
def validate(input, output, from_, dataset_info, dataset, speaker, greeting, opener, on_error, rejects, expand_placeholders, user_name, resume, quiet):
    """Check IN against the rules trainers enforce.

    Role alternation, message count, empty turns, unknown roles: every problem
    is printed as file:line: why, then a summary. Exits 1 when any record is
    invalid. With --repair or --greeting, the fixable defects are repaired
    first (and written with -o).
    """
    if output is not None and greeting is None:
        raise click.UsageError("-o writes repaired records: add --repair or --greeting")
    with _user_errors():
        reg = _registry()
        fixed = input_format(reg, input, from_, _dataset_info(dataset_info, dataset), speaker)
        out_fmt = _output_format(reg, None, fixed) if output is not None else None
        job = RecordJob(list(reg.formats.values()), fixed, out_fmt, greeting=greeting, opener=opener, check=True, write=output is not None)
        run = _new_run(input, output, job, "skip", rejects, report=click.echo)
        run.on_problems = lambda result: [click.echo(f"{result.location}: {p}") for p in result.problems]
        summary = run.execute()
        _finish(summary, output, True)
        verb = "repaired and checked" if greeting else "checked"
        click.echo(
            f"{verb} {summary.read} records: {summary.read - summary.invalid} valid, "
            f"{summary.invalid} invalid" + (f", {summary.repaired} repaired" if greeting else ""),
            err=True,
        )
        if summary.invalid:
            sys.exit(1)


# -- run and filter: chained steps, one per augmenter or filter ------------------------


@main.group(cls=StepGroup, chain=True, invoke_without_command=True, subcommand_metavar="STEP [OPTIONS] [STEP [OPTIONS]]...")
@click.argument("input", metavar="IN")
@click.option("-o", "--output", required=True, help="Output file (.json: one array, otherwise JSON Lines); - for stdout.")
@click.option("--to", metavar="FORMAT", help="Output format (default: the input's).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same input and seed, same output.")
@click.option("--originals/--no-originals", default=True, show_default=True, help="Write each source conversation as well as its variants.")
@click.option("--batch-size", type=click.IntRange(1), help="Records worked on at once; --resume restarts from the last whole batch (default: what the steps prefer, 64 or 256).")
@click.option("--workers", type=click.IntRange(1), default=default_workers, show_default="the number of cores", help="Processes for the augmenters; the output is the same for any number.")
@model_options
@click.option("--personas", "personas_dir", type=click.Path(file_okay=False), help="Personas folder (default: $AUGMENT_PERSONAS or ./personas); a record's persona name is protected.")
@click.option("--protect", multiple=True, metavar="WORD", help="A name or word no step may change (repeatable).")
@click.option("--protect-regex", multiple=True, metavar="REGEX", help="A pattern no step may change (repeatable).")
@input_options
def run(**_):
    """Run a chain of augmenters over IN and write the results to -o.

    Each STEP is an augmenter (see 'augment augmenters') or a filter (see
    'augment filters'); 'augment run STEP --help' shows its options. Filters
    apply to what the chain is about to write, in order. Steps compose: each one makes --variants new
    conversations from every conversation the step before it produced. Every
    output record carries provenance: source, seed and the chain with options.
    """


@run.result_callback()
def _run_chain(steps, **o):
    augmenting = [s for s in steps if isinstance(s, Step)]
    filters = [s for s in steps if isinstance(s, Filter)]
    if not augmenting:
        raise click.UsageError("name at least one augmenter STEP (see 'augment augmenters'); to only filter, use 'augment filter'")
    try:
        protector = Protector(o["protect"], o["protect_regex"])
    except re.error as exc:
        raise click.BadParameter(str(exc), param_hint="--protect-regex") from None
    with _user_errors():
        known = load_personas(o["personas_dir"])
        engine = Engine(augmenting, o["seed"], o["originals"], protector, known)
        workers = o["workers"]
        client = _model_client(augmenting, o, known)
        if client is not None:
            engine.model = client.settings.describe()
            workers = 1  # model steps wait on the network: threads (--concurrency), not processes
            if o["dry_run"]:
                _dry_run(engine, o)
                return
        _chain(o, engine, filters, workers)
        if client is not None and not o["quiet"]:
            for line in client.usage.lines(client.settings.model):
                click.echo(line, err=True)


def _model_client(steps: list[Step], o: dict[str, Any], personas) -> LLMClient | None:
    needing = [s.name for s in steps if getattr(s.augmenter, "needs_model", False)]
    if not needing:
        if o["model"]:
            raise click.UsageError("--model is given but no step asks a model")
        return None
    if not o["model"]:
        raise click.UsageError(f"{', '.join(needing)} need(s) a model: add --model MODEL (any litellm model string; openai/NAME with --api-base for a local server)")
    cache = None if o["no_cache"] else Path(o["cache_dir"]) if o["cache_dir"] else cache_root()
    settings = ModelSettings(
        o["model"], o["api_base"], o["api_key_env"], o["concurrency"], o["timeout"], o["retries"],
        o["temperature"], o["max_tokens"], cache, o["max_cost"], o["price_in"], o["price_out"],
    )
    client = LLMClient(settings)
    for step in steps:
        if getattr(step.augmenter, "needs_model", False):
            step.augmenter.use(client, personas)
    return client


def _dry_run(engine: Engine, o: dict[str, Any]) -> None:
    """How many requests and roughly how many tokens the run needs; nothing is asked or written."""
    reg = _registry()
    fixed = input_format(reg, o["input"], o["from_"], _dataset_info(o["dataset_info"], o["dataset"]), o["speaker"])
    job = RecordJob(list(reg.formats.values()), fixed, None, None, o["greeting"], o["opener"], write=False)
    estimate = engine.estimate(job.decoded(o["input"]))
    settings = next(s.augmenter.client.settings for s in engine.steps if getattr(s.augmenter, "client", None))
    click.echo(f"dry run: {estimate['records']} record(s), {estimate['requests']} request(s) to {settings.model} at least (more if answers are retried)")
    click.echo(f"  about {estimate['prompt_tokens']} prompt tokens, and up to {estimate['requests'] * settings.max_tokens} completion tokens (--max-tokens {settings.max_tokens})")
    client = LLMClient(settings)
    prices = client._prices()
    if prices is None:
        click.echo(f"  cost: unknown (no price for {settings.model}: give --price-in/--price-out)")
    else:
        low = estimate["prompt_tokens"] * prices[0]
        high = low + estimate["requests"] * settings.max_tokens * prices[1]
        click.echo(f"  cost: between ${low:.4f} and ${high:.4f}")


@main.group(cls=FilterGroup, chain=True, invoke_without_command=True, subcommand_metavar="FILTER [OPTIONS] [FILTER [OPTIONS]]...")
@click.argument("input", metavar="IN")
@click.option("-o", "--output", required=True, help="Output file (.json: one array, otherwise JSON Lines); - for stdout.")
@click.option("--to", metavar="FORMAT", help="Output format (default: the input's).")
@input_options
def filter(**_):
    """Run filters over IN and write what they keep to -o.

    Each FILTER (see 'augment filters') looks at every record in order; a
    dropped record goes to the rejects file with the filter and the reason.
    """


@filter.result_callback()
def _filter_chain(filters, **o):
    if not filters:
        raise click.UsageError("name at least one FILTER (see 'augment filters')")
    _chain(o, None, list(filters), 1)


def _placeholders(job: RecordJob, expand: bool, user_name: str, personas_dir: str | None) -> None:
    if expand:
        job.expand, job.user_name, job.personas = True, user_name, load_personas(personas_dir)


def _chain(o: dict[str, Any], engine: Engine | None, filters: list[Filter], workers: int) -> None:
    with _user_errors():
        reg = _registry()
        fixed = input_format(reg, o["input"], o["from_"], _dataset_info(o["dataset_info"], o["dataset"]), o["speaker"])
        out_fmt = _output_format(reg, o["to"], fixed)
        job = RecordJob(list(reg.formats.values()), fixed, out_fmt, engine, o["greeting"], o["opener"])
        _placeholders(job, o["expand_placeholders"], o["user_name"], o.get("personas_dir"))
        run = _new_run(o["input"], o["output"], job, o["on_error"], o["rejects"], _reporter(), o["resume"], bool(filters))
        run.filters = filters
        run.workers = workers
        if o.get("batch_size"):
            run.batch_size = o["batch_size"]
        elif engine is not None:
            run.batch_size = max(step.augmenter.batch_size for step in engine.steps)
        info = _card_info(o["input"])
        if engine is not None:
            info.update(seed=engine.seed, chain=[step.describe() for step in engine.steps], model=engine.model)
        info["filters"] = [{"name": f.name, "options": dict(f.values)} for f in filters]
        _finish(_execute(run, o["quiet"]), o["output"], o["quiet"], info)


# -- listing what plugins provide ----------------------------------------------------


@main.command()
def plugins():
    """The loaded plugins as JSON: name, version, hooks, what each registered."""
    reg = registry()
    click.echo(json.dumps([p.as_json() for p in reg.plugins], indent=2))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def formats(as_json):
    """The formats: names, one-line summaries, options."""
    reg = _registry()
    rows = [
        {
            "name": fmt.name,
            "summary": fmt.summary,
            "read": True,
            "write": fmt.writable,
            "options": dict(fmt.options),
        }
        for fmt in sorted(reg.formats.values(), key=lambda f: f.name)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mode = "read/write" if row["write"] else "read only"
        click.echo(f"{row['name']:<12} {row['summary']} [{mode}]")
        for name, help_text in row["options"].items():
            click.echo(f"{'':<12}   option {name}: {help_text}")


def _options_json(cls) -> list[dict[str, Any]]:
    return [
        {"flag": o.flag, "type": getattr(o.type, "__name__", str(o.type)), "default": o.default, "help": o.help}
        for o in cls.options
    ]


def _print_options(rows: list[dict[str, Any]], describe) -> None:
    for row in rows:
        click.echo(f"{row['name']:<16} {row['summary']}{describe(row)}")
        for o in row["options"]:
            click.echo(f"{'':<16}   {o['flag']} {o['type'].upper()} (default {o['default']}): {o['help']}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def augmenters(as_json):
    """The augmenters: names, one-line summaries, options."""
    reg = _registry()
    rows = [
        {
            "name": name,
            "summary": cls.summary,
            "roles": list(cls.roles),
            "languages": None if cls.languages is None else sorted(cls.languages),
            "options": _options_json(cls),
        }
        for name, cls in sorted(reg.augmenters.items())
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_options(
        rows,
        lambda row: f" (roles: {', '.join(row['roles'])}; {'any language' if row['languages'] is None else ', '.join(row['languages'])})",
    )


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def filters(as_json):
    """The filters: names, one-line summaries, options."""
    reg = _registry()
    rows = [{"name": name, "summary": cls.summary, "options": _options_json(cls)} for name, cls in sorted(reg.filters.items())]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_options(rows, lambda row: "")


main.add_command(personas_group)


# -- looking at a corpus ----------------------------------------------------------------


def _stats_of(reg: Registry, path: str, from_: str | None) -> Stats:
    fixed = input_format(reg, path, from_, None, None)
    job = RecordJob(list(reg.formats.values()), fixed, None, write=False)
    stats = Stats(path)
    for conv in job.decoded(path):
        stats.add(conv)
    rejects = rejects_beside(path)
    if rejects is not None:
        stats.add_rejects(r for r in (json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines() if line.strip()))
    return stats


@main.command()
@click.argument("input", metavar="IN")
@click.option("--val", type=click.FloatRange(0.0, 0.9), default=0.1, show_default=True, help="Share of sources for validation.")
@click.option("--test", type=click.FloatRange(0.0, 0.9), default=0.0, show_default=True, help="Share of sources for test.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--prefix", help="Output prefix (default: IN without its suffix): PREFIX.train.jsonl, PREFIX.val.jsonl, PREFIX.test.jsonl.")
@click.option("--from", "from_", metavar="FORMAT", help="Input format (default: detected per record).")
def split(input, val, test, seed, prefix, from_):
    """Split IN into train / validation (/ test) files without leakage: every
    variant of a source lands on the same side as its source."""
    from .split import split_file

    if val + test >= 1:
        raise click.BadParameter("--val and --test must leave something for train")
    with _user_errors():
        reg = _registry()
        fixed = input_format(reg, input, from_, None, None)
        suffix = ".json" if input.endswith(".json") else ".jsonl"
        stem = prefix or (input[: -len(suffix)] if input.endswith(suffix) else input)

        def decode(record):
            return (fixed or detect(reg.formats.values(), record)).decode(record)

        sides = split_file(lambda: read_raw(input, fixed), decode, stem, suffix, {"val": val, "test": test}, seed)
        unreadable = sides.pop("unreadable")["records"]
        for side in sides.values():
            click.echo(f"wrote {side['path']}: {side['records']} records from {side['sources']} sources", err=True)
        if unreadable:
            click.echo(f"left out {unreadable} record(s) that cannot be read (see 'augment validate')", err=True)


@main.command()
@click.argument("file", metavar="FILE")
@click.option("--compare", metavar="SOURCE", help="The corpus FILE was made from: its figures side by side.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write a self-contained HTML report with charts.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--from", "from_", metavar="FORMAT", help="Input format (default: detected per record).")
def stats(file, compare, html_path, as_json, from_):
    """Statistics of a corpus: conversations, turns, lengths by role, languages,
    duplicates, lexical diversity (distinct-1/2); for an augmented file the yield
    per chain and the reasons in its rejects file."""
    with _user_errors():
        reg = _registry()
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


if __name__ == "__main__":  # pragma: no cover
    main()
