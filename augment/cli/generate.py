"""``augment generate``: conversations rendered from a template, through the usual run."""

from __future__ import annotations

import dataclasses
import sys

import click

from augment.cli.commands import finish
from augment.cli.options import SectionedCommand, error_options, execute, judge_settings, label_of, option, registry, reporter, safety_options, user_errors
from augment.corpus.generate import TEMPLATE, TemplateFormat
from augment.dataio.reading import Source
from augment.dataio.validation import GREETING_POLICIES
from augment.engine.plan import prepare
from augment.spec import FilterSpec, RunSpec

#: The summary note for renderings left out as duplicates.
DUPLICATES = "template: duplicate rendering(s) left out"


@click.command(cls=SectionedCommand)
@click.argument("template", metavar="TEMPLATE")
@option("--n", "n", type=click.IntRange(1), metavar="N", section="Template", help="Records to render (with --enumerate: at most N).")
@option("--seed", type=int, default=0, show_default=True, section="Template", help="Same template, vars and seed: same output, byte for byte.")
@option("--vars", "vars_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE.yaml", section="Template", help="Slots and lists (default: the template's '{# vars: FILE #}' line, if any).")
@option("--enumerate", "enumerate_", is_flag=True, section="Template", help="Render every combination of the slots instead of drawing them.")
@option("--as", "speaker", metavar="NAME", section="Template", help="A script template: the speaker the assistant plays (default: its '{# as: NAME #}' line).")
@option("--from", "renders", metavar="FORMAT", section="Template", help="What the template renders: script, json, or a JSON format (default: its '{# format: ... #}' line, else JSON when the text starts with '{', else script).")
@option("--to", metavar="FORMAT", section="Output", help="Output format (default: the JSON format rendered, else sharegpt).")
@option("-o", "--output", required=True, section="Output", help="Output file (.json: one array, otherwise JSON Lines); - for stdout.")
@option("--filter", "filters", multiple=True, metavar="NAME", section="Output", help="A filter (see 'augment filters') with its default options, after the safety gate; repeatable.")
@option("--repair", "greeting", flag_value="fold-into-system", default=None, section="Output", help="Repair role order (same as --greeting fold-into-system).")
@option("--greeting", "greeting", type=click.Choice(GREETING_POLICIES), section="Output", help="Repair role order; what to do with an assistant-first greeting.")
@option("--opener", default="Hello.", show_default=True, section="Output", help="The user turn --greeting insert-user puts before a greeting.")
@option("--workers", type=click.IntRange(1), default=1, show_default=True, section="Output", help="Processes decoding and checking records; the output is the same for any number.")
@error_options
@safety_options
@option("-q", "--quiet", is_flag=True, section="Errors", help="No per-record lines and no summary.")
def generate(**o):
    """Render TEMPLATE (Jinja2) into conversations and write them to -o.

    The template renders one conversation per record: a script ('Name: line'
    lines, a first 'System: ...' line for the system prompt) or one JSON record
    of any format. It runs sandboxed: it sees the vars file's slots (one value
    per record) and lists, a seeded Faker as fake (fake_zh, fake_ja ... for
    other locales), pick(list), sample(list, k), weighted(mapping) and record
    (the record's number), and nothing else: no attributes outside those, no
    files. Duplicates are left out and counted; every record's provenance names
    the template (file and sha256), the seed, the record and its slot values.
    """
    with user_errors():
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
