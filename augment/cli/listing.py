"""Listing what the plugins provide: ``augment plugins|formats|augmenters|filters``."""

from __future__ import annotations

import json
from typing import Any

import click

from augment.cli.options import registry
from augment.plugins import registry as load_registry

@click.command()
def plugins():
    """The loaded plugins as JSON: name, version, hooks, what each registered."""
    reg = load_registry(fresh=True)  # every plugin imported again, the manifest rewritten
    click.echo(json.dumps([p.as_json() for p in reg.plugins], indent=2))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def formats(as_json):
    """The formats: names, one-line summaries, options."""
    reg = registry()
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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def augmenters(as_json):
    """The augmenters: names, one-line summaries, options."""
    reg = registry()
    rows = [
        {
            "name": name,
            "summary": cls.summary,
            "roles": list(cls.roles),
            "languages": None if cls.languages is None else sorted(cls.languages),
            "languages_note": cls.describe_languages(),
            "options": _options_json(cls),
        }
        for name, cls in sorted(reg.augmenters.items())
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_options(
        rows,
        lambda row: f" (roles: {', '.join(row['roles'])}; {row['languages_note']})",
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def filters(as_json):
    """The filters: names, one-line summaries, options."""
    reg = registry()
    rows = [{"name": name, "summary": cls.summary, "options": _options_json(cls)} for name, cls in sorted(reg.filters.items())]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_options(rows, lambda row: "")
