"""Character cards as training data: the ``card`` format (input only).

A card file (JSON v1/v2/v3, or a PNG with a ``chara``/``ccv3`` chunk) holds
conversations of two kinds, and each becomes one record:

- every ``<START>`` block of ``mes_example`` (``mes_example 1``, ``2`` ...):
  lines ``{{user}}: ...`` and ``{{char}}: ...`` (also ``<USER>:``/``<BOT>:``
  and the character's own name, any case, ``:`` or ``：``); a line without
  a speaker continues the utterance before it, lines before the first speaker
  open the first utterance, and consecutive lines of one speaker are one turn
  (as SillyTavern's ``parseExampleIntoIndividual`` reads them);
- every greeting (``first_mes``, ``alternate_greetings 1``, ``2`` ...): the
  system prompt and one assistant turn, an opener that the core's
  ``--greeting fold-into-system|insert-user|drop`` policy then shapes.

Every record starts with a system turn built as SillyTavern's default story
string builds it (``power-user.js`` ``defaultStoryString`` and
``default/content/presets/context/Default.json``), each part only when the
field is not empty, stripped, one per line, in this order::

    {system_prompt}
    {description}
    {{char}}'s personality: {personality}
    Scenario: {scenario}

The card's ``system_prompt`` stands where SillyTavern puts the system prompt
(it prefers the character's by default); its ``{{original}}`` (the user's own
system prompt) is dropped, as there is none here. World info, the user's
persona and ``post_history_instructions`` are not part of it.

Turns keep ``{{char}}``/``{{user}}`` as written (``--expand-placeholders``
writes names); assistant turns are named after the character, so the record
links to its persona. ``extra`` says where the record came from:
``{"card": NAME, "block": "mes_example 2"}`` (strings only).
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any, Iterator

import augment
from augment import ASSISTANT, SYSTEM, USER, AugmentError, Conversation, Format, Location, RecordError, Turn

from augment_plugins.card_files import PNG_SIGNATURE, card_from_png, card_version, describe, png_has_card

#: Card fields that build the system prompt, and the ones a record carries.
STORY_FIELDS = ("system_prompt", "description", "personality", "scenario")
START = re.compile(r"<START>", re.IGNORECASE)
#: Bytes of a JSON file parsed whole to decide whether it is a card.
SNIFF_LIMIT = 32 << 20


class CardDialogues(Format):
    name = "card"
    summary = "character card (JSON v1/v2/v3 or PNG): one conversation per <START> example block and per greeting"
    writable = False

    # -- recognising a card ----------------------------------------------------
    def sniff(self, path: str, head: bytes) -> bool:
        if head.startswith(PNG_SIGNATURE):
            return png_has_card(path)
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith(b"{") or not re.search(rb'"(spec|name|char_name)"\s*:', head):
            return False
        try:
            if len(head) >= 1 << 16:  # only the start of the file: read the rest
                with open(path, "rb") as fh:
                    data = fh.read(SNIFF_LIMIT + 1)
                if len(data) > SNIFF_LIMIT:
                    return False
            else:
                data = head
            return card_version(json.loads(data.decode("utf-8-sig"))) is not None
        except (OSError, ValueError):
            return False

    # -- reading ---------------------------------------------------------------
    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]]:
        data = stream.read()
        if data.startswith(PNG_SIGNATURE):
            try:
                card = card_from_png(data)[0]
            except AugmentError as exc:
                raise RecordError(str(exc)) from None
            text = None
        else:
            try:
                text = data.decode("utf-8-sig")
                card = json.loads(text)
            except UnicodeDecodeError as exc:
                raise RecordError(f"neither a PNG nor UTF-8 JSON (byte {exc.start} is not UTF-8)") from None
            except json.JSONDecodeError as exc:
                raise RecordError(f"invalid JSON: {exc.msg}", line=exc.lineno) from None
        what = describe(card)
        if what:
            raise RecordError(f"not a character card: this looks like {what}")
        version = card_version(card)
        if version is None:
            raise RecordError("not a character card (no chara_card_v2/v3 'spec', and no v1 'name' with 'first_mes' or 'mes_example')")
        fields = _fields(card, version)
        lines = _value_lines(text) if text is not None else {}
        prefix = ("data",) if version >= 2 else ()

        def line(*path: Any) -> int:
            return lines.get(prefix + path, 1)

        identity = {k: fields[k] for k in ("name", *STORY_FIELDS)}
        found = 0
        for number, block in enumerate(_blocks(fields["mes_example"]), 1):
            found += 1
            yield Location(file, line("mes_example")), {"card": identity, "block": f"mes_example {number}", "text": block}
        if fields["first_mes"].strip():
            found += 1
            yield Location(file, line("first_mes")), {"card": identity, "block": "first_mes", "greeting": fields["first_mes"]}
        for index, greeting in enumerate(fields["alternate_greetings"]):
            if isinstance(greeting, str) and greeting.strip():
                found += 1
                yield Location(file, line("alternate_greetings", index)), {"card": identity, "block": f"alternate_greetings {index + 1}", "greeting": greeting}
        if not found:
            raise RecordError(f"the card {fields['name']!r} has no example dialogues (mes_example) and no greetings (first_mes, alternate_greetings)")

    def decode(self, record: Any) -> Conversation:
        if not isinstance(record, dict):
            raise RecordError("missing field 'card' (a card record is an object)")
        for key in ("card", "block"):
            if key not in record:
                raise RecordError(f"missing field {key!r}")
        card = record["card"]
        if not isinstance(card, dict) or not isinstance(card.get("name"), str):
            raise RecordError("field 'card' must be an object with the character's 'name'")
        name = card["name"]
        turns = []
        system = story_string(card)
        if system:
            turns.append(Turn(SYSTEM, system))
        if isinstance(record.get("greeting"), str):
            turns.append(Turn(ASSISTANT, record["greeting"].strip(), name))
        elif isinstance(record.get("text"), str):
            dialogue = _dialogue(record["text"], name)
            if not dialogue:
                raise RecordError(f"{record['block']}: no '{{{{user}}}}:' or '{{{{char}}}}:' lines in this example block")
            turns.extend(dialogue)
        else:
            raise RecordError("missing field 'text' (an example block) or 'greeting'")
        return Conversation(turns=turns, extra={"card": name, "block": str(record["block"])})


def story_string(card: dict[str, Any]) -> str:
    """The system prompt SillyTavern's default story string makes of a card."""
    parts = []
    system = _text(card.get("system_prompt")).replace("{{original}}", "").strip()
    if system:
        parts.append(system)
    if _text(card.get("description")).strip():
        parts.append(_text(card["description"]).strip())
    if _text(card.get("personality")).strip():
        parts.append(f"{{{{char}}}}'s personality: {_text(card['personality']).strip()}")
    if _text(card.get("scenario")).strip():
        parts.append(f"Scenario: {_text(card['scenario']).strip()}")
    return "\n".join(parts)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _fields(card: dict[str, Any], version: int) -> dict[str, Any]:
    """The fields this format reads, from ``data`` (v2/v3) or the top (v1)."""
    data = card.get("data") if version >= 2 else card
    if not isinstance(data, dict):
        raise RecordError("the card has no 'data' object")
    if version == 1 and "name" not in data:  # Pygmalion/Gradio spelling
        data = {"name": data.get("char_name"), "description": data.get("char_persona"), "scenario": data.get("world_scenario"),
                "first_mes": data.get("char_greeting"), "mes_example": data.get("example_dialogue")}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RecordError("the card has no 'name'")
    out = {k: _text(data.get(k)) for k in (*STORY_FIELDS, "first_mes", "mes_example")}
    out["name"] = name.strip()
    greetings = data.get("alternate_greetings")
    out["alternate_greetings"] = [greetings] if isinstance(greetings, str) else greetings if isinstance(greetings, list) else []
    return out


