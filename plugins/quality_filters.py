"""Filters on the quality of what augmenters made: near-duplicates (MinHash
LSH, across the output and against the sources), a turn changing language,
turns that grew or shrank too much, and out-of-character or refusal text."""

from __future__ import annotations

import re
from typing import Any

import augment
from augment import ASSISTANT, SYSTEM, Conversation, Filter, FilterContext, Option, between, detect_language, leak

from .minhash_index import MinHashIndex

WORD = re.compile(r"\w+", re.UNICODE)
JUDGEABLE = 40  # letters below which a language guess is not trusted
UNSEEN, SEEN, INDEXED = 0, 1, 2  # what the near-duplicates filter knows of a source


def shingles(conv: Conversation) -> set[bytes]:
    """Word 3-grams of the dialogue (character 3-grams for unspaced scripts)."""
    text = "\n".join(t.content.lower() for t in conv.turns if t.role != SYSTEM)
    words = WORD.findall(text)
    if sum(len(w) for w in words) > 4 * max(1, len(words)):  # long "words": Chinese, Japanese
        words = [ch for ch in text if not ch.isspace()]
    if len(words) < 3:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2)}


class NearDuplicates(Filter):
    name = "near-duplicates"
    summary = "drop a record too similar (MinHash Jaccard) to an earlier record or to any source"
    options = (
        Option("threshold", float, 0.9, "similarity from which a record is a near-duplicate", check=between(0.1, 1.0)),
        Option("num_perm", int, 128, "MinHash permutations (more: more precise, slower)", check=between(16, 1024)),
    )

    def start(self) -> None:
        from datasketch import MinHash

        #: Kept records' MinHash values, banded as datasketch's MinHashLSH bands
        #: them, in a temporary database on disk: memory stays flat however many.
        self.index = MinHashIndex(self.values["threshold"], self.values["num_perm"])
        #: Per source ordinal, one byte: UNSEEN, SEEN, or INDEXED (its source's values are in the index).
        self.sources = bytearray()
        self._first = MinHash(num_perm=self.values["num_perm"], seed=1)  # its permutations serve every record

    def _minhash(self, conv: Conversation):
        from datasketch import MinHash

        first = self._first
        m = MinHash(num_perm=first.num_perm, seed=1, permutations=first.permutations, scheme=first.scheme)
        m.update_batch(sorted(shingles(conv)))
        return m.hashvalues

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        ordinal = context.ordinal
        if ordinal >= len(self.sources):
            self.sources.extend(bytes(ordinal + 1 - len(self.sources)))
        if self.sources[ordinal] == UNSEEN:
            self.sources[ordinal] = SEEN
            if not context.original:  # a variant is judged against its source too
                self.index.insert(self._minhash(context.source))
                self.sources[ordinal] = INDEXED
        values = self._minhash(conversation)
        best = max((_jaccard(values, other) for other in self.index.candidates(values)), default=0.0)
        if best >= self.values["threshold"]:
            return f"near-duplicate of an earlier record or its source (similarity {best:.2f})"
        if not context.original or self.sources[ordinal] != INDEXED:
            self.index.insert(values)
            if context.original:
                self.sources[ordinal] = INDEXED
        return None


def _jaccard(a: Any, b: Any) -> float:
    """``MinHash.jaccard`` on two MinHashes' values (same seed, scheme and size)."""
    import numpy as np  # loaded already by datasketch; not at every command's start

    return float(np.count_nonzero(a == b)) / float(len(a))


def _aligned(conv: Conversation, context: FilterContext):
    """(index, source turn, new turn) for turns of a variant that differ from its source."""
    if context.original:
        return
    for i, (old, new) in enumerate(zip(context.source.turns, conv.turns)):
        if old.content != new.content and old.role == new.role:
            yield i, old, new


class SameLanguage(Filter):
    name = "same-language"
    summary = "drop a variant whose changed turn is not in its source turn's language"
    stateless = True

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        for i, old, new in _aligned(conversation, context):
            if sum(c.isalpha() for c in old.content) < JUDGEABLE or sum(c.isalpha() for c in new.content) < JUDGEABLE:
                continue
            was, now = detect_language(old.content), detect_language(new.content)
            if was and now and was != now:
                return f"turn {i + 1} is in {now}, its source in {was}"
        return None


class LengthRatio(Filter):
    name = "length-ratio"
    summary = "drop a variant whose changed turn grew or shrank beyond bounds against its source turn"
    stateless = True
    options = (
        Option("min", float, 0.5, "shortest allowed, as a share of the source turn's length", check=between(0.0, 1.0)),
        Option("max", float, 2.0, "longest allowed, as a multiple of the source turn's length", check=between(1.0, 100.0)),
    )

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        for i, old, new in _aligned(conversation, context):
            if len(old.content) < 10:
                continue
            ratio = len(new.content) / len(old.content)
            if ratio < self.values["min"] or ratio > self.values["max"]:
                return f"turn {i + 1} is {ratio:.2f} times the length of its source"
        return None


class OutOfCharacter(Filter):
    name = "out-of-character"
    summary = "drop a record whose assistant steps out of the role or refuses ('As an AI language model ...')"
    stateless = True

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        for i, turn in enumerate(conversation.turns):
            if turn.role == ASSISTANT:
                found = leak(turn.content)
                if found:
                    return f"assistant turn {i + 1}: {found!r}"
        return None


@augment.hookimpl
def register_filters(register):
    register(NearDuplicates)
    register(SameLanguage)
    register(LengthRatio)
    register(OutOfCharacter)
