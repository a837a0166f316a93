"""What becomes of one record on its way through a run: a sum type.

The engine gives each input record a list of fates: the conversations to
write (:class:`Kept`), the variants a step did not make (:class:`Dropped`),
the turns a step passed over (:class:`Skipped`) or whose change was undone
(:class:`Restored`, a kind of Skipped), and what rejects the record
(:class:`Failed`). The run counts them, filters and writes the kept ones, and
sends the failed ones to the rejects file; nothing else describes a fate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from augment.conversation import Conversation


@dataclass(frozen=True)
class Kept:
    """A conversation to write: the source itself, or a variant."""

    conversation: Conversation
    #: True for the source written as it was (not a variant).
    original: bool = False


@dataclass(frozen=True)
class Dropped:
    """A variant a step did not make, and why (the record goes on)."""

    step: str
    reason: str


@dataclass(frozen=True)
class Skipped:
    """Turns a step passed over unchanged (a language it does not handle)."""

    step: str
    reason: str
    turns: int


@dataclass(frozen=True)
class Restored(Skipped):
    """A turn put back as it was in a variant that is kept: the step lost a
    protected span in it (the reason names the span). Counted with the
    skipped turns; the other turns keep their changes."""

    turns: int = 1


@dataclass(frozen=True)
class Failed:
    """Why the record is rejected: unreadable, undecodable, or a step raised."""

    reason: str


Fate = Union[Kept, Dropped, Skipped, Restored, Failed]
