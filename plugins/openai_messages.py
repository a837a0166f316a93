"""OpenAI chat messages, as the fine-tuning API and Hugging Face chat templates take them.

``{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": ...}], "tools": [...]}``.
``content`` may be a list of parts: the text parts are joined (one line
each) for the steps, and the parts are written back as they came. Preference
and KTO data are read in TRL's shape (``prompt`` with ``chosen``/``rejected``,
or ``completion`` and ``label``) or LLaMA-Factory's (``messages`` with
``chosen``/``rejected`` messages, or ``kto_tag``), and written in TRL's.
An assistant message with ``tool_calls`` is a ``function_call`` turn, whose text
is the calls as LLaMA-Factory writes them (``{"name", "arguments"}``); a ``tool``
message is an ``observation``. Every other message field (``name``,
``tool_call_id``, ``weight`` ...) travels with the turn.
"""

from __future__ import annotations

import json
from typing import Any

import augment
from augment import ASSISTANT, FUNCTION_CALL, OBSERVATION, SYSTEM, USER, Conversation, Format, Preference, RecordError, Turn, UsageError, kto_tag, Unrepresentable, optional_columns, split_known, type_name

ROLE_OF = {"system": SYSTEM, "user": USER, "assistant": ASSISTANT, "tool": OBSERVATION}
TAG_OF = {SYSTEM: "system", USER: "user", ASSISTANT: "assistant", OBSERVATION: "tool", FUNCTION_CALL: "assistant"}


