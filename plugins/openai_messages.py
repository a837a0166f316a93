"""OpenAI chat messages, as the fine-tuning API and Hugging Face chat templates take them.

``{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": ...}], "tools": [...]}``.
An assistant message with ``tool_calls`` is a ``function_call`` turn, whose text
is the calls as LLaMA-Factory writes them (``{"name", "arguments"}``); a ``tool``
message is an ``observation``. Every other message field (``name``,
``tool_call_id``, ``weight`` ...) travels with the turn.
"""

from __future__ import annotations

import json
from typing import Any

import augment
from augment.conversation import ASSISTANT, FUNCTION_CALL, OBSERVATION, SYSTEM, USER, Conversation, Turn
from augment.errors import RecordError, Unrepresentable
from augment.formats import Format, split_known, type_name

ROLE_OF = {"system": SYSTEM, "user": USER, "assistant": ASSISTANT, "tool": OBSERVATION}
TAG_OF = {SYSTEM: "system", USER: "user", ASSISTANT: "assistant", OBSERVATION: "tool", FUNCTION_CALL: "assistant"}


class OpenAIMessages(Format):
    name = "openai"
    summary = "OpenAI chat messages: messages [{role, content}], tool calls, tools"

    def detect(self, record: Any) -> bool:
        msgs = record.get("messages") if isinstance(record, dict) else None
        return isinstance(msgs, list) and all(isinstance(m, dict) and "role" in m for m in msgs[:3])

    def decode(self, record: dict[str, Any]) -> Conversation:
        msgs = record.get("messages")
        if msgs is None:
            raise RecordError("missing field 'messages'")
        if not isinstance(msgs, list):
            raise RecordError(f"field 'messages' must be an array, got {type_name(msgs)}")
        turns = [self._turn(i, msg) for i, msg in enumerate(msgs, 1)]
        return Conversation(
            turns=turns,
            tools=record.get("tools"),
            extra=split_known(record, ("messages", "tools", "provenance")),
            provenance=record.get("provenance"),
        )

    def _turn(self, i: int, msg: Any) -> Turn:
        if not isinstance(msg, dict):
            raise RecordError(f"message {i} must be an object, got {type_name(msg)}")
        role = msg.get("role")
        if role not in ROLE_OF:
            raise RecordError(f"message {i}: unknown role {role!r} (known: system, user, assistant, tool)")
        name = msg.get("name")
        if name is not None and not isinstance(name, str):
            raise RecordError(f"message {i}: 'name' must be a string, got {type_name(name)}")
        content = msg.get("content")
        extra = split_known(msg, ("role", "content", "name"))
        if role == "system" and i > 1:
            raise RecordError(f"message {i}: a system message after the start")
        if role == "assistant" and msg.get("tool_calls"):
            text = _calls_text(i, msg["tool_calls"])
            if extra["tool_calls"] == _calls_from_text(i, text):
                del extra["tool_calls"]  # nothing the text does not say already
            if content is not None:
                extra["content"] = content
            return Turn(FUNCTION_CALL, text, name, extra)
        if not isinstance(content, str):
            raise RecordError(f"message {i}: 'content' must be a string, got {type_name(content)}")
        return Turn(ROLE_OF[role], content, name, extra)

    def encode(self, conv: Conversation) -> dict[str, Any]:
        messages = []
        for i, turn in enumerate(conv.turns, 1):
            if turn.role == SYSTEM and i > 1:
                raise Unrepresentable("a system turn after the start")
            extra = dict(turn.extra)
            msg: dict[str, Any] = {"role": TAG_OF[turn.role]}
            if turn.role == FUNCTION_CALL:
                msg["content"] = extra.pop("content", None)
                if "tool_calls" not in extra:
                    extra["tool_calls"] = _calls_from_text(i, turn.content)
            else:
                msg["content"] = turn.content
            if turn.name is not None:
                msg["name"] = turn.name
            msg.update(extra)
            messages.append(msg)
        out: dict[str, Any] = {"messages": messages}
        if conv.tools is not None:
            out["tools"] = _tools_value(conv.tools)
        out.update(conv.extra)
        if conv.provenance is not None:
            out["provenance"] = conv.provenance
        return out

    def dataset_info(self, file_name: str) -> dict[str, Any]:
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "tools": "tools"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "observation_tag": "tool",
                "system_tag": "system",
            },
        }


def _calls_text(i: int, calls: Any) -> str:
    """OpenAI ``tool_calls`` as the JSON text LLaMA-Factory puts in a function_call turn."""
    if not isinstance(calls, list):
        raise RecordError(f"message {i}: 'tool_calls' must be an array, got {type_name(calls)}")
    out = []
    for call in calls:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise RecordError(f"message {i}: a tool call without a function name")
        args = fn.get("arguments", "{}")
        try:
            parsed = json.loads(args) if isinstance(args, str) else args
        except json.JSONDecodeError:
            raise RecordError(f"message {i}: tool call arguments are not valid JSON") from None
        out.append({"name": fn["name"], "arguments": parsed})
    return json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False)


def _calls_from_text(i: int, text: str) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        raise Unrepresentable(f"turn {i}: a function call that is not JSON cannot become an OpenAI tool call") from None
    calls = parsed if isinstance(parsed, list) else [parsed]
    out = []
    for n, call in enumerate(calls, 1):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise Unrepresentable(f"turn {i}: a function call needs a 'name'")
        args = call.get("arguments", {})
        out.append(
            {
                "id": f"call_{n}",
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(args, ensure_ascii=False)},
            }
        )
    return out


def _tools_value(tools: Any) -> Any:
    """OpenAI wants a list of tools; LLaMA-Factory's ShareGPT keeps a JSON string."""
    if isinstance(tools, str):
        try:
            return json.loads(tools)
        except json.JSONDecodeError:
            return tools
    return tools


@augment.hookimpl
def register_formats(register):
    register(OpenAIMessages())
