"""``augment personas``: list, show, import and export characters."""

from __future__ import annotations

import json
from pathlib import Path

import click

from augment.corpus import personas as persona_store
from augment.errors import AugmentError
from augment.plugins import registry
from augment.dataio.streams import AtomicFile, write_json_atomic

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


def _find(folder, key):
    try:
        return persona_store.find(_load(folder), key)
    except AugmentError as exc:
        raise click.ClickException(str(exc)) from None


@personas_group.command()
@click.argument("persona")
@DIR_OPTION
def show(persona, folder):
    """A persona's character card as JSON, as stored (by id or name; when
    two personas share a name, by id)."""
    click.echo(json.dumps(_find(folder, persona).card(), indent=2, ensure_ascii=False))


@personas_group.command()
@click.argument("persona")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The card file to write: FILE.json, or FILE.png (the card embedded in the persona's picture).")
@DIR_OPTION
def export(persona, output, folder):
    """Write a persona as a character card that SillyTavern imports.

    The card is spec-valid: chara_card_v2 (or chara_card_v3 when the persona
    was a v3 card) with every required field, missing ones given their
    defaults; every other field is kept. A PNG embeds the card in the
    persona's picture (the PNG beside its file, kept there by `import`), or
    in a plain placeholder picture when it has none.
    """
    found = _find(folder, persona)
    path = Path(output)
    suffix = path.suffix.lower()
    importers = registry().persona_importers.values()
    exporters = [imp for imp in importers if suffix in getattr(imp, "exports", ())]
    if not exporters:
        known = sorted({s for imp in importers for s in getattr(imp, "exports", ())})
        raise click.ClickException(f"{output}: cannot write {suffix or 'files without a suffix'} (persona exports: {', '.join(known) or 'none'})")
    image = found.image.read_bytes() if found.image is not None else None
    try:
        data = exporters[0].export(found.spec_card(), image)
    except AugmentError as exc:
        raise click.ClickException(f"{output}: {exc}") from None
    with AtomicFile(path) as fh:
        fh.write(data)
    picture = "" if suffix != ".png" else f" in {found.image}" if image is not None else " in a placeholder picture"
    click.echo(f"exported {found.name!r} ({found.id}) as {found.spec_card()['spec']}{picture} to {output}", err=True)


@personas_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@DIR_OPTION
@click.option("--id", "persona_id", help="Id (file name) for the persona (default: from its name).")
@click.option("--force", is_flag=True, help="Replace a persona with the same id.")
def import_(file, folder, persona_id, force):
    """Import a character card (JSON, or PNG with the card embedded) into the personas folder.

    Every field of the card is kept, known or not. A v1 card (flat fields) is
    stored as a chara_card_v2 card with the missing v2 fields filled in. A
    PNG's picture is kept beside the card as ID.png, for `export`.
    """
    path = Path(file)
    head = path.read_bytes()[:64]
    importers = registry().persona_importers
    importer = next((imp for imp in importers.values() if imp.can_read(path, head)), None)
    if importer is None:
        raise click.ClickException(f"{file}: no persona importer reads this file (importers: {', '.join(sorted(importers))})")
    try:
        persona = persona_store.import_card(importer.read(path), persona_id, str(path))
        image = importer.image(path) if hasattr(importer, "image") else None
    except AugmentError as exc:
        raise click.ClickException(f"{file}: {exc}" if not str(exc).startswith(str(file)) else str(exc)) from None
    target = persona_store.folder(folder) / f"{persona.id}.json"
    replacing = target.exists()
    if replacing and not force:
        raise click.ClickException(f"{target} exists (use --force to replace it, or --id to name it differently)")
    picture = target.with_suffix(persona_store.IMAGE_SUFFIX)
    write_json_atomic(target, persona.card())
    if image is not None:
        with AtomicFile(picture) as fh:
            fh.write(image)
    elif replacing and picture.exists():  # --force: the old picture went with the card replaced
        picture.unlink()
    kept = f" (picture: {picture})" if image is not None else ""
    click.echo(f"imported {persona.name!r} from {file} ({importer.name}) as {target}{kept}", err=True)
