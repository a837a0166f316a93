"""SillyTavern chat files (``.jsonl``, one chat per file), read as SillyTavern saves them.

SillyTavern writes a chat as JSON Lines joined by ``\\n``, usually with no final
newline. The first line is a header, then one message per line:

- header of a one-to-one chat: ``user_name``, ``character_name``,
  ``create_date`` (``2025-09-26@16h04m11s``; imported chats
  ``2023-6-19 @20h 13m 44s 512ms``) and ``chat_metadata`` (free-form: author's
  note, integrity id, ...). Old files have no ``chat_metadata``.
- header of a group chat: ``{"chat_metadata": ..., "user_name": "unused",
  "character_name": "unused"}``. Group chats saved by older versions have no
  header at all: their first line is already a message.
- message: ``name``, ``is_user``, ``is_system``, ``send_date``, ``mes``,
  ``extra``; replies may carry ``swipes`` (every version generated for that
  place), ``swipe_id`` (the one shown), ``swipe_info`` (dates and ``extra``
  per swipe), ``gen_started``/``gen_finished``, ``title``, and in group chats
  ``force_avatar``/``original_avatar``.

How a chat becomes a conversation:

- ``is_user`` messages are user turns and the other messages are assistant
  turns; each turn keeps the speaker's ``name``, so a group chat has
  assistant turns with several names. ``{{user}}``/``{{char}}`` stay as they are.
- ``is_system`` messages are left out and counted in a note. These are the
  UI notes and the messages hidden with /hide, which SillyTavern does not
  send to the model. Narrator messages (``extra.type == "narrator"``, from /sys)
  are sent to the model as system text in the middle of the chat. The model
  has no place for that, so they are left out and counted too.
- a message's text is ``mes``: SillyTavern shows it and puts it in the
  prompt, and keeps ``swipes[swipe_id]`` equal to it when you swipe or edit.
  When the two differ (SillyTavern does not write such files, but other tools
  might), ``mes`` wins and a note says so.
- everything else SillyTavern saved goes into the record-level field
  ``sillytavern``, not into the turns, because Alpaca could not write them
  there. Its fields have the same types in every record, so a mix of chats
  loads with ``datasets.load_dataset("json")``. Strings:
  ``user_name``, ``character_name``, ``chat_type`` (``single``/``group``),
  ``create_date``. Numbers: ``rejected_swipe`` (-1, or the index of the
  rejected swipe in a preference record). JSON text: ``create_date_raw``,
  ``chat_metadata``, and ``header`` (any other header keys). And
  ``messages``, one entry per kept message, in turn order:
  ``line``, ``name``, ``send_date``, ``send_date_raw``, ``swipe_id`` (-1
  without swipes), ``swipes``, ``swipe_info``, ``extra`` and ``fields`` (any
  other keys), the last four as JSON text.
  ``send_date`` and ``create_date`` are ISO 8601 with milliseconds, and
  ``""`` when unreadable. The ``_raw`` fields hold the value exactly as the
  file has it, as JSON text. Epoch numbers are UTC (``Z``). Below 10^11 they
  count seconds, above it milliseconds. ``June 19, 2023 2:20pm`` and the
  ``@..h..m..s`` forms were written in the author's local time, which the file
  does not record, so they get no offset.

``--swipes keep`` (the default) reads one conversation per file, with the
shown reply of each message. ``--swipes dpo`` reads one preference record per
rejected swipe instead, at the line of its message. The prompt is the chat
before that message. ``chosen`` is the shown reply and ``rejected`` the other
swipe. Only a reply that answers a user turn gives pairs. Swipes on a
greeting (any character message before the first user turn, so every
greeting of a group chat) are alternate greetings (the card's
``alternate_greetings``), not answers. A group reply that follows another
character's turn does not answer the user either. Neither gives pairs. The first pair of the
chat carries a note saying what was passed over. A chat that gives no pair
gives no record. Swipes that are empty, or repeat the shown reply or another
swipe, are skipped too.

A record from ``read`` is ``{"header": {...} or None, "messages": [{"line":
n, "message": {...}}, ...]}``, with each message as the file has it. A
preference record has only the messages up to the swiped one, and adds
``rejected_swipe``, ``chat_type`` (worked out from the whole chat) and
``notes``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterator

import augment
from augment import ASSISTANT, USER, Conversation, Format, Location, Preference, RecordError, Turn, UsageError, type_name

#: The record-level field holding what SillyTavern saved besides the dialogue.
FIELD = "sillytavern"
SWIPE_MODES = ("keep", "dpo")
HEADER_KEYS = ("user_name", "character_name", "create_date", "chat_metadata")
MESSAGE_KEYS = ("name", "is_user", "is_system", "send_date", "mes", "extra", "swipes", "swipe_id", "swipe_info")
BOM = b"\xef\xbb\xbf"

#: A header line too long for the bytes ``sniff`` is shown still starts like one.
LONG_HEADER = re.compile(rb'^\{\s*"(?:user_name|character_name|chat_metadata|create_date)"\s*:')


class SillyTavern(Format):
    name = "sillytavern"
    summary = "SillyTavern chat (.jsonl, one chat per file: a header line, then messages; input only)"
    writable = False
    options = {
        "swipes": "what to do with swipes (alternative replies): 'keep' the shown reply only "
        "(the others stay in the metadata), or 'dpo': one preference record per rejected swipe",
    }

    def __init__(self, swipes: str = "keep") -> None:
        self.swipes = swipes

    def configure(self, **options: Any) -> "SillyTavern":
        super().configure(**options)
        swipes = options.get("swipes")
        if swipes is None:
            return self
        if swipes not in SWIPE_MODES:
            raise UsageError(f"--swipes takes {' or '.join(SWIPE_MODES)}, not {swipes!r}")
        return SillyTavern(swipes)

    # -- reading ---------------------------------------------------------
    def sniff(self, path: str, head: bytes) -> bool:
        body = head[len(BOM) :] if head.startswith(BOM) else head
        first, newline, _ = body.lstrip(b" \t\r\n").partition(b"\n")
        try:
            value = json.loads(first)
        except ValueError:
            # a header bigger than the head (a large chat_metadata) is cut off
            return not newline and LONG_HEADER.match(first) is not None
        return isinstance(value, dict) and (is_header(value) or is_message(value))

    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]]:
        chat = parse(stream)
        if self.swipes == "dpo":
            yield from pairs(chat, file)
        else:
            yield Location(file, 1), chat

    def decode(self, record: Any) -> Conversation:
        header, messages = check_record(record)
        rejected = record.get("rejected_swipe")
        prompt = messages[:-1] if rejected is not None else messages
        turns: list[Turn] = []
        kept: list[dict[str, Any]] = []
        left_out = {"system": 0, "narrator": 0}
        differs = 0
        for entry in prompt:
            line, msg = entry["line"], entry["message"]
            kind = kind_of(msg)
            if kind in left_out:
                left_out[kind] += 1
                continue
            text = text_of(line, msg)
            differs += shown_differs(msg)
            turns.append(Turn(USER if kind == "user" else ASSISTANT, text, name_of(line, msg, header)))
            kept.append(message_metadata(line, msg))
        preference = None
        if rejected is not None:
            if not messages:
                raise RecordError("a preference record needs the swiped message")
            preference = self._pair(messages[-1], rejected, turns, header)
            kept.append(message_metadata(messages[-1]["line"], messages[-1]["message"]))
        if not turns:
            if not messages:
                raise RecordError("the chat has no messages, only a header")
            raise RecordError(f"no dialogue: all {len(prompt)} message(s) are system or narrator messages")
        notes = [f"left out {n} {kind} message(s)" for kind, n in left_out.items() if n]
        if differs:
            notes.append(f"used 'mes' where it differs from the shown swipe ({differs} message(s))")
        notes.extend(record.get("notes") or [])
        chat_type = record.get("chat_type") or chat_type_of(header, messages)
        metadata = chat_metadata(header, chat_type, rejected, kept)
        return Conversation(turns=turns, extra={FIELD: metadata}, preference=preference, notes=notes)

    def _pair(self, entry: dict[str, Any], rejected: Any, turns: list[Turn], header: dict[str, Any]) -> Preference:
        line, msg = entry["line"], entry["message"]
        swipes = msg.get("swipes")
        if type(rejected) is not int or not isinstance(swipes, list) or not 0 <= rejected < len(swipes):
            raise RecordError(f"line {line}: no swipe {rejected!r} to reject")
        if not isinstance(swipes[rejected], str):
            raise RecordError(f"line {line}: swipe {rejected} must be a string, got {type_name(swipes[rejected])}")
        if not turns or turns[-1].role != USER:
            raise RecordError(f"line {line}: a preference pair needs a user turn right before the swiped reply")
        name = name_of(line, msg, header)
        chosen = Turn(ASSISTANT, text_of(line, msg), name)
        return Preference(chosen=chosen, rejected=Turn(ASSISTANT, swipes[rejected], name))


# -- the file -------------------------------------------------------------


def check_record(record: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header (``{}`` when the file has none) and the messages of a record
    ``read`` made, or RecordError for anything else."""
    if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
        raise RecordError(f"a SillyTavern chat must be an object with 'messages', got {type_name(record)}")
    header = record.get("header")
    if header is not None and not isinstance(header, dict):
        raise RecordError(f"a SillyTavern chat header must be an object, got {type_name(header)}")
    for entry in record["messages"]:
        if not (isinstance(entry, dict) and type(entry.get("line")) is int and isinstance(entry.get("message"), dict)):
            raise RecordError("each message of a SillyTavern chat must be {'line': number, 'message': object}")
    return header or {}, record["messages"]


