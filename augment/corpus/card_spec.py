"""Character card specs: the fields a spec-valid card has, and filling in what a card lacks.

What a spec-valid card needs (malfoyslastname/character-card-spec-v2
``spec_v2.md``; kwaroran/character-card-spec-v3 ``SPEC_V3.md``; SillyTavern's
``src/validator/TavernCardValidator.js``): ``spec: "chara_card_v2"`` with
``spec_version: "2.0"``, and under ``data`` every field of :data:`V2_FIELDS`
(strings, except ``alternate_greetings`` and ``tags``: lists of strings, and
``extensions``: an object, ``{}`` by default). A ``character_book``, when
there is one, needs ``extensions`` and a list of ``entries``. A v3 card
(``chara_card_v3``, ``"3.0"``) needs the same plus ``group_only_greetings``
(a list). Cards are kept as read; :func:`spec_card` fills what is missing.
"""

from __future__ import annotations

from typing import Any

#: The fields a chara_card_v2 ``data`` object must have (spec order), with
#: the value a missing one gets. ``name`` has no default: a card needs one.
V2_FIELDS: dict[str, Any] = {
    "name": "",
    "description": "",
    "personality": "",
    "scenario": "",
    "first_mes": "",
    "mes_example": "",
    "creator_notes": "",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": [],
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}
#: What a chara_card_v3 ``data`` object needs besides the v2 fields.
V3_FIELDS: dict[str, Any] = {**V2_FIELDS, "group_only_greetings": []}
V2_SPEC = {"spec": "chara_card_v2", "spec_version": "2.0"}
V3_SPEC = {"spec": "chara_card_v3", "spec_version": "3.0"}
#: Pygmalion/Gradio spellings of v1 card fields, as SillyTavern maps them on import.
V1_ALIASES = {
    "char_name": "name",
    "char_persona": "description",
    "char_greeting": "first_mes",
    "example_dialogue": "mes_example",
    "world_scenario": "scenario",
}


def spec_card(card: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``card`` that a v2 (or, for a ``chara_card_v3`` card, v3)
    reader accepts: ``spec``/``spec_version`` set (a v3 card keeps a
    ``spec_version`` from 3.0 up to 4.0, as SillyTavern's validator allows),
    missing ``data`` fields filled with their defaults (:func:`spec_data`).
    Unknown keys, at the top and in ``data``, are kept in their order."""
    v3 = card.get("spec") == "chara_card_v3"
    out = {k: v for k, v in card.items() if k != "data"}
    out.update(V3_SPEC if v3 else V2_SPEC)
    if v3:
        try:
            if 3.0 <= float(card.get("spec_version")) < 4.0:
                out["spec_version"] = str(card["spec_version"])
        except (TypeError, ValueError):
            pass
    data = card.get("data")
    out["data"] = spec_data(data if isinstance(data, dict) else card, 3 if v3 else 2)
    return out


def spec_data(data: dict[str, Any], version: int = 2) -> dict[str, Any]:
    """A copy of a card's ``data`` with every field the spec requires: a
    missing or null field gets its default (``""``, ``[]``, ``{}``); a number
    where a string belongs becomes a string; ``alternate_greetings`` given as
    one string becomes a list of it and ``tags`` given as ``"a, b"`` a list,
    as SillyTavern reads them. A ``character_book`` gets its required
    ``extensions``/``entries``, and each entry ``keys``, ``content``,
    ``extensions``, ``enabled`` and ``insertion_order`` (v3: ``use_regex``)."""
    required = V3_FIELDS if version >= 3 else V2_FIELDS
    out = dict(data)
    for key, default in required.items():
        value = out.get(key)
        if value is None:
            out[key] = type(default)()
        elif isinstance(default, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = str(value)
        elif key == "alternate_greetings" and isinstance(value, str):
            out[key] = [value]
        elif key == "tags" and isinstance(value, str):
            out[key] = [t.strip() for t in value.split(",") if t.strip()]
    book = out.get("character_book")
    if isinstance(book, dict):
        book = {**book, "extensions": book.get("extensions") or {}, "entries": book.get("entries") or []}
        if isinstance(book["entries"], list):
            book["entries"] = [_entry(e, version) if isinstance(e, dict) else e for e in book["entries"]]
        out["character_book"] = book
    return out


def _entry(entry: dict[str, Any], version: int) -> dict[str, Any]:
    """A lorebook entry with the fields the spec requires of it."""
    defaults: dict[str, Any] = {"keys": [], "content": "", "extensions": {}, "enabled": True, "insertion_order": 0}
    if version >= 3:
        defaults["use_regex"] = False
    return {**entry, **{k: v for k, v in defaults.items() if entry.get(k) is None}}
