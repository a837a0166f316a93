"""Running a chain of augmenters over one conversation.

Each step makes ``variants`` new conversations from each conversation it is
given, so a chain multiplies. Randomness comes only from a generator seeded by
``(seed, record ordinal, step, variant path)``, so a record's output does not
depend on which worker handles it or on what came before it.

Every output carries provenance: the source, the seed, and the chain with each
step's options and the variant taken.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any, Iterator

from .augmenters import Augmenter, StepContext
from .conversation import SYSTEM, Conversation
from .errors import AugmentError
from .protect import Protector


@dataclass
class Step:
    augmenter: Augmenter
    variants: int = 1
    roles: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.augmenter.name

    @property
    def touched_roles(self) -> tuple[str, ...]:
        return self.roles if self.roles is not None else self.augmenter.roles

    def describe(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "options": dict(self.augmenter.values),
            "roles": list(self.touched_roles),
            "variants": self.variants,
        }


@dataclass
class Outcome:
    """One thing the engine produced for a record: a conversation to write, or
    a variant dropped with its reason."""

    conversation: Conversation | None
    reason: str | None = None
    step: str | None = None
    #: The step raised: the record is rejected, not just the variant dropped.
    failed: bool = False


@dataclass
class Engine:
    steps: list[Step]
    seed: int = 0
    keep_originals: bool = True
    protector: Protector = field(default_factory=Protector)

    def derive(self, ordinal: int, path: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}/{ordinal}/{path}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def expand(self, conv: Conversation, ordinal: int) -> Iterator[Outcome]:
        """The original (when kept) and every surviving variant of ``conv``."""
        source = _source(conv)
        seen = {conv.text_key()}
        if self.keep_originals:
            original = conv.copy()
            original.provenance = self._provenance(conv, source, [])
            yield Outcome(original)

        protector = self.protector.with_words(_names(conv))
        current: list[tuple[Conversation, list[dict[str, Any]], str]] = [(conv, [], "")]
        for index, step in enumerate(self.steps):
            described = step.describe()
            following: list[tuple[Conversation, list[dict[str, Any]], str]] = []
            for parent, chain, path in current:
                for variant in range(step.variants):
                    vpath = f"{path}{index}.{variant}/"
                    seed = self.derive(ordinal, vpath)
                    ctx = StepContext(random.Random(seed), step.touched_roles, protector, seed)
                    try:
                        child = step.augmenter.augment(parent, ctx)
                    except AugmentError:
                        raise
                    except Exception as exc:  # a bug in a plugin costs one record, not the run
                        yield Outcome(None, f"step {step.name} failed: {type(exc).__name__}: {exc}", step.name, failed=True)
                        continue
                    broken = _broken_span(protector, parent, child)
                    if broken:
                        yield Outcome(None, f"protected span {broken!r} changed", step.name)
                        continue
                    key = child.text_key()
                    if key in seen:
                        yield Outcome(None, "identical to its source or to another variant", step.name)
                        continue
                    seen.add(key)
                    following.append((child, chain + [{**described, "variant": variant}], vpath))
            current = following
        if not self.steps:
            return
        for child, chain, _ in current:
            child.provenance = self._provenance(conv, source, chain)
            yield Outcome(child)

    def _provenance(self, conv: Conversation, source: dict[str, Any], chain: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"source": source, "seed": self.seed, "chain": chain, "model": None}
        earlier = conv.provenance or {}
        if earlier.get("repairs"):
            out["repairs"] = earlier["repairs"]
        previous = {k: v for k, v in earlier.items() if k != "repairs"}
        if previous:
            out["previous"] = previous
        return out


def _source(conv: Conversation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if conv.location is not None:
        out["file"] = conv.location.file
        out["line"] = conv.location.line
    if "id" in conv.extra:
        out["id"] = conv.extra["id"]
    return out


def _names(conv: Conversation) -> list[str]:
    return [t.name for t in conv.turns if t.name]


def _broken_span(protector: Protector, before: Conversation, after: Conversation) -> str | None:
    """The first protected span of ``before`` missing from the same turn of ``after``."""
    for old, new in zip(before.turns, after.turns):
        if old.role == SYSTEM and new.role == SYSTEM and old.content == new.content:
            continue
        lost = protector.missing(old.content, new.content)
        if lost:
            return lost[0]
    return None