def is_header(value: dict[str, Any]) -> bool:
    """A chat header: every version writes ``chat_metadata`` or both names."""
    return "mes" not in value and ("chat_metadata" in value or ("user_name" in value and "character_name" in value))


def is_message(value: dict[str, Any]) -> bool:
    """A message, as the first line of a group chat saved without a header."""
    return "mes" in value and "is_user" in value


def parse(stream) -> dict[str, Any]:
    """``{"header": dict or None, "messages": [{"line": n, "message": {...}}]}``."""
    header: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = []
    first = True
    for lineno, raw in enumerate(stream, 1):
        if lineno == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordError(f"line {lineno}: invalid UTF-8 ({exc.reason})", line=lineno) from None
        if not text.strip():
            continue
        try:
            value = json.loads(text.strip())
        except json.JSONDecodeError as exc:
            where = f"column {exc.colno}" if exc.msg.endswith(" at") else f"at column {exc.colno}"
            raise RecordError(f"line {lineno}: invalid JSON: {exc.msg} {where}", line=lineno) from None
        if not isinstance(value, dict):
            raise RecordError(f"line {lineno}: a chat line must be an object, got {type_name(value)}", line=lineno)
        if first:
            first = False
            if is_header(value):
                header = value
                continue
            if "mes" not in value:
                raise RecordError(
                    f"line {lineno}: not a SillyTavern chat: the first line is neither a header "
                    "(user_name, character_name, chat_metadata) nor a message (mes)",
                    line=lineno,
                )
        messages.append({"line": lineno, "message": value})
    if first:
        raise RecordError("the file is empty", line=1)
    return {"header": header, "messages": messages}


