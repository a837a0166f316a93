"""PIPPA-style records (role-play chats exported from character platforms).

    {"bot_id": ..., "bot_name": "Mira", "bot_description": ..., "bot_definitions": ...,
     "bot_greeting": ..., "categories": [...],
     "conversation": [{"message": "...", "is_human": false}, {"message": "...", "is_human": true}, ...]}

The description becomes the system prompt, the bot's messages the assistant's
(named ``bot_name``), the human's the user's. Every other field travels with
the record, so writing it back gives the same record.
"""

from __future__ import annotations

from typing import Any

import augment
from augment import ASSISTANT, SYSTEM, USER, Conversation, Format, RecordError, Turn, Unrepresentable, split_known, type_name

KNOWN = ("bot_name", "bot_description", "conversation", "provenance")


class Pippa(Format):
    name = "pippa"
    summary = "PIPPA-style role-play chats: bot_name, bot_description, conversation [{message, is_human}]"

    def detect(self, record: Any) -> bool:
        return isinstance(record, dict) and "conversation" in record and "bot_name" in record

    def decode(self, record: dict[str, Any]) -> Conversation:
        bot = record.get("bot_name")
        if not isinstance(bot, str) or not bot:
            raise RecordError("missing field 'bot_name'")
        messages = record.get("conversation")
        if not isinstance(messages, list):
            raise RecordError(f"field 'conversation' must be an array, got {type_name(messages)}")
        turns = []
        description = record.get("bot_description")
        if description is not None:
            if not isinstance(description, str):
                raise RecordError("field 'bot_description' must be a string")
            turns.append(Turn(SYSTEM, description))
        for i, msg in enumerate(messages, 1):
            if not isinstance(msg, dict) or not isinstance(msg.get("message"), str) or not isinstance(msg.get("is_human"), bool):
                raise RecordError(f"message {i} must be {{'message': string, 'is_human': true|false}}")
            extra = split_known(msg, ("message", "is_human"))
            if msg["is_human"]:
                turns.append(Turn(USER, msg["message"], None, extra))
            else:
                turns.append(Turn(ASSISTANT, msg["message"], bot, extra))
        return Conversation(turns=turns, extra=split_known(record, KNOWN), provenance=record.get("provenance"))

    def encode(self, conv: Conversation) -> dict[str, Any]:
        names = {t.name for t in conv.turns if t.role == ASSISTANT}
        if len(names) != 1 or None in names:
            raise Unrepresentable("pippa needs one named bot on every assistant turn")
        out: dict[str, Any] = {"bot_name": names.pop()}
        if conv.system is not None:
            out["bot_description"] = conv.system
        messages = []
        for turn in conv.dialogue:
            if turn.role not in (USER, ASSISTANT):
                raise Unrepresentable(f"pippa has no place for {turn.role} turns")
            if turn.role == USER and turn.name:
                raise Unrepresentable("pippa has no place for the user's name")
            messages.append({"message": turn.content, "is_human": turn.role == USER, **turn.extra})
        out["conversation"] = messages
        out.update(conv.extra)
        if conv.provenance is not None:
            out["provenance"] = conv.provenance
        return out


@augment.hookimpl
def register_formats(register):
    register(Pippa())