def _blocks(examples: str) -> list[str]:
    """The example blocks of ``mes_example``, split at ``<START>`` (any case);
    text before the first ``<START>`` is a block too, as in SillyTavern."""
    return [block.strip() for block in START.split(examples) if block.strip()]


def _speaker_pattern(name: str) -> re.Pattern[str]:
    names = [r"\{\{user\}\}", r"<USER>", r"\{\{char\}\}", r"<BOT>", re.escape(name)]
    return re.compile(rf"^\s*({'|'.join(names)})\s*[:：]\s?(.*)$", re.IGNORECASE)


def _dialogue(block: str, name: str) -> list[Turn]:
    speaker = _speaker_pattern(name)
    turns: list[Turn] = []
    before: list[str] = []  # lines before the first speaker
    for raw in block.split("\n"):
        line = raw.rstrip("\r")
        match = speaker.match(line)
        if match:
            who = match.group(1).lower()
            role = USER if who in ("{{user}}", "<user>") else ASSISTANT
            text = match.group(2)
            if not turns and before:
                text = "\n".join(before + [text])
            if turns and turns[-1].role == role:
                turns[-1].content += "\n" + text
            else:
                turns.append(Turn(role, text, name if role == ASSISTANT else None))
        elif turns:
            turns[-1].content += "\n" + line
        elif line.strip():
            before.append(line.strip())
    for turn in turns:
        turn.content = turn.content.strip()
    return turns


def _value_lines(text: str) -> dict[tuple, int]:
    """The 1-based line where each value of a JSON object starts, by key path:
    the top level, ``data``'s keys, and the items of arrays at those levels.
    Empty if the text cannot be walked (line numbers then fall back to 1)."""
    decoder = json.JSONDecoder()
    breaks = [i for i, c in enumerate(text) if c == "\n"]
    out: dict[tuple, int] = {}
    ws = re.compile(r"[ \t\r\n]*")

    def skip(i: int) -> int:
        return ws.match(text, i).end()

    def value(i: int, path: tuple) -> int:
        i = skip(i)
        out[path] = bisect.bisect_right(breaks, i - 1) + 1
        if len(path) <= 2 and text.startswith("{", i):
            return obj(i, path)
        if len(path) <= 2 and text.startswith("[", i):
            i = skip(i + 1)
            index = 0
            if text.startswith("]", i):
                return i + 1
            while True:
                i = skip(value(i, path + (index,)))
                index += 1
                if text.startswith("]", i):
                    return i + 1
                i += 1  # ","
        return decoder.raw_decode(text, i)[1]

    def obj(i: int, path: tuple) -> int:
        i = skip(i + 1)
        if text.startswith("}", i):
            return i + 1
        while True:
            key, i = json.decoder.scanstring(text, i + 1)
            i = skip(skip(i) + 1)  # ":"
            i = skip(value(i, path + (key,)))
            if text.startswith("}", i):
                return i + 1
            i = skip(i + 1)  # ","

    try:
        start = skip(0)
        if text.startswith("{", start):
            obj(start, ())
    except (ValueError, IndexError):
        return {}
    return out


@augment.hookimpl
def register_formats(register):
    register(CardDialogues())
