"""``augment personas``: list, show and import characters."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import personas as persona_store
from .errors import AugmentError
from .plugins import registry
from .streams import write_json_atomic

DIR_OPTION = click.option(
    "--dir", "folder", type=click.Path(file_okay=False), default=None,
    help="The personas folder (default: $AUGMENT_PERSONAS or ./personas).",
)


def _load(folder):
    try:
        return persona_store.load_all(folder)
    except AugmentError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("personas")
def personas_group() -> None:
    """Characters in the personas folder: character cards (JSON) and YAML."""


@personas_group.command("list")
@DIR_OPTION
def list_(folder):
    """Id, name, file and tags of every persona."""
    found = _load(folder)
    if not found:
        click.echo(f"no personas in {persona_store.folder(folder)}", err=True)
    for persona in found.values():
        tags = ", ".join(str(t) for t in persona.data.get("tags") or [])
        click.echo(f"{persona.id:<16} {persona.name:<20} {persona.source}" + (f"  [{tags}]" if tags else ""))


@personas_group.command()
@click.argument("persona")
@DIR_OPTION
def show(persona, folder):
    """A persona's character card as JSON (by id or name)."""
    try:
        found = persona_store.find(_load(folder), persona)
    except AugmentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(found.card(), indent=2, ensure_ascii=False))


@personas_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@DIR_OPTION
@click.option("--id", "persona_id", help="Id (file name) for the persona (default: from its name).")
@click.option("--force", is_flag=True, help="Replace a persona with the same id.")
def import_(file, folder, persona_id, force):
    """Import a character card (JSON, or PNG with the card embedded) into the personas folder.

    Every field of the card is kept, known or not.
    """
    path = Path(file)
    head = path.read_bytes()[:64]
    importers = registry().persona_importers
    importer = next((imp for imp in importers.values() if imp.can_read(path, head)), None)
    if importer is None:
        raise click.ClickException(f"{file}: no persona importer reads this file (importers: {', '.join(sorted(importers))})")
    try:
        persona = persona_store.card_to_persona(importer.read(path), persona_id, str(path))
    except AugmentError as exc:
        raise click.ClickException(f"{file}: {exc}" if not str(exc).startswith(str(file)) else str(exc)) from None
    target = persona_store.folder(folder) / f"{persona.id}.json"
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists (use --force to replace it, or --id to name it differently)")
    write_json_atomic(target, persona.card())
    click.echo(f"imported {persona.name!r} from {file} ({importer.name}) as {target}", err=True)
