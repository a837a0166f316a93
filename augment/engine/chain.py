"""Running a chain of augmenters over a batch of conversations.

Each step makes ``variants`` new conversations from each conversation it is
given, so a chain multiplies. Randomness comes only from a generator seeded by
``(seed, record ordinal, step, variant path)``, so a record's output depends
neither on the batch it was in nor on the worker that ran it.

A step may change only the turns in its roles and in a language it handles;
the engine checks that afterwards, along with protected spans and duplicates.
A turn that lost a protected span is put back as it was (a :class:`Restored`
fate says which span); the variant is kept with its other turns' changes, and
dropped only when no changed turn is left.
Every output carries provenance: the source, the seed, and the chain with each
step's options and the variant taken.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from augment.conversation import SYSTEM, Conversation
from augment.engine.augmenters import Augmenter, StepContext
from augment.engine.fate import Dropped, Failed, Fate, Kept, Restored, Skipped
from augment.engine.languages import turn_languages
from augment.engine.protect import Protector, record_names
from augment.errors import AugmentError, VariantRejected


@dataclass
class Step:
    augmenter: Augmenter
    variants: int = 1
    roles: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.augmenter.name

    @property
    def asks_model(self) -> bool:
        return type(self.augmenter).needs_model(self.augmenter.values)

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
class _Branch:
    """A conversation on its way down the chain."""

    conv: Conversation
    chain: list[dict[str, Any]]
    path: str
    languages: list[str | None] | None = None


@dataclass
class _Record:
    conv: Conversation
    ordinal: int
    protector: Protector
    persona: Any = None
    outcomes: list[Fate] = field(default_factory=list)
    seen: set = field(default_factory=set)
    current: list[_Branch] = field(default_factory=list)


@dataclass
class Engine:
    steps: list[Step]
    seed: int = 0
    keep_originals: bool = True
    protector: Protector = field(default_factory=Protector)
    #: The model settings (no key) for provenance, when a step asks a model.
    model: dict[str, Any] | None = None

    def setup(self) -> None:
        for step in self.steps:
            step.augmenter.setup()

    def derive(self, ordinal: int, path: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}/{ordinal}/{path}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def expand(self, conv: Conversation, ordinal: int, persona: Any = None) -> list[Fate]:
        return self.expand_batch([(conv, ordinal, persona)])[0]

    def expand_batch(self, items: list[tuple[Conversation, int, Any]]) -> list[list[Fate]]:
        """For each ``(conversation, ordinal, persona)``: the original (when
        kept) and every surviving variant, plus what was dropped and why. The
        persona's name, every speaker name and the words the record writes as
        names are protected."""
        records = []
        for conv, ordinal, persona in items:
            rec = _Record(conv, ordinal, self._record_protector(conv, persona), persona)
            rec.seen.add(conv.text_key())
            rec.current.append(_Branch(conv, [], ""))
            if self.keep_originals:
                original = conv.copy()
                original.provenance = self._provenance(conv, [])
                rec.outcomes.append(Kept(original, original=True))
            records.append(rec)

        for index, step in enumerate(self.steps):
            self._run_step(index, step, records)

        if self.steps:
            for rec in records:
                for branch in rec.current:
                    branch.conv.provenance = self._provenance(rec.conv, branch.chain)
                    rec.outcomes.append(Kept(branch.conv))
        return [rec.outcomes for rec in records]

    def _run_step(self, index: int, step: Step, records: list[_Record]) -> None:
        wanted = step.augmenter.handled_languages()
        described = step.describe()
        work: list[tuple[_Record, _Branch, int, str, StepContext]] = []
        for rec in records:
            for branch in rec.current:
                in_roles = [i for i, t in enumerate(branch.conv.turns) if t.role in step.touched_roles]
                language = None
                if wanted is not None or step.augmenter.wants_language:
                    if branch.languages is None:
                        branch.languages = turn_languages(branch.conv)
                if wanted is not None:
                    others = [branch.languages[i] for i in in_roles if branch.languages[i] not in wanted]
                    in_roles = [i for i in in_roles if branch.languages[i] in wanted]
                    for lang in sorted(set(others), key=str):
                        n = others.count(lang)
                        why = f"language {lang} not handled" if lang else "language not recognised"
                        rec.outcomes.append(Skipped(step.name, why, n))
                if branch.languages is not None:
                    language = _most_common(branch.languages)
                if not in_roles and not _adds_system(step, branch.conv):
                    rec.outcomes.append(Dropped(step.name, "no turn this step may change"))
                    continue
                for variant in range(step.variants):
                    vpath = f"{branch.path}{index}.{variant}/"
                    seed = self.derive(rec.ordinal, vpath)
                    ctx = StepContext(random.Random(seed), step.touched_roles, rec.protector, seed, frozenset(in_roles), language, variant, rec.persona)
                    work.append((rec, branch, variant, vpath, ctx))
            rec.current = []
        if not work:
            return
        results = step.augmenter.augment_many([(branch.conv, ctx) for _, branch, _, _, ctx in work])
        if len(results) != len(work):
            raise AugmentError(f"step {step.name} returned {len(results)} results for {len(work)} conversations")
        for (rec, branch, variant, vpath, ctx), child in zip(work, results):
            if isinstance(child, VariantRejected):
                rec.outcomes.append(Dropped(step.name, str(child)))
                continue
            if isinstance(child, AugmentError):
                raise child
            if isinstance(child, Exception):
                rec.outcomes.append(Failed(f"step {step.name} failed: {type(child).__name__}: {child}"))
                continue
            problem, restored = _check(branch.conv, child, ctx, step.augmenter.rewrites, _adds_system(step, branch.conv))
            if problem:
                rec.outcomes.append(Dropped(step.name, problem))
                continue
            if restored and child.text_key() == branch.conv.text_key():
                rec.outcomes.append(Dropped(step.name, f"protected span {restored[0][1]} changed"))
                continue  # every change was undone: nothing new
            key = child.text_key()
            if key in rec.seen:
                rec.outcomes.append(Dropped(step.name, "identical to its source or to another variant"))
                continue
            rec.seen.add(key)
            rec.outcomes += [Restored(step.name, f"turn {i + 1} restored: protected span {span} changed") for i, span in restored]
            languages = branch.languages if branch.languages and len(child.turns) == len(branch.conv.turns) else None
            entry = {**described, "variant": variant, **({"facts": dict(ctx.facts)} if ctx.facts else {})}
            rec.current.append(_Branch(child, branch.chain + [entry], vpath, languages))

    def estimate(self, conversations) -> dict[str, int]:
        """Requests and prompt tokens the chain's model steps need at least,
        each step's prompts built on the source conversation (--dry-run);
        ``conversations`` yields ``(conversation, persona)``."""
        total = {"records": 0, "requests": 0, "prompt_tokens": 0}
        for ordinal, (conv, persona) in enumerate(conversations):
            total["records"] += 1
            protector = self._record_protector(conv, persona)
            multiplier = 1
            for index, step in enumerate(self.steps):
                if step.asks_model:
                    turns = frozenset(i for i, t in enumerate(conv.turns) if t.role in step.touched_roles)
                    seed = self.derive(ordinal, f"{index}.0/")
                    ctx = StepContext(random.Random(seed), step.touched_roles, protector, seed, turns, None, 0, persona)
                    requests, tokens = step.augmenter.estimate(conv, ctx)
                    total["requests"] += multiplier * step.variants * requests
                    total["prompt_tokens"] += multiplier * step.variants * tokens
                multiplier *= step.variants
        return total

    def _record_protector(self, conv: Conversation, persona: Any) -> Protector:
        """The run's protector, also guarding the record's names: speakers, the
        persona, and the words the record writes as names anywhere (so a name
        is a name at the start of a line too)."""
        names = [t.name for t in conv.turns if t.name] + ([persona.name] if persona else [])
        names += sorted(record_names(t.content for t in conv.turns))
        return self.protector.with_words(names)

    def _provenance(self, conv: Conversation, chain: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"source": _source(conv), "seed": self.seed, "chain": chain, "model": self.model if chain else None}
        earlier = conv.provenance or {}
        if earlier.get("repairs"):
            out["repairs"] = earlier["repairs"]
        previous = {k: v for k, v in earlier.items() if k != "repairs"}
        if previous:
            out["previous"] = previous
        return out


def _most_common(languages: list[str | None]) -> str | None:
    known = [lang for lang in languages if lang]
    return max(set(known), key=known.count) if known else None


def _source(conv: Conversation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if conv.location is not None:
        out["file"] = conv.location.file
        out["line"] = conv.location.line
    if "id" in conv.extra:
        out["id"] = conv.extra["id"]
    return out


def _adds_system(step: Step, conv: Conversation) -> bool:
    """``step`` may put a system prompt before ``conv``, which has none."""
    return step.augmenter.adds_system and SYSTEM in step.touched_roles and conv.system is None


def _check(before: Conversation, after: Conversation, ctx: StepContext, rewrites: frozenset[str], adds_system: bool = False) -> tuple[str | None, list[tuple[int, str]]]:
    """Why ``after`` may not be kept (a turn changed that the step may not
    touch), or None; and the turns put back as they were in ``after`` because
    they lost a protected span: ``(index, span quoted)``. A system prompt
    the step was allowed to add is not compared: the turns after it are."""
    restored = []
    shift = 1 if adds_system and after.system is not None else 0
    for i, (old, new) in enumerate(zip(before.turns, after.turns[shift:])):
        if old == new:
            continue
        if i not in ctx.turns:
            return f"changed turn {i + 1}, which this step may not touch", []
        lost = ctx.protector.missing(old.content, new.content, rewrites)
        if lost:
            after.turns[i + shift] = old.copy()
            restored.append((i + shift, _quote(lost[0])))
    return None, restored


#: Characters of a span quoted in a reason.
QUOTE_LIMIT = 60


def _quote(span: str) -> str:
    """``span`` as a reason quotes it: repr, at most ``QUOTE_LIMIT`` characters of it."""
    return repr(span if len(span) <= QUOTE_LIMIT else span[: QUOTE_LIMIT - 1] + "…")
