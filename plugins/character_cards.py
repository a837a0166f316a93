"""Character cards as SillyTavern and TavernAI export them: JSON, or a PNG
image with the card embedded (a ``tEXt`` chunk named ``chara`` holding base64
JSON; ``ccv3`` for version 3 cards). Both importers also export
(``augment personas export NAME -o FILE.json|FILE.png``).

Writing a PNG: the card goes into the persona's picture (or a plain
placeholder) as ``tEXt`` chunks before ``IEND``, replacing any card chunks
already there. A v2 card is written as ``chara``. A v3 card is written as
``ccv3`` (the v3 card) and ``chara`` (the same data labelled
``chara_card_v2``/``"2.0"``, for readers that know only v2), which is how
SillyTavern writes cards. SillyTavern also adds a ``ccv3`` copy of a v2 card;
we do not, so that a v2 card read back (``ccv3`` is read first) is still v2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import augment
from augment import PersonaImporter

from augment_plugins.card_files import (
    PNG_SIGNATURE,
    encode_card,
    load_card,
    placeholder_png,
    png_texts,  # noqa: F401  (kept importable from here)
    png_with_texts,
    png_without_card,
)


class CardJSON(PersonaImporter):
    name = "card-json"
    summary = "character card JSON (chara_card_v2/v3, or v1 flat fields)"
    exports = (".json",)

    def can_read(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() in (".json", ".jsonl") or head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")

    def read(self, path: Path) -> dict[str, Any]:
        return load_card(path.read_bytes(), str(path))[0]

    def export(self, card: dict[str, Any], image: bytes | None) -> bytes:
        return (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class CardPNG(PersonaImporter):
    name = "card-png"
    summary = "PNG with an embedded character card (tEXt 'chara' or 'ccv3')"
    exports = (".png",)

    def can_read(self, path: Path, head: bytes) -> bool:
        return head.startswith(PNG_SIGNATURE)

    def read(self, path: Path) -> dict[str, Any]:
        return load_card(path.read_bytes(), str(path))[0]

    def image(self, path: Path) -> bytes | None:
        return png_without_card(path.read_bytes())

    def export(self, card: dict[str, Any], image: bytes | None) -> bytes:
        texts: dict[str, str] = {}
        if card.get("spec") == "chara_card_v3":
            texts["chara"] = encode_card({**card, "spec": "chara_card_v2", "spec_version": "2.0"})
            texts["ccv3"] = encode_card(card)
        else:
            texts["chara"] = encode_card(card)
        return png_with_texts(image if image is not None else placeholder_png(), texts)


@augment.hookimpl
def register_persona_importers(register):
    register(CardPNG())
    register(CardJSON())
