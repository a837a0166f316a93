"""What a filter is, for the core and for plugin authors.

A filter looks at each conversation about to be written and says why it must
not be, or nothing. Filters run in the main process, in output order, so a
filter may remember what it has seen (duplicates, a cap per source) and still
give the same result for any number of workers. Every drop is counted per
filter with its reason, and a record that loses all its outputs goes to the
rejects file with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from augment.engine.augmenters import Configurable
from augment.conversation import Conversation


@dataclass
class FilterContext:
    """What a filter may know about the record it checks besides the record itself."""

    #: The conversation the one being checked was made from (itself for an original).
    source: Conversation
    #: The input record's ordinal: variants of one source share it.
    ordinal: int
    #: True for a source conversation written as it was (not a variant).
    original: bool
    #: The character the record is linked to (see ``augment personas``), if any.
    persona: Any = None


class Filter(Configurable):
    #: True when ``transform`` and ``check`` depend only on the record and its
    #: context: nothing remembered from one record to the next, no model asked.
    #: Such filters, when they come first in the run's list, run in the worker
    #: processes beside the steps. Leave it False when in doubt.
    stateless: bool = False

    def start(self) -> None:
        """Forget what an earlier run saw; called once before the first record."""

    def transform(self, conversation: Conversation, context: FilterContext) -> tuple[Conversation, list[str]]:
        """A filter may also change what is written (scrubbing personal data,
        say): return the conversation to write, and one note per change made
        (counted in the summary). Never change the one given."""
        return conversation, []

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        """Why ``conversation`` must not be written, or None to keep it."""
        return None
