"""Alpaca records as LLaMA-Factory reads them, multi-turn included.

``{"system": ..., "history": [[user, assistant], ...], "instruction": ...,
"input": ..., "output": ...}``. The last user turn is ``instruction``, plus
``"\\n" + input`` when ``input`` is not empty; that split is kept as a record-level
``input`` field (as is an empty ``history``) so converting away and back
restores it. Alpaca has no place
for tool turns, speaker names or per-message fields: such records are refused
with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import augment
from augment import ASSISTANT, FUNCTION_CALL, SYSTEM, USER, Conversation, Format, Preference, RecordError, Turn, Unrepresentable, kto_tag, optional_columns, order_problems, split_known, type_name


@dataclass(frozen=True)
class Columns:
    """The column names an Alpaca file uses (LLaMA-Factory's ``columns``)."""

    prompt: str = "instruction"
    query: str = "input"
    response: str = "output"
    history: str = "history"
    system: str = "system"


class Alpaca(Format):
    name = "alpaca"
    summary = "LLaMA-Factory Alpaca: instruction, input, output, system, history [[user, assistant], ...]"

    def __init__(self, columns: Columns = Columns()) -> None:
        self.columns = columns

    def detect(self, record: Any) -> bool:
        return isinstance(record, dict) and self.columns.prompt in record and (self.columns.response in record or "chosen" in record)

    def from_dataset_info(self, entry: dict[str, Any]) -> "Alpaca":
        columns = entry.get("columns") or {}
        known = {k: v for k, v in columns.items() if k in Columns.__dataclass_fields__}
        return Alpaca(replace(self.columns, **known))

    def decode(self, record: dict[str, Any]) -> Conversation:
        col = self.columns
        turns: list[Turn] = []
        system = record.get(col.system)
        if system is not None:
            turns.append(Turn(SYSTEM, _string(system, col.system)))
        history = record.get(col.history)
        if history is not None:
            if not isinstance(history, list):
                raise RecordError(f"field {col.history!r} must be an array of [user, assistant] pairs, got {type_name(history)}")
            for i, pair in enumerate(history, 1):
                if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                    raise RecordError(f"{col.history!r} item {i} must be a [user, assistant] pair of strings")
                turns.append(Turn(USER, pair[0]))
                turns.append(Turn(ASSISTANT, pair[1]))
        if col.prompt not in record:
            raise RecordError(f"missing field {col.prompt!r}")
        preference = None
        if "chosen" in record or "rejected" in record:  # preference data: two answers, no response
            preference = Preference(Turn(ASSISTANT, _string(record.get("chosen"), "chosen")), Turn(ASSISTANT, _string(record.get("rejected"), "rejected")))
        elif col.response not in record:
            raise RecordError(f"missing field {col.response!r}")
        instruction = _string(record[col.prompt], col.prompt)
        query = record.get(col.query)
        query = "" if query is None else _string(query, col.query)
        turns.append(Turn(USER, f"{instruction}\n{query}" if query else instruction))
        if preference is None:
            turns.append(Turn(ASSISTANT, _string(record[col.response], col.response)))
        # An empty history and the input split stay at the record level, so a
        # trip through another format brings them back.
        extra = split_known(record, (col.prompt, col.response, col.system, "provenance", "chosen", "rejected", "kto_tag"))
        if history:
            del extra[col.history]
        return Conversation(turns=turns, extra=extra, provenance=record.get("provenance"), preference=preference, label=kto_tag(record))

    def encode(self, conv: Conversation) -> dict[str, Any]:
        col = self.columns
        if not _plain_pairs(conv):
            _check(conv)
        dialogue = conv.dialogue
        answers = [conv.preference.chosen, conv.preference.rejected] if conv.preference else []
        if conv.preference is not None:
            *pairs, user = dialogue
            answer = None
        else:
            *pairs, user, answer = dialogue
        extra = dict(conv.extra)
        query = extra.pop(col.query, None)
        out: dict[str, Any] = {}
        if conv.system is not None:
            out[col.system] = conv.system
        if pairs:
            out[col.history] = [[pairs[i].content, pairs[i + 1].content] for i in range(0, len(pairs), 2)]
        if query and user.content.endswith("\n" + query):
            out[col.prompt] = user.content[: -len(query) - 1]
            out[col.query] = query
        else:
            out[col.prompt] = user.content
            if query is not None:
                out[col.query] = ""
        if answer is not None:
            out[col.response] = answer.content
        else:
            out["chosen"], out["rejected"] = (t.content for t in answers)
        if conv.label is not None:
            out["kto_tag"] = conv.label
        out.update(extra)
        if conv.provenance is not None:
            out["provenance"] = conv.provenance
        return out

    def dataset_info(self, file_name: str, columns=(), traits=frozenset()) -> dict[str, Any]:
        col = self.columns
        named = {"prompt": col.prompt, **optional_columns(columns, {"query": col.query, "response": col.response, "history": col.history, "system": col.system})}
        entry: dict[str, Any] = {"file_name": file_name, "formatting": "alpaca"}
        if "chosen" in named:
            entry["ranking"] = True
        entry["columns"] = named
        return entry


def _plain_pairs(conv: Conversation) -> bool:
    """True when ``conv`` is what Alpaca holds (the lean path: one pass):
    no tools, an optional system prompt, then user/assistant pairs (a last
    user turn for preference data) with no names or message fields."""
    if conv.tools is not None:
        return False
    turns = conv.turns
    start = 1 if turns and turns[0].role == SYSTEM else 0
    if start and (turns[0].name is not None):
        return False
    n = len(turns) - start
    if n == 0 or n % 2 != (1 if conv.preference is not None else 0):
        return False
    expected = USER
    for turn in turns[start:] if start else turns:
        if turn.role != expected or turn.name is not None or turn.extra:
            return False
        expected = ASSISTANT if expected == USER else USER
    if conv.preference is not None:
        return all(t.role == ASSISTANT and t.name is None and not t.extra for t in (conv.preference.chosen, conv.preference.rejected))
    return True


def _check(conv: Conversation) -> None:
    """Raise Unrepresentable with the first reason ``conv`` cannot be Alpaca
    (in the order users have always seen the reasons), if there is one."""
    if conv.tools is not None:
        raise Unrepresentable("alpaca has no place for tools")
    for i, turn in enumerate(conv.turns, 1):
        if turn.role not in (SYSTEM, USER, ASSISTANT):
            raise Unrepresentable(f"alpaca has no place for {turn.role} turns (turn {i}); write sharegpt or openai")
        if turn.name is not None:
            raise Unrepresentable(f"alpaca has no place for speaker names (turn {i}: {turn.name!r}); write sharegpt or openai")
    found = order_problems(conv)
    if found:
        raise Unrepresentable(f"alpaca needs user/assistant pairs: {found[0]} (try --repair)")
    dialogue = conv.dialogue
    answers = [conv.preference.chosen, conv.preference.rejected] if conv.preference else []
    for i, turn in enumerate(dialogue + answers, 1):
        if turn.extra or turn.name is not None or turn.role == FUNCTION_CALL:
            raise Unrepresentable(f"alpaca has no place for message fields, names or function calls (turn {i})")


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise RecordError(f"field {field!r} must be a string, got {type_name(value)}")
    return value


@augment.hookimpl
def register_formats(register):
    register(Alpaca())
