"""Character card files: the PNG chunks that carry a card, reading a card
from a file's bytes, and telling a card from the other JSON files that
SillyTavern users keep beside their cards.

A helper module for the ``character_cards`` (persona importer/exporter) and
``card_dialogues`` (``card`` format) plugins: it registers nothing, so it has
no entry point.

How SillyTavern stores a card in a PNG (``src/character-card-parser.js``):
``tEXt`` chunks placed before ``IEND``, keyword ``chara`` (a v1/v2 card) and
``ccv3`` (a v3 card), each holding the card JSON encoded as UTF-8 then base64.
It reads ``ccv3`` first, then ``chara`` (keywords compared case-insensitively),
and before writing removes the old ``chara``/``ccv3`` chunks.
"""

from __future__ import annotations

import binascii  # base64's two calls, without importing base64 at every start
import json
import struct
import zlib
from typing import Any, Iterator

from augment import AugmentError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG text chunk keywords that hold a card, in the order they are read.
CARD_KEYS = ("ccv3", "chara")
CARD_SPECS = ("chara_card_v2", "chara_card_v3")
#: Fields whose presence (with a ``name``) marks a flat v1 card, and the
#: Pygmalion/Gradio spelling of a v1 card (``char_name`` ...).
V1_MARKS = ("first_mes", "mes_example", "personality", "scenario")
GRADIO_MARKS = ("char_greeting", "example_dialogue", "char_persona", "world_scenario")
#: Keys that say a JSON object is a dataset record, not a card.
RECORD_KEYS = ("conversations", "messages", "instruction")


# -- PNG chunks -------------------------------------------------------------------


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """``(type, body, raw)`` for each chunk of a PNG (``raw``: the chunk's
    bytes as stored, length and CRC included), up to and including ``IEND``."""
    if not data.startswith(PNG_SIGNATURE):
        raise AugmentError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise AugmentError(f"truncated PNG: the {kind.decode('latin-1')!r} chunk at byte {pos} runs past the end of the file")
        yield kind, data[pos + 8 : pos + 8 + length], data[pos:end]
        pos = end
        if kind == b"IEND":
            return
    raise AugmentError("truncated PNG: no IEND chunk")


def _text_chunk(kind: bytes, body: bytes) -> tuple[str, str] | None:
    """The ``(keyword, text)`` of a tEXt, zTXt or iTXt chunk, else None."""
    if kind not in (b"tEXt", b"zTXt", b"iTXt") or b"\0" not in body:
        return None
    key, rest = body.split(b"\0", 1)
    keyword = key.decode("latin-1")
    try:
        if kind == b"tEXt":
            return keyword, rest.decode("latin-1")
        if kind == b"zTXt":
            return keyword, zlib.decompress(rest[1:]).decode("latin-1")
        compressed = rest[0]
        _lang, _translated, text = rest[2:].split(b"\0", 2)
        return keyword, (zlib.decompress(text) if compressed else text).decode("utf-8")
    except (zlib.error, ValueError, IndexError) as exc:
        raise AugmentError(f"the PNG text chunk {keyword!r} is damaged: {exc}") from None


def png_texts(data: bytes) -> dict[str, str]:
    """The ``tEXt`` / ``zTXt`` / ``iTXt`` entries of a PNG file, by keyword
    (the first one of each keyword wins)."""
    out: dict[str, str] = {}
    for kind, body, _raw in png_chunks(data):
        entry = _text_chunk(kind, body)
        if entry is not None:
            out.setdefault(*entry)
    return out


def _is_card_chunk(kind: bytes, body: bytes) -> bool:
    if kind not in (b"tEXt", b"zTXt", b"iTXt"):
        return False
    return body.split(b"\0", 1)[0].decode("latin-1").lower() in CARD_KEYS


