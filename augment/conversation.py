"""The conversation model: what every format decodes into and encodes from.

No I/O here. A conversation is a list of turns; a system prompt, when there is
one, is the first turn with role ``system``. Anything a format reads but the
model has no slot for travels in ``extra`` (record level) or ``Turn.extra``
(message level), so writing it back loses nothing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

SYSTEM = "system"
USER = "user"
ASSISTANT = "assistant"
FUNCTION_CALL = "function_call"
OBSERVATION = "observation"

ROLES = (SYSTEM, USER, ASSISTANT, FUNCTION_CALL, OBSERVATION)
#: Roles on the prompt side of a training pair and on the answer side.
PROMPT_ROLES = (USER, OBSERVATION)
ANSWER_ROLES = (ASSISTANT, FUNCTION_CALL)


@dataclass(frozen=True)
class Location:
    """Where a record came from: a file (or ``<stdin>``) and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def __reduce__(self) -> tuple:
        return (Location, (self.file, self.line))  # a plain tuple crosses to and from worker processes fastest


@dataclass
class Turn:
    """One message: its role, text, speaker name, and what else its format carried."""

    role: str
    content: str
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    def copy(self) -> "Turn":
        """A deep copy to change freely."""
        clone = object.__new__(type(self))  # copy.copy's result, without its dispatch
        clone.__dict__.update({name: value if type(value) in _ATOMIC else _tree_copy(value) for name, value in vars(self).items()})
        return clone


#: What ``copy.deepcopy`` gives back as it is.
_ATOMIC = frozenset({str, int, float, bool, type(None), bytes})


def _tree_copy(value: Any) -> Any:
    """``copy.deepcopy`` of data read from JSON (dicts, lists, strings,
    numbers), a tenth of its time; any other type goes to ``copy.deepcopy``.
    (Read from JSON, no object is shared between two places, so none that
    deepcopy would keep shared is split.)"""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        return {key if type(key) in _ATOMIC else copy.deepcopy(key): _tree_copy(item) for key, item in value.items()}
    if kind is list:
        return [_tree_copy(item) for item in value]
    return copy.deepcopy(value)


@dataclass
class Preference:
    """A preference pair (DPO): two answers to the conversation's last user
    turn, the one to prefer and the one to avoid. Each is an assistant turn
    (or a function call)."""

    chosen: Turn
    rejected: Turn


@dataclass
class Conversation:
    """One record as every format reads and writes it: the dialogue's turns, and
    what travels with them (tools, preference or label, provenance, extras)."""

    turns: list[Turn] = field(default_factory=list)
    tools: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Preference data (DPO): the dialogue ends with a user turn, and these
    #: are the two answers to it.
    preference: Preference | None = None
    #: Labelled data (KTO): whether the last answer is desirable.
    label: bool | None = None
    #: Provenance carried in the record (from an earlier run) and added by this one.
    provenance: dict[str, Any] | None = None
    #: Where the record was read from; not part of the record itself.
    location: Location | None = field(default=None, compare=False)
    #: What a reader did while decoding (``left out 2 system line(s)``): counted
    #: in the summary, not written.
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def system(self) -> str | None:
        if self.turns and self.turns[0].role == SYSTEM:
            return self.turns[0].content
        return None

    @property
    def dialogue(self) -> list[Turn]:
        """The turns after the system prompt."""
        return self.turns[1:] if self.system is not None else list(self.turns)

    def copy(self) -> "Conversation":
        """A deep copy to change freely (its location is this one's)."""
        clone = copy.copy(self)
        for name, value in vars(self).items():
            if name == "location" or type(value) in _ATOMIC:
                continue
            if name == "turns":
                clone.turns = [turn.copy() for turn in value]
            elif name == "preference":
                clone.preference = copy.copy(value)
                clone.preference.chosen, clone.preference.rejected = value.chosen.copy(), value.rejected.copy()
            else:
                setattr(clone, name, _tree_copy(value))
        return clone

    @property
    def kind(self) -> str:
        """``chat``, ``preference`` (DPO) or ``labelled`` (KTO)."""
        if self.preference is not None:
            return "preference"
        if self.label is not None:
            return "labelled"
        return "chat"

    def text_key(self) -> tuple:
        """What makes two conversations the same data for training."""
        tools = self.tools if self.tools is None or isinstance(self.tools, str) else json.dumps(self.tools, sort_keys=True)
        key = tuple((t.role, t.name, t.content) for t in self.turns) + (tools,)
        if self.preference is not None:
            key += (("chosen", self.preference.chosen.content), ("rejected", self.preference.rejected.content))
        if self.label is not None:
            key += (("label", self.label),)
        return key
