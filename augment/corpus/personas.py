"""Characters: the persona model, the ``personas/`` folder, and linking records to personas.

A persona is stored as a character card (``chara_card_v2`` or
``chara_card_v3`` JSON, the formats SillyTavern and TavernAI share) or as YAML
written by hand with the same field names. Every field of the card is kept,
known or not, so a card written back is the card that was read. Persona
importers (plugins) turn other files, such as a PNG with an embedded card,
into a card, and may write cards back out (``augment personas export``).

A picture goes with a persona as a PNG of the same name beside its file
(``mira.json`` and ``mira.png``): importing a card PNG keeps its picture
there (without the card chunks), and exporting to PNG embeds the card in it.

What a spec-valid card needs is in :mod:`augment.corpus.card_spec`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from augment.conversation import ASSISTANT, Conversation
from augment.corpus.card_spec import V1_ALIASES, spec_card, spec_data
from augment.errors import AugmentError, UsageError

CARD_FIELDS = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "alternate_greetings",
    "character_book",
    "tags",
    "creator",
    "character_version",
    "extensions",
)
ENV = "AUGMENT_PERSONAS"
SUFFIXES = (".json", ".yaml", ".yml")
#: A persona's picture: a file of this suffix beside the persona file.
IMAGE_SUFFIX = ".png"


@dataclass
class Persona:
    """A character: a card's fields, by the id of its file in the folder."""

    id: str
    #: The card's ``data`` object, every field as read.
    data: dict[str, Any]
    #: Top-level card fields other than ``data`` (``spec``, ``spec_version`` ...).
    envelope: dict[str, Any] = field(default_factory=lambda: {"spec": "chara_card_v2", "spec_version": "2.0"})
    source: str | None = None

    @property
    def name(self) -> str:
        return str(self.data.get("name", self.id))

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return value if isinstance(value, str) else ""

    @property
    def scenarios(self) -> list[str]:
        """Settings this character can be moved to (scene-transfer): a
        ``scenarios`` list in the persona, or ``extensions.augment.scenarios``
        in a card (where other tools keep their own keys)."""
        value = self.data.get("scenarios")
        if value is None:
            value = ((self.data.get("extensions") or {}).get("augment") or {}).get("scenarios")
        return [str(v) for v in value or [] if str(v).strip()]

    def card(self) -> dict[str, Any]:
        """The character card for this persona, exactly as read."""
        return {**self.envelope, "data": self.data}

    def spec_card(self) -> dict[str, Any]:
        """The card made spec-valid (what ``augment personas export`` writes):
        see :func:`spec_card`."""
        return spec_card(self.card())

    @property
    def version(self) -> int:
        """3 for a chara_card_v3 card, else 2."""
        return 3 if self.envelope.get("spec") == "chara_card_v3" else 2

    @property
    def image(self) -> Path | None:
        """The persona's picture: a PNG beside its file with the same name, if any."""
        if not self.source:
            return None
        path = Path(self.source).with_suffix(IMAGE_SUFFIX)
        return path if path.is_file() and Path(self.source).suffix in SUFFIXES else None

    def expand(self, text: str, user: str = "User") -> str:
        """``{{char}}`` and ``{{user}}`` (and ``<BOT>``/``<USER>``) replaced by names."""
        return (
            text.replace("{{char}}", self.name)
            .replace("<BOT>", self.name)
            .replace("{{user}}", user)
            .replace("<USER>", user)
        )

    def facts(self) -> str:
        """The persona as prose for a prompt: name, description, personality, scenario."""
        lines = [f"Name: {self.name}"]
        for key, label in (("description", "Description"), ("personality", "Personality"), ("scenario", "Scenario")):
            if self.text(key).strip():
                lines.append(f"{label}: {self.expand(self.text(key))}")
        return "\n".join(lines)

    def examples(self) -> list[str]:
        """Example dialogues from ``mes_example``, split at ``<START>``."""
        return [block.strip() for block in self.text("mes_example").split("<START>") if block.strip()]


def card_to_persona(card: Any, id: str | None = None, source: str | None = None) -> Persona:
    """A persona from a card: v2 (``{"spec", "data"}``) or v1 (flat fields)."""
    if not isinstance(card, dict):
        raise AugmentError("a character card must be a JSON object")
    if isinstance(card.get("data"), dict):
        data = dict(card["data"])
        envelope = {k: v for k, v in card.items() if k != "data"}
    else:  # v1: the fields at the top level
        data = dict(card)
        envelope = {"spec": "chara_card_v2", "spec_version": "2.0"}
    name = data.get("name") or data.get("char_name")
    if not isinstance(name, str) or not name.strip():
        raise AugmentError("a character card needs a 'name'")
    data["name"] = name.strip()
    return Persona(id or slug(name), data, envelope, source)


def import_card(card: Any, id: str | None = None, source: str | None = None) -> Persona:
    """A persona from a card being imported. A v2 or v3 card is kept exactly
    as it is. A v1 card (flat fields, no ``data``) is wrapped as chara_card_v2
    the way SillyTavern converts one: the Pygmalion spellings (``char_name``,
    ``char_greeting`` ...) become the v1 names, ``creatorcomment`` gives
    ``creator_notes``, and the missing v2 fields get their defaults, so the
    result passes SillyTavern's validator; other keys stay in ``data``."""
    if isinstance(card, dict) and not isinstance(card.get("data"), dict):
        flat = dict(card)
        for old, new in V1_ALIASES.items():
            if old in flat and new not in flat:
                flat[new] = flat.pop(old)
        if "creator_notes" not in flat and isinstance(flat.get("creatorcomment"), str):
            flat["creator_notes"] = flat["creatorcomment"]
        persona = card_to_persona(flat, id, source)
        persona.data = spec_data(persona.data, 2)
        return persona
    return card_to_persona(card, id, source)


