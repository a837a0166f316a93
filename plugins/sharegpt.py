"""ShareGPT records as LLaMA-Factory reads them.

``{"conversations": [{"from": "human", "value": ...}, ...], "system": ..., "tools": ...}``
with roles ``human``, ``gpt``, ``function_call``, ``observation`` and an
optional leading ``system`` message. Preference data (DPO) adds ``chosen`` and
``rejected`` messages after a conversation that ends with a user turn; KTO
data a boolean ``kto_tag``. Column and tag names can be taken from a
``dataset_info.json`` entry, so any ShareGPT-like file can be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import augment
from augment import ASSISTANT, FUNCTION_CALL, OBSERVATION, SYSTEM, USER, Conversation, Format, Preference, RecordError, Turn, kto_tag, Unrepresentable, optional_columns, split_known, type_name


@dataclass(frozen=True)
class Layout:
    """Columns and tags, named as in LLaMA-Factory's dataset_info.json."""

    messages: str = "conversations"
    system: str = "system"
    tools: str = "tools"
    role_tag: str = "from"
    content_tag: str = "value"
    user_tag: str = "human"
    assistant_tag: str = "gpt"
    observation_tag: str = "observation"
    function_tag: str = "function_call"
    system_tag: str = "system"

    def role_of(self) -> dict[str, str]:
        return {
            self.user_tag: USER,
            self.assistant_tag: ASSISTANT,
            self.observation_tag: OBSERVATION,
            self.function_tag: FUNCTION_CALL,
            self.system_tag: SYSTEM,
        }

    def tag_of(self) -> dict[str, str]:
        return {role: tag for tag, role in self.role_of().items()}