class OpenAIMessages(Format):
    name = "openai"
    summary = "OpenAI chat messages: messages [{role, content}], tool calls, tools"

    def detect(self, record: Any) -> bool:
        if not isinstance(record, dict):
            return False
        msgs = record.get("messages")
        if msgs is None and isinstance(record.get("prompt"), list):  # TRL's conversational preference / KTO data
            msgs = record["prompt"]
        return isinstance(msgs, list) and all(isinstance(m, dict) and "role" in m for m in msgs[:3])

    def decode(self, record: dict[str, Any]) -> Conversation:
        key = "messages" if "messages" in record or "prompt" not in record else "prompt"
        msgs = record.get(key)
        if msgs is None:
            raise RecordError("missing field 'messages'")
        if not isinstance(msgs, list):
            raise RecordError(f"field {key!r} must be an array, got {type_name(msgs)}")
        turns = [self._turn(i, msg) for i, msg in enumerate(msgs, 1)]
        preference = label = None
        known = ("messages", "tools", "provenance", "chosen", "rejected", "kto_tag")
        if "chosen" in record or "rejected" in record:
            preference = Preference(self._answer(record, "chosen", len(turns)), self._answer(record, "rejected", len(turns)))
        if key == "prompt":  # TRL: prompt + chosen/rejected, or prompt + completion + label
            known += ("prompt", "completion", "label")
            if "completion" in record:
                turns.append(self._answer(record, "completion", len(turns)))
                label = kto_tag(record, "label")
        else:
            label = kto_tag(record)
        return Conversation(
            turns=turns,
            tools=record.get("tools"),
            extra=split_known(record, known),
            provenance=record.get("provenance"),
            preference=preference,
            label=label,
        )

    def from_dataset_info(self, entry: dict[str, Any]) -> "OpenAIMessages":
        """LLaMA-Factory's ``openai`` formatting with the standard names (as
        this format writes it); other names are ShareGPT-style columns."""
        columns = entry.get("columns") or {}
        tags = entry.get("tags") or {}
        standard = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "observation_tag": "tool", "system_tag": "system"}
        odd = {k: v for k, v in tags.items() if k in standard and standard[k] != v}
        if columns.get("messages", "messages") != "messages" or odd:
            raise UsageError("this openai entry renames columns or tags: give it \"formatting\": \"sharegpt\" with the same columns and tags")
        return self

    def _answer(self, record: dict[str, Any], key: str, after: int) -> Turn:
        """An answer of preference or KTO data: a message object (LLaMA-Factory,
        OpenAI) or a list of one assistant message (TRL)."""
        value = record.get(key)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, dict):
            raise RecordError(f"field {key!r} must be one assistant message, got {type_name(value)}")
        turn = self._turn(after + 1, value)
        if turn.role not in (ASSISTANT, FUNCTION_CALL):
            raise RecordError(f"{key}: a {value.get('role')!r} message, not an assistant answer")
        return turn

    def _turn(self, i: int, msg: Any) -> Turn:
        if not isinstance(msg, dict):
            raise RecordError(f"message {i} must be an object, got {type_name(msg)}")
        role = msg.get("role")
        if not isinstance(role, str) or role not in ROLE_OF:
            raise RecordError(f"message {i}: unknown role {role!r} (known: system, user, assistant, tool)")
        name = msg.get("name")
        if name is not None and not isinstance(name, str):
            raise RecordError(f"message {i}: 'name' must be a string, got {type_name(name)}")
        content = msg.get("content")
        extra = split_known(msg, ("role", "content", "name"))
        if isinstance(content, list):  # content parts: the text joined, the parts kept to write back
            extra["content"] = content
            content = _parts_text(i, content)
        if role == "system" and i > 1:
            raise RecordError(f"message {i}: a system message after the start")
        if role == "assistant" and msg.get("tool_calls"):
            text = _calls_text(i, msg["tool_calls"])
            if extra["tool_calls"] == _calls_from_text(i, text):
                del extra["tool_calls"]  # nothing the text does not say already
            if content is not None and "content" not in extra:
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
                if isinstance(extra.get("content"), list):
                    msg["content"] = _parts_with_text(extra.pop("content"), turn.content)
            if turn.name is not None:
                msg["name"] = turn.name
            msg.update(extra)
            messages.append(msg)
        out: dict[str, Any] = {"messages": messages}
        if conv.preference is not None:
            out["chosen"] = self.encode(Conversation([conv.preference.chosen]))["messages"][0]
            out["rejected"] = self.encode(Conversation([conv.preference.rejected]))["messages"][0]
        if conv.label is not None:
            out["kto_tag"] = conv.label
        if conv.tools is not None:
            out["tools"] = _tools_value(conv.tools)
        out.update(conv.extra)
        if conv.kind != "chat":
            out = _as_trl(out)
        if conv.provenance is not None:
            out["provenance"] = conv.provenance
        return out

    def dataset_info(self, file_name: str, columns=(), traits=frozenset()) -> dict[str, Any]:
        """Read as ShareGPT with OpenAI's tags, which LLaMA-Factory converts
        exactly; a file with tool calls needs its ``openai`` formatting
        (LLaMA-Factory 0.9.4 and later), which reads ``tool_calls`` but also
        appends a line to every system prompt."""
        if "prompt" in columns and "messages" not in columns:
            raise Unrepresentable("preference and KTO records are written in TRL's shape (prompt, chosen/rejected or completion/label), which LLaMA-Factory does not read; for LLaMA-Factory write --to sharegpt or alpaca")
        named = {"messages": "messages", **optional_columns(columns, {"tools": "tools"})}
        tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "observation_tag": "tool", "system_tag": "system"}
        entry: dict[str, Any] = {"file_name": file_name, "formatting": "sharegpt"}
        if "function_calls" in traits:
            entry["formatting"] = "openai"
            tags["function_tag"] = "function_call"
        return {"file_name": file_name, "formatting": entry["formatting"], "columns": named, "tags": tags}


def _parts_text(i: int, parts: list[Any]) -> str:
    """The text of a message whose content is a list of parts."""
    texts = []
    for n, part in enumerate(parts, 1):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise RecordError(f"message {i}: content part {n} must be an object with a 'type'")
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                raise RecordError(f"message {i}: text part {n} has no 'text' string")
            texts.append(part["text"])
    return "\n".join(texts)


def _parts_with_text(parts: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The parts as they came, their text replaced by ``text`` when a step
    changed it: in the one text part, or (several text parts) all in the first."""
    if _parts_text(0, parts) == text:
        return parts
    out, placed = [], False
    for part in parts:
        if part["type"] != "text":
            out.append(part)
        elif not placed:
            out.append({**part, "text": text})
            placed = True
    return out


def _as_trl(record: dict[str, Any]) -> dict[str, Any]:
    """Preference and KTO records in TRL's conversational shape: ``prompt``
    with ``chosen``/``rejected`` (each a list of one message), or with
    ``completion`` and ``label``."""
    out = dict(record)
    messages = out.pop("messages")
    if "chosen" in out:
        out = {"prompt": messages, "chosen": [out.pop("chosen")], "rejected": [out.pop("rejected")], **out}
    elif "kto_tag" in out:
        label = out.pop("kto_tag")
        out = {"prompt": messages[:-1], "completion": messages[-1:], "label": label, **out}
    return out


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