def pairs(chat: dict[str, Any], file: str) -> Iterator[tuple[Location, dict[str, Any]]]:
    """One preference record per rejected swipe of a reply to a user turn."""
    messages = chat["messages"]
    found: list[tuple[Location, dict[str, Any]]] = []
    chat_type = chat_type_of(chat["header"], messages)
    greetings = after_character = repeats = 0
    before = None  # the kind of the last message kept as a turn
    answered = False  # a user turn has come: replies are no longer greetings
    for i, entry in enumerate(messages):
        msg = entry["message"]
        kind = kind_of(msg)
        if kind in ("system", "narrator"):
            continue
        swipes = msg.get("swipes")
        if kind == "character" and isinstance(swipes, list) and len(swipes) > 1:
            if not answered:
                greetings += 1
            elif before != "user":
                after_character += 1
            else:
                shown, mes = msg.get("swipe_id"), msg.get("mes")
                seen = {mes} if isinstance(mes, str) else set()
                for k, swipe in enumerate(swipes):
                    if k == shown and type(shown) is int:
                        continue
                    if not isinstance(swipe, str) or not swipe.strip() or swipe in seen:
                        repeats += 1
                        continue
                    seen.add(swipe)
                    record = {"header": chat["header"], "chat_type": chat_type, "messages": messages[: i + 1], "rejected_swipe": k}
                    found.append((Location(file, entry["line"]), record))
        before = kind
        answered = answered or kind == "user"
    if found:
        notes = []
        if greetings:
            notes.append(f"no preference pair from the swipes on a greeting, with no user turn before it ({greetings} message(s))")
        if after_character:
            notes.append(f"no preference pair from the swipes on a reply that follows another character's turn ({after_character} message(s))")
        if repeats:
            notes.append(f"skipped {repeats} swipe(s) that are empty or repeat the shown reply or another swipe")
        found[0][1]["notes"] = notes
    yield from found