class ShareGPT(Format):
    name = "sharegpt"
    summary = "LLaMA-Factory ShareGPT: conversations [{from, value}], system, tools"

    def __init__(self, layout: Layout = Layout()) -> None:
        self.layout = layout
        self._roles = layout.role_of()
        self._tags = layout.tag_of()

    def detect(self, record: Any) -> bool:
        msgs = record.get(self.layout.messages) if isinstance(record, dict) else None
        return isinstance(msgs, list) and all(
            isinstance(m, dict) and self.layout.role_tag in m for m in msgs[:3]
        )

    def from_dataset_info(self, entry: dict[str, Any]) -> "ShareGPT":
        columns = entry.get("columns") or {}
        tags = entry.get("tags") or {}
        fields = {}
        for key in ("messages", "system", "tools"):
            if key in columns:
                fields[key] = columns[key]
        for key in Layout.__dataclass_fields__:
            if key.endswith("_tag") and key in tags:
                fields[key] = tags[key]
        return ShareGPT(replace(self.layout, **fields))

    def decode(self, record: dict[str, Any]) -> Conversation:
        lay = self.layout
        msgs = record.get(lay.messages)
        if msgs is None:
            raise RecordError(f"missing field {lay.messages!r}")
        if not isinstance(msgs, list):
            raise RecordError(f"field {lay.messages!r} must be an array, got {type_name(msgs)}")
        roles = self._roles
        turns = self._plain_turns(msgs)
        if turns is None:
            turns = self._turns(msgs)
        system = record.get(lay.system)
        if system is not None:
            if not isinstance(system, str):
                raise RecordError(f"field {lay.system!r} must be a string, got {type_name(system)}")
            if turns and turns[0].role == SYSTEM:
                raise RecordError(f"both a {lay.system!r} field and a leading system message")
            turns.insert(0, Turn(SYSTEM, system))
        preference = None
        if "chosen" in record or "rejected" in record:
            preference = Preference(self._answer(record, "chosen", roles), self._answer(record, "rejected", roles))
        return Conversation(
            turns=turns,
            tools=record.get(lay.tools),
            extra=split_known(record, (lay.messages, lay.system, lay.tools, "provenance", "chosen", "rejected", "kto_tag")),
            provenance=record.get("provenance"),
            preference=preference,
            label=kto_tag(record),
        )

    def _plain_turns(self, msgs: list[Any]) -> list[Turn] | None:
        """The turns of messages that hold a known role and a string and
        nothing else (nearly all of them), built without the checks; None
        when any message is otherwise, for :meth:`_turns` to say why."""
        roles = self._roles
        role_tag, content_tag = self.layout.role_tag, self.layout.content_tag
        if role_tag == content_tag:
            return None
        turns: list[Turn] = []
        append = turns.append
        for msg in msgs:
            if type(msg) is not dict or len(msg) != 2:
                return None
            tag, content = msg.get(role_tag), msg.get(content_tag)
            if type(tag) is not str or type(content) is not str:
                return None  # a missing key is None: not a str
            role = roles.get(tag)
            if role is None or (role == SYSTEM and turns):
                return None
            append(Turn(role, content))
        return turns

    def _turns(self, msgs: list[Any]) -> list[Turn]:
        lay = self.layout
        roles = self._roles
        turns: list[Turn] = []
        for i, msg in enumerate(msgs, 1):
            if not isinstance(msg, dict):
                raise RecordError(f"message {i} must be an object, got {type_name(msg)}")
            tag = msg.get(lay.role_tag)
            if not isinstance(tag, str) or tag not in roles:
                known = ", ".join(repr(t) for t in roles)
                raise RecordError(f"message {i}: unknown role {tag!r} in {lay.role_tag!r} (known: {known})")
            content = msg.get(lay.content_tag)
            if not isinstance(content, str):
                raise RecordError(f"message {i}: {lay.content_tag!r} must be a string, got {type_name(content)}")
            if roles[tag] == SYSTEM and i > 1:
                raise RecordError(f"message {i}: a system message after the start")
            name = msg.get("name")
            extra = split_known(msg, (lay.role_tag, lay.content_tag, "name"))
            if name is not None and not isinstance(name, str):
                raise RecordError(f"message {i}: 'name' must be a string, got {type_name(name)}")
            turns.append(Turn(roles[tag], content, name, extra))
        return turns

    def _answer(self, record: dict[str, Any], key: str, roles: dict[str, str]) -> Turn:
        """``chosen`` / ``rejected`` of preference data: one message."""
        lay = self.layout
        msg = record.get(key)
        if not isinstance(msg, dict):
            raise RecordError(f"field {key!r} must be a message object ({{{lay.role_tag!r}, {lay.content_tag!r}}}), got {type_name(msg)}")
        tag, content = msg.get(lay.role_tag), msg.get(lay.content_tag)
        if not isinstance(tag, str) or tag not in roles or roles[tag] not in (ASSISTANT, FUNCTION_CALL):
            raise RecordError(f"{key}: role {tag!r} is not an answer ({lay.assistant_tag!r} or {lay.function_tag!r})")
        if not isinstance(content, str):
            raise RecordError(f"{key}: {lay.content_tag!r} must be a string, got {type_name(content)}")
        return Turn(roles[tag], content, msg.get("name"), split_known(msg, (lay.role_tag, lay.content_tag, "name")))

    def encode(self, conv: Conversation) -> dict[str, Any]:
        lay = self.layout
        tags = self._tags
        out: dict[str, Any] = {}
        turns = conv.turns
        if conv.system is not None:
            out[lay.system] = conv.system
            turns = turns[1:]
        messages = []
        for turn in turns:
            if turn.role == SYSTEM:
                raise Unrepresentable("a system turn after the start")
            messages.append(self._message(turn, tags))
        out[lay.messages] = messages
        if conv.preference is not None:
            out["chosen"] = self._message(conv.preference.chosen, tags)
            out["rejected"] = self._message(conv.preference.rejected, tags)
        if conv.label is not None:
            out["kto_tag"] = conv.label
        if conv.tools is not None:
            out[lay.tools] = conv.tools if isinstance(conv.tools, str) else json.dumps(conv.tools, ensure_ascii=False)
        out.update(conv.extra)
        if conv.provenance is not None:
            out["provenance"] = conv.provenance
        return out

    def _message(self, turn: Turn, tags: dict[str, str]) -> dict[str, Any]:
        lay = self.layout
        msg: dict[str, Any] = {lay.role_tag: tags[turn.role], lay.content_tag: turn.content}
        if turn.name is not None:
            msg["name"] = turn.name
        if turn.extra:
            msg.update(turn.extra)
        return msg

    def dataset_info(self, file_name: str, columns=(), traits=frozenset()) -> dict[str, Any]:
        lay = self.layout
        entry: dict[str, Any] = {"file_name": file_name, "formatting": "sharegpt"}
        named = {"messages": lay.messages, **optional_columns(columns, {"system": lay.system, "tools": lay.tools})}
        if "chosen" in named:
            entry["ranking"] = True
        entry["columns"] = named
        entry["tags"] = {k: getattr(lay, k) for k in Layout.__dataclass_fields__ if k.endswith("_tag")}
        return entry


@augment.hookimpl
def register_formats(register):
    register(ShareGPT())
