"""``augment generate``: conversations rendered from a template, or written by
a model from text passages (``--from-text``), through the usual run."""

from __future__ import annotations

import dataclasses
import os
import sys

import click
from click.core import ParameterSource

from augment.cli.commands import finish
from augment.cli.options import (
    SectionedCommand, error_options, execute, judge_settings, label_of, model_options, model_settings, option, registry, reporter, safety_options,
    user_errors,
)
from augment.dataio.validation import GREETING_POLICIES
from augment.errors import CommandLineError

#: The summary note for renderings left out as duplicates.
DUPLICATES = "template: duplicate rendering(s) left out"
#: What --from-text reads: the format that cuts text into passages, and the step that writes from them.
PASSAGES, FROM_PASSAGE = "passages", "from-passage"
TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".text")
#: Options of one mode only: (key, flag).
TEMPLATE_ONLY = (("n", "--n"), ("vars_path", "--vars"), ("enumerate_", "--enumerate"), ("speaker", "--as"), ("renders", "--from"),
                 ("greeting", "--repair/--greeting"), ("opener", "--opener"), ("workers", "--workers"))
TEXT_ONLY = (("persona", "--persona"), ("per_passage", "--per-passage"), ("chunk_chars", "--chunk-chars"), ("min_grounding", "--min-grounding"),
             ("turns", "--turns"), ("personas_dir", "--personas"), ("model", "--model"), ("dry_run", "--dry-run"))


@click.command(cls=SectionedCommand)
@click.argument("template", metavar="[TEMPLATE]", required=False)
@option("--n", "n", type=click.IntRange(1), metavar="N", section="Template", help="Records to render (with --enumerate: at most N).")
@option("--seed", type=int, default=0, show_default=True, section="Template", help="Same template (or text), vars and seed: same output, byte for byte.")
@option("--vars", "vars_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE.yaml", section="Template", help="Slots and lists (default: the template's '{# vars: FILE #}' line, if any).")
@option("--enumerate", "enumerate_", is_flag=True, section="Template", help="Render every combination of the slots instead of drawing them.")
@option("--as", "speaker", metavar="NAME", section="Template", help="A script template: the speaker the assistant plays (default: its '{# as: NAME #}' line).")
@option("--from", "renders", metavar="FORMAT", section="Template", help="What the template renders: script, json, or a JSON format (default: its '{# format: ... #}' line, else JSON when the text starts with '{', else script).")
@option("--from-text", "from_text", type=click.Path(exists=True), metavar="FILE_OR_FOLDER", section="Text", help="Instead of a template: a text or Markdown file (or a folder or glob of .md/.txt files, in sorted order) cut into passages, each the seed of --per-passage conversations written by --model.")
@option("--persona", metavar="NAME", section="Text", help="The character who speaks from the passages: a persona's id or name (see --personas).")
@option("--per-passage", "per_passage", type=click.IntRange(1, 50), default=3, show_default=True, section="Text", help="Conversations asked for per passage (each from another angle).")
@option("--turns", type=click.IntRange(2, 20), default=4, show_default=True, section="Text", help="Turns per conversation, the user first (an even number).")
@option("--chunk-chars", "chunk_chars", type=click.IntRange(200, 100_000), default=1500, show_default=True, section="Text", help="Longest passage in characters: sections (at headings) are cut at paragraphs, a longer paragraph at sentence ends.")
@option("--min-grounding", "min_grounding", type=click.FloatRange(0.0, 1.0), default=0.3, show_default=True, section="Text", help="Least share of the character's content words (Chinese: character pairs; actions and names aside) that must be found in the passage; a lower one is sent back to the model.")
@option("--personas", "personas_dir", type=click.Path(file_okay=False), section="Text", help="Personas folder (default: $AUGMENT_PERSONAS or ./personas).")
@option("--to", metavar="FORMAT", section="Output", help="Output format (default: the JSON format rendered, else sharegpt).")
@option("-o", "--output", required=True, section="Output", help="Output file (.json: one array, otherwise JSON Lines); - for stdout.")
@option("--filter", "filters", multiple=True, metavar="NAME", section="Output", help="A filter (see 'augment filters') with its default options, after the safety gate; repeatable.")
@option("--repair", "greeting", flag_value="fold-into-system", default=None, section="Output", help="Repair role order (same as --greeting fold-into-system).")
@option("--greeting", "greeting", type=click.Choice(GREETING_POLICIES), section="Output", help="Repair role order; what to do with an assistant-first greeting.")
@option("--opener", default="Hello.", show_default=True, section="Output", help="The user turn --greeting insert-user puts before a greeting.")
@option("--workers", type=click.IntRange(1), default=1, show_default=True, section="Output", help="Processes decoding and checking records; the output is the same for any number.")
@model_options
@error_options
@safety_options
@option("-q", "--quiet", is_flag=True, section="Errors", help="No per-record lines and no summary.")
def generate(**o):
    """Render TEMPLATE (Jinja2) into conversations, or have a model write them
    from text (--from-text), and write them to -o.

    The template renders one conversation per record: a script ('Name: line'
    lines, a first 'System: ...' line for the system prompt) or one JSON record
    of any format. It runs sandboxed: it sees the vars file's slots (one value
    per record) and lists, a seeded Faker as fake (fake_zh, fake_ja ... for
    other locales), pick(list), sample(list, k), weighted(mapping) and record
    (the record's number), and nothing else: no attributes outside those, no
    files. Duplicates are left out and counted; every record's provenance names
    the template (file and sha256), the seed, the record and its slot values.

    With --from-text FILE_OR_FOLDER --persona NAME --model MODEL, the text is
    cut into passages and each becomes --per-passage conversations in which
    the persona speaks from what the passage says. Every answer is checked for
    grounding (--min-grounding), language (the passage's), out-of-character
    text and word-for-word recitation, and sent back with the reason when it
    fails. Each record's provenance names the passage (file, line, character
    offset and length), the user's angle and the grounding score.
    """
    with user_errors():
        _check_mode(o)
        if o["from_text"]:
            _from_text(o)
        else:
            _from_template(o)


