"""Filters about a record's shape: trainers' role rules, exact duplicates, and
a cap on how many records one source may give."""

from __future__ import annotations

import hashlib

import augment
from augment import Conversation, Filter, FilterContext, Option, between, problems


class RoleOrder(Filter):
    name = "role-order"
    summary = "drop records that break the trainers' role rules (what 'augment validate' reports)"
    stateless = True

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        found = problems(conversation)
        return found[0] if found else None


class ExactDuplicates(Filter):
    name = "exact-duplicates"
    summary = "drop a record whose turns are the same as an earlier record's"

    def start(self) -> None:
        self.seen: set[bytes] = set()

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        digest = hashlib.blake2b(repr(conversation.text_key()).encode(), digest_size=16).digest()
        if digest in self.seen:
            return "the same turns as an earlier record"
        self.seen.add(digest)
        return None


class MaxPerSource(Filter):
    name = "max-per-source"
    summary = "keep at most N records made from one source record (the source counts)"
    options = (Option("max", int, 5, "records one source may give", check=between(1, 1_000_000)),)

    def start(self) -> None:
        self.counts: dict[int, int] = {}

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        n = self.counts.get(context.ordinal, 0)
        if n >= self.values["max"]:
            return f"source already gave {self.values['max']} records"
        self.counts[context.ordinal] = n + 1
        return None


@augment.hookimpl
def register_filters(register):
    register(RoleOrder)
    register(ExactDuplicates)
    register(MaxPerSource)