def slug(name: str) -> str:
    out = re.sub(r"[^\w]+", "-", name.strip().lower(), flags=re.UNICODE).strip("-")
    return out or "persona"


# -- the personas folder ------------------------------------------------------------------


def folder(path: str | None = None) -> Path:
    return Path(path or os.environ.get(ENV) or "personas")


def load_file(path: Path) -> Persona:
    """A persona file: card JSON or hand-written YAML (loaded safely, and
    parsed once: :mod:`augment.corpus.yaml_cards`)."""
    try:
        if path.suffix == ".json":
            import json

            text = path.read_text(encoding="utf-8")
            try:
                card = json.loads(text)
            except json.JSONDecodeError as exc:
                raise AugmentError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        else:
            from augment.corpus import yaml_cards

            try:
                card = yaml_cards.load(path)
            except yaml_cards.YamlError as exc:
                where = f"{path}:{exc.line}" if exc.line else str(path)
                raise AugmentError(f"{where}: invalid YAML: {exc.problem}") from None
    except OSError as exc:
        raise AugmentError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return card_to_persona(card, path.stem, str(path))
    except AugmentError as exc:
        raise AugmentError(f"{path}: {exc}") from None


def load_all(path: str | None = None) -> dict[str, Persona]:
    """Every persona in the folder, by id (the file name without its suffix)."""
    root = folder(path)
    if not root.is_dir():
        return {}
    out: dict[str, Persona] = {}
    for file in sorted(root.iterdir()):
        if file.suffix in SUFFIXES and file.is_file():
            persona = load_file(file)
            if persona.id in out:
                raise AugmentError(f"two personas named {persona.id!r}: {out[persona.id].source} and {file}")
            out[persona.id] = persona
    return out


def find(personas: dict[str, Persona], key: str, *, first: bool = False) -> Persona:
    """The persona with id ``key``, else the one named ``key`` (any case).
    When several share that name it is an error naming them (ids and files),
    unless ``first``: then the first of them, in folder order."""
    if key in personas:
        return personas[key]
    named = [p for p in personas.values() if p.name.lower() == key.lower()]
    if len(named) == 1 or (named and first):
        return named[0]
    if named:
        which = ", ".join(f"{p.id} ({p.source})" for p in named)
        raise UsageError(f"{len(named)} personas are named {key!r}: {which}; name one by its id")
    known = ", ".join(sorted(personas)) or "none"
    raise UsageError(f"no persona {key!r} (known: {known})")


def link(conv: Conversation, personas: dict[str, Persona]) -> Persona | None:
    """The persona a record is about: named in its ``persona`` field (id or
    name), the speaker name on its assistant turns, or named in its system
    prompt ("You are Mira, ..."), in that order."""
    if not personas:
        return None
    wanted = conv.extra.get("persona")
    if isinstance(wanted, str):
        try:
            return find(personas, wanted, first=True)
        except UsageError:
            pass
    by_name, longest_first = _index(personas)
    for turn in conv.turns:
        if turn.role == ASSISTANT and turn.name and turn.name.lower() in by_name:
            return by_name[turn.name.lower()]
    system = conv.system or ""
    for name, persona in longest_first:
        if _mentions(system, name):
            return persona
    return None


_indexes: dict[int, tuple[tuple[int, ...], dict[str, Persona], list[tuple[str, Persona]]]] = {}


def _index(personas: dict[str, Persona]) -> tuple[dict[str, Persona], list[tuple[str, Persona]]]:
    """The personas by lower-case name, and (name, persona) longest name
    first; worked out again only when the personas change."""
    held = tuple(map(id, personas.values()))  # the personas stay alive in the index, so no id is reused
    kept = _indexes.get(id(personas))
    if kept is None or kept[0] != held:
        by_name = {p.name.lower(): p for p in personas.values()}
        longest_first = [(p.name, p) for p in sorted(personas.values(), key=lambda p: -len(p.name))]
        if len(_indexes) > 64:
            _indexes.clear()
        kept = _indexes[id(personas)] = (held, by_name, longest_first)
    return kept[1], kept[2]


def _mentions(text: str, name: str) -> bool:
    """``name`` stands in ``text`` as a word (Latin names), or anywhere
    (names in a script written without spaces, such as 林霜 in 你是林霜，...)."""
    if name not in text:
        return False  # either way
    if re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", name):
        return True
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


# -- importers (plugins) -------------------------------------------------------------


class PersonaImporter:
    """Reads some kind of character file into a card, and may write cards
    back out as such files. Registered by plugins through
    ``register_persona_importers``."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: File endings this importer can also write (``augment personas export
    #: NAME -o FILE``), lower case with the dot: ``(".png",)``.
    exports: ClassVar[tuple[str, ...]] = ()

    def can_read(self, path: Path, head: bytes) -> bool:
        """True when this importer reads ``path`` (``head``: its first bytes)."""
        return False

    def read(self, path: Path) -> dict[str, Any]:
        """The character card in the file; raise AugmentError with the reason."""
        raise NotImplementedError

    def image(self, path: Path) -> bytes | None:
        """The picture in the file, if it has one (a PNG, without the card in
        it): kept beside the imported persona and used again on export."""
        return None

    def export(self, card: dict[str, Any], image: bytes | None) -> bytes:
        """The file for ``card`` (already spec-valid), for a suffix in
        ``exports``; ``image`` is the persona's picture, when it has one."""
        raise NotImplementedError