def _given(key: str) -> bool:
    """The option was on the command line (or in the environment), not left at its default."""
    source = click.get_current_context().get_parameter_source(key)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def _check_mode(o: dict) -> None:
    if o["template"] and o["from_text"]:
        raise CommandLineError("give a TEMPLATE or --from-text, not both")
    if not o["template"] and not o["from_text"]:
        raise CommandLineError("give a TEMPLATE to render, or --from-text FILE_OR_FOLDER (with --persona and --model)")
    mode, other, others = ("--from-text", "a TEMPLATE", TEMPLATE_ONLY) if o["from_text"] else ("a TEMPLATE", "--from-text", TEXT_ONLY)
    wrong = [flag for key, flag in others if _given(key)]
    if wrong:
        raise CommandLineError(f"{' and '.join(wrong)} {'go' if len(wrong) > 1 else 'goes'} with {other}, not with {mode}")


def _from_template(o: dict) -> None:
    from augment.corpus.generate import TEMPLATE, TemplateFormat
    from augment.dataio.reading import Source
    from augment.engine.plan import prepare
    from augment.spec import FilterSpec, RunSpec

    reg = registry()
    template = TemplateFormat(
        o["template"], reg.formats, n=o["n"], seed=o["seed"], enumerate=o["enumerate_"], speaker=o["speaker"],
        renders=o["renders"], vars_path=o["vars_path"],
    )
    rendered = template.renders if template.renders in reg.formats and reg.formats[template.renders].writable else None
    spec = RunSpec(
        Source(o["template"], TEMPLATE), o["output"], o["to"] or rendered or "sharegpt", o["greeting"], o["opener"],
        filters=[FilterSpec(name) for name in o["filters"]], safety=not o["no_safety"], judge=judge_settings(o), seed=o["seed"],
        workers=o["workers"], on_error=o["on_error"], rejects=o["rejects"], command=tuple(sys.argv[1:]),
    )
    run = prepare(spec, dataclasses.replace(reg, formats={**reg.formats, TEMPLATE: template}))
    run.report = reporter(o["quiet"])
    execute(run, label_of(o["template"]), o["quiet"])
    if template.duplicates:
        run.summary.notes[DUPLICATES] = template.duplicates
    finish(spec, run, o["quiet"])


def _from_text(o: dict) -> None:
    from augment.dataio.reading import Source, input_files
    from augment.engine.plan import prepare
    from augment.spec import FilterSpec, RunSpec, StepSpec

    if not o["model"]:
        raise CommandLineError("--from-text has a model write the conversations: add --model MODEL (openai/NAME with --api-base for a local server)")
    if not o["persona"]:
        raise CommandLineError("--from-text needs the character who speaks: add --persona NAME (a persona of the personas folder; see 'augment personas list')")
    if o["turns"] % 2:
        raise CommandLineError(f"--turns must be even (the user asks first, the character answers last), got {o['turns']}")
    path = o["from_text"]
    if not os.path.isfile(path):
        others = [f for f in input_files(path) if not f.lower().endswith(TEXT_SUFFIXES)]
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            raise CommandLineError(f"--from-text {path}: reads text and Markdown files ({', '.join(TEXT_SUFFIXES)}), and these are not: {shown}; name the files with a glob")
    reg = registry()
    values = {"persona": o["persona"], "turns": o["turns"], "min_grounding": o["min_grounding"]}
    spec = RunSpec(
        Source(path, PASSAGES, options={"chunk_chars": o["chunk_chars"]}), o["output"], o["to"] or "sharegpt",
        steps=[StepSpec(FROM_PASSAGE, values, variants=o["per_passage"])], originals=False,
        filters=[FilterSpec(name) for name in o["filters"]], safety=not o["no_safety"], judge=judge_settings(o), model=model_settings(o),
        seed=o["seed"], on_error=o["on_error"], rejects=o["rejects"], personas_dir=o["personas_dir"], command=tuple(sys.argv[1:]),
    )
    run = prepare(spec, reg)
    if o["dry_run"]:
        from augment.cli.chains import _dry_run

        _dry_run(run)
        return
    run.report = reporter(o["quiet"])
    execute(run, label_of(path), o["quiet"])
    finish(spec, run, o["quiet"])
    if not o["quiet"]:
        for line in run.client.usage.lines(run.client.settings.model):
            click.echo(line, err=True)