# -- messages -------------------------------------------------------------


def kind_of(msg: dict[str, Any]) -> str:
    """``user``, ``character``, ``system`` (left out) or ``narrator`` (left out)."""
    if msg.get("is_system"):
        return "system"
    if msg.get("is_user"):
        return "user"
    extra = msg.get("extra")
    if isinstance(extra, dict) and extra.get("type") == "narrator":
        return "narrator"
    return "character"


def text_of(line: int, msg: dict[str, Any]) -> str:
    text = msg.get("mes")
    if not isinstance(text, str):
        raise RecordError(f"line {line}: 'mes' must be a string, got {type_name(text)}")
    return text


def shown_differs(msg: dict[str, Any]) -> bool:
    swipes, shown = msg.get("swipes"), msg.get("swipe_id")
    if not isinstance(swipes, list) or type(shown) is not int or not 0 <= shown < len(swipes):
        return False
    return swipes[shown] != msg.get("mes")


def name_of(line: int, msg: dict[str, Any], header: dict[str, Any]) -> str | None:
    name = msg.get("name")
    if name is None:  # fall back on the header's names, which group chats leave "unused"
        name = header.get("user_name" if msg.get("is_user") else "character_name")
        return name if isinstance(name, str) and name and name != "unused" else None
    if not isinstance(name, str):
        raise RecordError(f"line {line}: 'name' must be a string, got {type_name(name)}")
    return name


# -- metadata: the same fields and types in every record --------------------


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def as_text(value: Any) -> str:
    """A string as it is, anything else as JSON, ``""`` for nothing."""
    if value is None:
        return ""
    return value if isinstance(value, str) else as_json(value)


def as_written(obj: dict[str, Any], key: str) -> str:
    """A date exactly as the file has it, as JSON text (``""`` when absent).
    Not the bare string: pyarrow, under ``datasets.load_dataset("json")``,
    turns strings like ``2025-10-02T19:30:05Z`` into timestamps, and a column
    that is a timestamp in one file and a string in the next fails to load."""
    return as_json(obj[key]) if key in obj else ""


def message_metadata(line: int, msg: dict[str, Any]) -> dict[str, Any]:
    name, shown = msg.get("name"), msg.get("swipe_id")
    return {
        "line": line,
        "name": name if isinstance(name, str) else "",
        "send_date": iso_date(msg.get("send_date")),
        "send_date_raw": as_written(msg, "send_date"),
        "swipe_id": shown if type(shown) is int and isinstance(msg.get("swipes"), list) else -1,
        "swipes": as_json(msg.get("swipes", [])),
        "swipe_info": as_json(msg.get("swipe_info", [])),
        "extra": as_json(msg.get("extra", {})),
        "fields": as_json({k: v for k, v in msg.items() if k not in MESSAGE_KEYS}),
    }


