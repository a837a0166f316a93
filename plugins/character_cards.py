"""Character cards as SillyTavern and TavernAI export them: JSON, or a PNG
image with the card embedded (a ``tEXt`` chunk named ``chara`` holding base64
JSON; ``ccv3`` for version 3 cards)."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import augment
from augment.errors import AugmentError
from augment.personas import PersonaImporter

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CardJSON(PersonaImporter):
    name = "card-json"
    summary = "character card JSON (chara_card_v2, or v1 flat fields)"

    def can_read(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".json" or head.lstrip()[:1] == b"{"

    def read(self, path: Path) -> dict[str, Any]:
        try:
            return json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise AugmentError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None


class CardPNG(PersonaImporter):
    name = "card-png"
    summary = "PNG with an embedded character card (tEXt 'chara' or 'ccv3')"

    def can_read(self, path: Path, head: bytes) -> bool:
        return head.startswith(PNG_SIGNATURE)

    def read(self, path: Path) -> dict[str, Any]:
        texts = png_texts(path.read_bytes())
        for key in ("ccv3", "chara"):
            if key in texts:
                try:
                    return json.loads(base64.b64decode(texts[key]).decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise AugmentError(f"{path}: the {key!r} chunk is not base64 JSON: {exc}") from None
        raise AugmentError(f"{path}: no character card in this PNG (no 'chara' or 'ccv3' text chunk)")


def png_texts(data: bytes) -> dict[str, str]:
    """The ``tEXt`` / ``zTXt`` / ``iTXt`` entries of a PNG file."""
    if not data.startswith(PNG_SIGNATURE):
        raise AugmentError("not a PNG file")
    out: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt" and b"\0" in body:
            key, text = body.split(b"\0", 1)
            out[key.decode("latin-1")] = text.decode("latin-1")
        elif kind == b"zTXt" and b"\0" in body:
            key, rest = body.split(b"\0", 1)
            out[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt" and b"\0" in body:
            key, rest = body.split(b"\0", 1)
            compressed, _method = rest[0], rest[1]
            _lang, _translated, text = rest[2:].split(b"\0", 2)
            out[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode("utf-8")
        elif kind == b"IEND":
            break
    return out


@augment.hookimpl
def register_persona_importers(register):
    register(CardPNG())
    register(CardJSON())