def png_has_card(path: str) -> bool:
    """Whether the PNG file at ``path`` has a ``chara`` or ``ccv3`` text chunk.
    Reads only chunk headers and keywords (the card usually sits after the
    image data, beyond any fixed-size head of the file)."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
                return False
            while True:
                header = fh.read(8)
                if len(header) < 8:
                    return False
                length, kind = struct.unpack(">I4s", header)
                if kind in (b"tEXt", b"zTXt", b"iTXt"):
                    keyword = fh.read(min(length, 80)).split(b"\0", 1)[0]
                    if keyword.decode("latin-1").lower() in CARD_KEYS:
                        return True
                    fh.seek(length - min(length, 80) + 4, 1)
                elif kind == b"IEND":
                    return False
                else:
                    fh.seek(length + 4, 1)
    except OSError:
        return False


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_without_card(data: bytes) -> bytes:
    """The PNG with its card chunks (``chara``, ``ccv3``) taken out: the picture alone."""
    return PNG_SIGNATURE + b"".join(raw for kind, body, raw in png_chunks(data) if not _is_card_chunk(kind, body))


def png_with_texts(image: bytes, texts: dict[str, str]) -> bytes:
    """``image`` with its card chunks replaced by one ``tEXt`` chunk per entry
    of ``texts`` (in order), placed just before ``IEND`` as SillyTavern does.
    Text must be Latin-1 (a card is base64, so ASCII)."""
    kept = [(kind, raw) for kind, body, raw in png_chunks(image) if not _is_card_chunk(kind, body)]
    if not kept or kept[-1][0] != b"IEND":
        raise AugmentError("not a complete PNG (no IEND chunk)")
    added = [_chunk(b"tEXt", key.encode("latin-1") + b"\0" + text.encode("latin-1")) for key, text in texts.items()]
    return PNG_SIGNATURE + b"".join(raw for _, raw in kept[:-1]) + b"".join(added) + kept[-1][1]


#: The placeholder picture's size: SillyTavern's avatar size (AVATAR_WIDTH x AVATAR_HEIGHT).
PLACEHOLDER_SIZE = (400, 600)
PLACEHOLDER_RGB = (0x6B, 0x7A, 0x8F)


def placeholder_png(size: tuple[int, int] = PLACEHOLDER_SIZE, rgb: tuple[int, int, int] = PLACEHOLDER_RGB) -> bytes:
    """A plain one-colour PNG (8-bit RGB, no filter), for a card that has no picture."""
    width, height = size
    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(row * height, 9)) + _chunk(b"IEND", b"")


def encode_card(card: dict[str, Any]) -> str:
    """A card as a PNG text chunk holds it: compact JSON, UTF-8, base64."""
    text = json.dumps(card, ensure_ascii=False, separators=(",", ":"))
    return binascii.b2a_base64(text.encode("utf-8"), newline=False).decode("ascii")


def card_from_png(data: bytes) -> tuple[Any, str]:
    """The card JSON in a PNG and the chunk it came from (``ccv3`` before ``chara``)."""
    texts = {key.lower(): text for key, text in reversed(list(png_texts(data).items()))}
    for key in CARD_KEYS:
        if key in texts:
            try:
                return json.loads(binascii.a2b_base64(texts[key]).decode("utf-8")), key
            except (ValueError, UnicodeDecodeError) as exc:
                raise AugmentError(f"the {key!r} chunk is not base64 JSON: {exc}") from None
    raise AugmentError("no character card in this PNG (no 'chara' or 'ccv3' text chunk)")


# -- what a JSON object is ------------------------------------------------------------


def card_version(obj: Any) -> int | None:
    """1, 2 or 3 for a character card, None for anything else."""
    if not isinstance(obj, dict):
        return None
    spec = obj.get("spec")
    if spec in CARD_SPECS:
        return 3 if spec == "chara_card_v3" else 2
    if spec is not None or any(k in obj for k in RECORD_KEYS) or "entries" in obj:
        return None
    if isinstance(obj.get("name"), str) and any(k in obj for k in V1_MARKS):
        return 1
    if isinstance(obj.get("char_name"), str) and any(k in obj for k in GRADIO_MARKS):
        return 1
    return None


def describe(obj: Any) -> str | None:
    """What a JSON value that is not a character card looks like, in words a
    user recognises; None when it may be a card."""
    if card_version(obj) is not None:
        return None
    if isinstance(obj, list):
        first = next((x for x in obj if isinstance(x, dict)), None)
        inner = describe(first) if first is not None else None
        return f"a JSON array of {len(obj)} item(s)" + (f"; the first is {inner}" if inner else "") + " (a dataset, not one card)"
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    spec = obj.get("spec")
    if spec == "lorebook_v3" or "entries" in obj:
        return "a lorebook (SillyTavern world info: it has 'entries'); a card can hold one as data.character_book, but it is not a character"
    if "personas" in obj and "persona_descriptions" in obj:
        return "a SillyTavern persona backup (the user's own personas: 'personas', 'persona_descriptions'), not a character card"
    if "power_user" in obj:
        return "SillyTavern settings (settings.json), not a character card"
    if "user_name" in obj and ("character_name" in obj or "chat_metadata" in obj):
        return "a SillyTavern chat (its header line: 'user_name', 'character_name'); read it as data with `augment convert`, not as a persona"
    if "mes" in obj and ("is_user" in obj or "is_system" in obj):
        return "a SillyTavern chat message ('mes', 'is_user'); read chats as data with `augment convert`, not as a persona"
    if "members" in obj and ("chat_id" in obj or "chats" in obj):
        return "a SillyTavern group (its 'members' are cards, but the group is not one)"
    if "conversations" in obj:
        return "a ShareGPT record ('conversations'), a training example rather than a character card"
    if "messages" in obj:
        return "an OpenAI messages record ('messages'), a training example rather than a character card"
    if "instruction" in obj and "output" in obj:
        return "an Alpaca record ('instruction', 'output'), a training example rather than a character card"
    if isinstance(spec, str):
        return f"a {spec!r} file, not a character card (chara_card_v2 or chara_card_v3)"
    if isinstance(obj.get("data"), dict):
        return None  # a card envelope with an odd spec: let the card reader say what is missing
    if "name" not in obj and "char_name" not in obj:
        keys = ", ".join(repr(k) for k in list(obj)[:6]) or "none"
        return f"a JSON object with no character card fields (no 'spec', 'data' or 'name'; keys: {keys})"
    return None


def load_card(data: bytes, name: str) -> tuple[Any, str]:
    """The card in a file's bytes (a PNG, or JSON) and where it was found
    (``ccv3``/``chara`` chunk, or ``json``). Raise AugmentError, starting
    with the file ``name``, saying what the file is when it holds no card."""
    if data.startswith(PNG_SIGNATURE):
        try:
            card, key = card_from_png(data)
        except AugmentError as exc:
            raise AugmentError(f"{name}: {exc}") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AugmentError(f"{name}: neither a PNG nor UTF-8 JSON (byte {exc.start} is not UTF-8)") from None
        try:
            card, key = json.loads(text), "json"
        except json.JSONDecodeError as exc:
            first = text.lstrip().split("\n", 1)[0]
            try:  # JSON Lines: say what its first line is
                what = describe(json.loads(first)) if exc.msg == "Extra data" else None
            except json.JSONDecodeError:
                what = None
            if what:
                raise AugmentError(f"{name}: not a character card: this is JSON Lines, and its first line is {what}") from None
            raise AugmentError(f"{name}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    what = describe(card)
    if what:
        raise AugmentError(f"{name}: not a character card: this looks like {what}")
    return card, key