def chat_type_of(header: dict[str, Any] | None, messages: list[dict[str, Any]]) -> str:
    """``group`` for a chat with no header (older group chats), several
    characters, or SillyTavern's group marks (``original_avatar``)."""
    characters = {m["message"].get("name") for m in messages if kind_of(m["message"]) == "character"}
    group = not header or len(characters) > 1 or any("original_avatar" in m["message"] for m in messages)
    return "group" if group else "single"


def chat_metadata(header: dict[str, Any], chat_type: str, rejected: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "user_name": as_text(header.get("user_name")),
        "character_name": as_text(header.get("character_name")),
        "chat_type": chat_type,
        "create_date": iso_date(header.get("create_date")),
        "create_date_raw": as_written(header, "create_date"),
        "chat_metadata": as_json(header.get("chat_metadata", {})),
        "header": as_json({k: v for k, v in header.items() if k not in HEADER_KEYS}),
        "rejected_swipe": rejected if type(rejected) is int else -1,
        "messages": messages,
    }


# -- dates ------------------------------------------------------------------

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: ``June 19, 2023 2:20pm``: what SillyTavern writes for a message.
MERIDIEM = augment.LazyPattern(r"([A-Za-z]+)\.?\s+(\d{1,2}),\s*(\d{4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*([ap]m)", re.I)
#: ``2025-09-26@16h04m11s`` (a chat's create_date) and ``2023-6-19 @20h 13m 44s 512ms`` (imports).
HUMANIZED = augment.LazyPattern(r"(\d{4})-(\d{1,2})-(\d{1,2})\s*@\s*(\d{1,2})h\s*(\d{1,2})m\s*(\d{1,2})s(?:\s*(\d{1,3})ms)?")
EPOCH = augment.LazyPattern(r"\d+(?:\.\d+)?")
ISO = augment.LazyPattern(r"\d{4}-\d{2}-\d{2}")
#: Epoch numbers below this count seconds, above it milliseconds (10^11 ms is 1973).
SECONDS_BELOW = 1e11


def iso_date(value: Any) -> str:
    """An ISO 8601 string for any date SillyTavern has written, or ``""``."""
    try:
        when = _parse_date(value)
    except (ValueError, OverflowError, OSError):
        return ""
    if when is None:
        return ""
    suffix = ""
    if when.tzinfo is not None:
        when, suffix = when.astimezone(timezone.utc).replace(tzinfo=None), "Z"
    # always with milliseconds: pyarrow keeps these as strings (whole seconds
    # it would read as timestamps, and mix up with the files that have none)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{when.microsecond // 1000:03d}" + suffix


def _parse_date(value: Any) -> datetime | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and EPOCH.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, (int, float)):
        if value < 0:
            return None
        seconds = value if value < SECONDS_BELOW else value / 1000
        return datetime.fromtimestamp(seconds, timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = MERIDIEM.fullmatch(text)
    if match:
        month, day, year, hour, minute, second, meridiem = match.groups()
        if month[:3].lower() not in MONTHS or not 1 <= int(hour) <= 12:
            return None
        hour24 = int(hour) % 12 + (12 if meridiem.lower() == "pm" else 0)
        return datetime(int(year), MONTHS.index(month[:3].lower()) + 1, int(day), hour24, int(minute), int(second or 0))
    match = HUMANIZED.fullmatch(text)
    if match:
        year, month, day, hour, minute, second, millis = (int(g or 0) for g in match.groups())
        return datetime(year, month, day, hour, minute, second, millis * 1000)
    if ISO.match(text):
        return datetime.fromisoformat(text)
    return None


@augment.hookimpl
def register_formats(register):
    register(SillyTavern())
