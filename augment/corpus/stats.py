"""Corpus statistics: what a user wants to see before training on a file.

Conversations, turns, length per turn by role, estimated tokens against a
trainer's cutoff, characters, language mix, duplicates and near-duplicates,
lexical diversity (distinct-1/2), and for an augmented file the yield of each
chain, how much of its sources it changed, and the rejection reasons.

Two counting rules, the same for every language:

- *words* (distinct-n, changed share): runs of letters or digits, lower-cased;
  Chinese, Japanese and Korean text, which has no spaces (or syllable blocks),
  counts each character as a word.
- *tokens* (:func:`estimate_tokens`): a CJK character or CJK punctuation mark is
  one token, any other word 1.3 tokens, spaces and other punctuation nothing,
  plus :data:`TEMPLATE_TOKENS` a turn for the chat template: about what the
  Llama and Qwen tokenizers give, without loading one.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from array import array
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable

from augment.conversation import ASSISTANT, SYSTEM, Conversation
from augment.corpus.minhash import hashvalues
from augment.corpus.similarity import Signatures
from augment.engine.languages import turn_languages
from augment.patterns import LazyPattern

CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# The CJK patterns compile on first use: re builds a class of CJK ranges code
# point by code point (3-4 ms each), and text whose characters all come
# before U+3000 (ASCII, accents, typographic punctuation) never needs them.
CJK_FROM = "\u3000"  # the first character any of them matches
CJK = LazyPattern(f"[{CJK_CHARS}]")
TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
PIECE = LazyPattern(f"[{CJK_CHARS}]|[^{CJK_CHARS}]+")
#: Counted one token each by the estimate: CJK characters, CJK and full-width punctuation.
CJK_TOKEN = LazyPattern(f"[{CJK_CHARS}\u3000-\u303f\uff00-\uffef]")
OTHER_WORD = LazyPattern(f"[^\\W{CJK_CHARS}]+", re.UNICODE)
#: ``OTHER_WORD`` for text with no character from ``CJK_FROM`` on.
WORD = re.compile(r"\w+")
#: A filter's or step's name at the head of a reason; numbers, left out of a reason to group it.
NAME = re.compile(r"[a-z][a-z0-9_-]*")
NUMBER = re.compile(r"\d+(\.\d+)?")
TOKENS_PER_WORD = 1.3
TEMPLATE_TOKENS = 4
#: LLaMA-Factory's default ``cutoff_len``.
DEFAULT_CUTOFF = 2048
#: The MinHash of a conversation's signature: its permutations and their seed.
NUM_PERM, SEED = 64, 1
#: Variants whose originals are not in the file kept for the changed share.
PENDING = 2000
UNNAMED = "(unnamed)"


def tokens(text: str) -> list[str]:
    """Words, lower-cased, with CJK text cut into characters (it has no spaces)."""
    text = text.lower()
    words = TOKEN.findall(text)
    if text.isascii() or max(text) < CJK_FROM or CJK.search(text) is None:
        return words  # no word holds a CJK character
    out: list[str] = []
    for word in words:
        out.extend(PIECE.findall(word) if CJK.search(word) else [word])
    return out


def estimate_tokens(text: str) -> float:
    """Tokens a tokenizer would make of ``text``, estimated (see the module doc)."""
    if text.isascii() or max(text) < CJK_FROM:  # no CJK token, and OTHER_WORD's words are \w runs
        return TOKENS_PER_WORD * len(WORD.findall(text))
    return len(CJK_TOKEN.findall(text)) + TOKENS_PER_WORD * len(OTHER_WORD.findall(text))


def conversation_tokens(conv: Conversation) -> int:
    """The estimated length of a conversation as a trainer sees it: every turn,
    system prompt and preference answers included, and the chat template."""
    turns = list(conv.turns) + ([conv.preference.chosen, conv.preference.rejected] if conv.preference else [])
    return math.ceil(sum(estimate_tokens(t.content) + TEMPLATE_TOKENS for t in turns))


def characters_of(conv: Conversation, persona: Any = None) -> Counter:
    """Assistant turns per character: the linked persona's name, else each
    assistant turn's speaker name, else ``(unnamed)``."""
    answers = [t for t in conv.turns if t.role == ASSISTANT]
    if persona is not None:
        return Counter({persona.name: len(answers)}) if answers else Counter({persona.name: 0})
    named = Counter(t.name or UNNAMED for t in answers)
    return named or Counter({UNNAMED: 0})


def signature(words: list[str]) -> Any:
    """The MinHash values of a dialogue's word 3-grams (character 3-grams for
    CJK), as the near-duplicates filter hashes them; ``words``: the
    ``tokens`` of its turns (the system prompt's left out), turn after turn."""
    grams = {" ".join(words[i : i + 3]).encode() for i in range(max(1, len(words) - 2))}
    return hashvalues(sorted(grams), NUM_PERM, SEED)  # datasketch's values, without importing it (see augment.corpus.minhash)


def changed_share(pairs: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """(words changed, words in all) between aligned (source, variant) texts:
    1 − matched share of a word diff, both sides counted."""
    from difflib import SequenceMatcher

    changed = total = 0
    for before, after in pairs:
        a, b = tokens(before), tokens(after)
        matched = sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
        changed += len(a) + len(b) - 2 * matched
        total += len(a) + len(b)
    return changed, total


class Tally:
    """Numbers counted by value (lengths, turn counts, rounded similarities):
    what their mean, median, p90 and histograms need, in memory that grows
    with the distinct values rather than with the corpus. Made from values,
    or from a mapping of value to count."""

    __slots__ = ("counts", "n")

    def __init__(self, values: Iterable[float] = ()) -> None:
        self.counts: Counter = Counter(values)
        self.n = sum(self.counts.values())

    def add(self, value: float) -> None:
        self.counts[value] += 1
        self.n += 1

    def __len__(self) -> int:
        return self.n

    def at(self, k: int) -> float:
        """The ``k``-th value in ascending order (from 0)."""
        for value in sorted(self.counts):
            k -= self.counts[value]
            if k < 0:
                return value
        raise IndexError(k)

    def above(self, limit: float) -> int:
        return sum(c for v, c in self.counts.items() if v > limit)

    def describe(self, digits: int = 1) -> dict[str, float]:
        """``_describe`` of the values, to the last bit: the mean from their
        exact sum, rounded once (as ``statistics.fmean``'s ``fsum``)."""
        if not self.n:
            return _describe([], digits)
        return _ranked(self.n, float(sum(Fraction(v) * c for v, c in self.counts.items())), self.at, digits)


def describe_floats(values: array, digits: int = 1) -> dict[str, float]:
    """``_describe`` of an array of floats (8 bytes each, sorted by numpy
    rather than as a list of float objects), to the last bit."""
    import numpy as np

    if not values:
        return _describe([], digits)
    ordered = np.sort(np.frombuffer(values, dtype=np.float64))
    return _ranked(len(values), math.fsum(values), lambda k: float(ordered[k]), digits)


def _ranked(n: int, total: float, at: Callable[[int], float], digits: int) -> dict[str, float]:
    """``_describe``'s figures of ``n`` values from their sum (rounded once,
    as ``statistics.fmean``'s ``fsum``) and ``at(k)``, the k-th smallest."""
    middle = n // 2
    out = {
        "mean": total / n,
        "median": at(middle) if n % 2 else (at(middle - 1) + at(middle)) / 2,
        "min": at(0),
        "max": at(n - 1),
        "p90": at(min(n - 1, int(n * 0.9))),
    }
    return {k: _number(v, digits) for k, v in out.items()}


@dataclass
class Distinct:
    unigrams: set = field(default_factory=set)
    bigrams: set = field(default_factory=set)
    count: int = 0
    pairs: int = 0

    def add(self, words: list[str]) -> None:
        self.count += len(words)
        self.pairs += max(0, len(words) - 1)
        self.unigrams.update(words)
        self.bigrams.update(zip(words, words[1:]))

    def figures(self) -> dict[str, float]:
        return {"distinct_1": round(len(self.unigrams) / self.count, 4) if self.count else 0.0,
                "distinct_2": round(len(self.bigrams) / self.pairs, 4) if self.pairs else 0.0, "words": self.count}


@dataclass
class Stats:
    name: str
    cutoff: int = DEFAULT_CUTOFF
    #: ``source_of(variants)``: their source conversations (None where not found), for the changed share.
    source_of: Callable[[list[Conversation]], list[Conversation | None]] | None = None
    conversations: int = 0
    originals: int = 0
    augmented: int = 0
    # per conversation (and per turn): counted by value
    turns: Tally = field(default_factory=Tally)
    lengths: dict[str, Tally] = field(default_factory=dict)
    token_lengths: Tally = field(default_factory=Tally)
    languages: Counter = field(default_factory=Counter)
    #: conversations whose text another one before them has (counted by ``finish``)
    duplicates: int = 0
    distinct: Distinct = field(default_factory=Distinct)
    by_language: dict[str, Distinct] = field(default_factory=dict)
    #: character -> [conversations, assistant turns]
    characters: dict[str, list[int]] = field(default_factory=dict)
    #: chain (steps joined by " → ") -> records written
    chains: Counter = field(default_factory=Counter)
    #: chain -> role -> [changed, total] words; chain -> each variant's changed share
    changes: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    change_shares: dict[str, array] = field(default_factory=dict)
    unmatched: int = 0
    similarity: Tally = field(default_factory=Tally)
    #: the sources the variants name (counted by ``finish``)
    sources: int = 0
    #: rejection reason (filter or step, first words) -> count, from the rejects file
    rejections: Counter = field(default_factory=Counter)
    #: each conversation's text digest (16 bytes), to count the duplicates
    _keys: bytearray = field(default_factory=bytearray)
    #: a hash (8 bytes) of each variant's source, to count the sources
    _source_hashes: array = field(default_factory=lambda: array("Q"))
    #: each conversation's MinHash values (in a temporary file past a size)
    _signatures: Signatures = field(default_factory=lambda: Signatures(NUM_PERM))
    _originals: OrderedDict = field(default_factory=OrderedDict)
    _pending: list = field(default_factory=list)

    def add(self, conv: Conversation, persona: Any = None) -> None:
        self.conversations += 1
        dialogue = [t for t in conv.turns if t.role != SYSTEM]
        self.turns.add(len(dialogue))
        self.token_lengths.add(conversation_tokens(conv))
        langs = [lang for lang, t in zip(turn_languages(conv), conv.turns) if t.role != SYSTEM and lang]
        language = Counter(langs).most_common(1)[0][0] if langs else "unknown"
        self.languages[language] += 1
        everything: list[str] = []
        for turn in dialogue:
            self.lengths.setdefault(turn.role, Tally()).add(len(turn.content))
            words = tokens(turn.content)
            self.distinct.add(words)
            self.by_language.setdefault(language, Distinct()).add(words)
            everything += words
        for name, answers in characters_of(conv, persona).items():
            row = self.characters.setdefault(name, [0, 0])
            row[0] += 1
            row[1] += answers
        self._keys += hashlib.blake2b(repr(conv.text_key()).encode(), digest_size=16).digest()
        self._signatures.append(signature(everything))
        prov = conv.provenance or {}
        chain = prov.get("chain")
        source = prov.get("source") or {}
        if source:  # counted, not kept: 8 bytes of a hash instead of the file name, line and id
            where = repr((source.get("file"), source.get("line"), source.get("id"))).encode()
            self._source_hashes.append(int.from_bytes(hashlib.blake2b(where, digest_size=8).digest(), "little"))
        if chain:
            self.augmented += 1
            self.chains[chain_name(chain)] += 1
            self._variant(conv)
        else:
            self.originals += 1
            self._originals[_source_key(conv)] = conv
            if len(self._originals) > 256:  # a variant follows its source in an output
                self._originals.popitem(last=False)

    def _variant(self, conv: Conversation) -> None:
        original = self._originals.get(_source_key(conv))
        if original is not None:
            self._compare(original, conv)
        elif len(self._pending) < PENDING:
            self._pending.append(conv)

    def _compare(self, source: Conversation | None, variant: Conversation) -> None:
        if source is None:
            self.unmatched += 1
            return
        chain = chain_name(variant.provenance["chain"])
        roles = self.changes.setdefault(chain, {})
        changed = total = 0
        for before, after in aligned(source, variant):
            role = (after or before).role
            c, t = changed_share([(before.content if before else "", after.content if after else "")])
            row = roles.setdefault(role, [0, 0])
            row[0] += c
            row[1] += t
            if role != SYSTEM:  # the system prompt changes only when a step names it
                changed, total = changed + c, total + t
        self.change_shares.setdefault(chain, array("d")).append(changed / total if total else 0.0)

    def finish(self) -> "Stats":
        """Figures that need the whole file: the duplicates, the sources, the
        similarity spread, and the changed share of variants whose originals
        were not in it."""
        import numpy as np

        keys = np.frombuffer(self._keys, dtype="V16")  # sorted where they are (their order counts for nothing)
        keys.sort()
        self.duplicates = int((keys[1:] == keys[:-1]).sum())
        hashes = np.frombuffer(self._source_hashes, dtype=np.uint64)
        hashes.sort()
        self.sources = int((hashes[1:] != hashes[:-1]).sum()) + 1 if len(hashes) else 0
        del keys, hashes  # (views: the arrays can grow again)
        if len(self.similarity) != len(self._signatures):
            self.similarity = Tally(self._signatures.highest_similarity())
        pending, self._pending = self._pending, []
        found = self.source_of(pending) if self.source_of and pending else [None] * len(pending)
        for variant, source in zip(pending, found):
            self._compare(source, variant)
        return self

    def add_rejects(self, entries: Iterable[dict[str, Any]]) -> None:
        """Count the reasons: by the filter or step that gave one ("near-duplicates:
        ..."), else by the reason with its numbers left out ("line N: invalid JSON")."""
        for entry in entries:
            reason = str(entry.get("reason", ""))
            head = reason.split(":", 1)[0]
            self.rejections[(head if NAME.fullmatch(head) else NUMBER.sub("N", reason))[:80]] += 1

    # -- figures ------------------------------------------------------------------
    @property
    def distinct1(self) -> float:
        return self.distinct.figures()["distinct_1"]

    @property
    def distinct2(self) -> float:
        return self.distinct.figures()["distinct_2"]

    @property
    def over_cutoff(self) -> int:
        return self.token_lengths.above(self.cutoff)

    def summary(self) -> dict[str, Any]:
        self.finish()
        n = self.conversations or 1
        out: dict[str, Any] = {
            "file": self.name,
            "conversations": self.conversations,
            "originals": self.originals,
            "augmented": self.augmented,
            "turns_per_conversation": self.turns.describe(),
            "characters_per_turn": {role: values.describe() for role, values in sorted(self.lengths.items())},
            "tokens_per_conversation": self.token_lengths.describe(),
            "cutoff_len": self.cutoff,
            "over_cutoff": self.over_cutoff,
            "over_cutoff_rate": round(self.over_cutoff / n, 4),
            "by_character": {name: {"conversations": c, "turns": t} for name, (c, t) in sorted(self.characters.items(), key=lambda kv: (-kv[1][0], kv[0]))},
            "languages": dict(self.languages.most_common()),
            "duplicates": self.duplicates,
            "duplicate_rate": self.duplicates / self.conversations if self.conversations else 0.0,
            "distinct_1": round(self.distinct1, 4),
            "distinct_2": round(self.distinct2, 4),
            "distinct_by_language": {lang: d.figures() for lang, d in sorted(self.by_language.items())},
            "near_duplicate_similarity": {**self.similarity.describe(2), "histogram": similarity_histogram(self.similarity),
                                          "at_least_0.9": sum(c for s, c in self.similarity.counts.items() if s >= 0.9)},
        }
        if self.chains:
            sources = self.sources or self.originals or 1
            out["yield"] = {chain: {"records": k, "per_source": round(k / sources, 2)} for chain, k in self.chains.most_common()}
        if self.change_shares or self.unmatched:
            out["changed"] = {
                chain: {"variants": len(shares), **{k: round(v, 3) for k, v in describe_floats(shares, 3).items() if k in ("mean", "median", "p90")},
                        "by_role": {role: round(c / t, 3) if t else 0.0 for role, (c, t) in sorted(self.changes.get(chain, {}).items()) if c or role != SYSTEM}}
                for chain, shares in self.change_shares.items()
            }
            out["changed_without_source"] = self.unmatched
        if self.rejections:
            out["rejections"] = dict(self.rejections.most_common())
        return out


def chain_name(chain: list[dict[str, Any]]) -> str:
    return " → ".join(str(step.get("step")) for step in chain)


def _source_key(conv: Conversation) -> str:
    from augment.corpus.split import group_key

    return group_key(conv, -1)


def aligned(source: Conversation, variant: Conversation) -> list[tuple[Any, Any]]:
    """(source turn, variant turn) pairs, None where one side has no turn:
    turn by turn when both have as many, else around the turns both have the
    same, and between those by role."""
    from difflib import SequenceMatcher

    a, b = _all_turns(source), _all_turns(variant)
    if len(a) == len(b):
        return list(zip(a, b))
    out: list[tuple[Any, Any]] = []
    for _, i1, i2, j1, j2 in SequenceMatcher(None, [(t.role, t.content) for t in a], [(t.role, t.content) for t in b], autojunk=False).get_opcodes():
        left, right = a[i1:i2], b[j1:j2]
        for op, k1, k2, l1, l2 in SequenceMatcher(None, [t.role for t in left], [t.role for t in right], autojunk=False).get_opcodes():
            if op == "equal":
                out.extend(zip(left[k1:k2], right[l1:l2]))
            else:
                out.extend((t, None) for t in left[k1:k2])
                out.extend((None, t) for t in right[l1:l2])
    return out


def _all_turns(conv: Conversation) -> list[Any]:
    return list(conv.turns) + ([conv.preference.chosen, conv.preference.rejected] if conv.preference else [])


def similarity_histogram(values: Tally) -> list[dict[str, Any]]:
    """Counts in tenths of similarity, 0.0-0.1 ... 0.9-1.0 (1.0 in the last)."""
    counts = [0] * 10
    for v, c in values.counts.items():
        counts[min(9, int(v * 10))] += c
    return [{"from": i / 10, "to": (i + 1) / 10, "conversations": c} for i, c in enumerate(counts)]


def _describe(values: list[float], digits: int = 1) -> dict[str, float]:
    if not values:
        return {"mean": 0, "median": 0, "min": 0, "max": 0, "p90": 0}
    ordered = sorted(values)
    out = {
        "mean": statistics.fmean(values),
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "p90": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
    }
    return {k: _number(v, digits) for k, v in out.items()}


def _number(value: float, digits: int) -> float:
    """``value`` rounded; a whole number as an int (a median of 343.0 is 343)."""
    value = round(value, digits)
    return int(value) if float(value).is_integer() else value


def rejects_beside(path: str) -> Path | None:
    candidate = Path(f"{path}.rejects.jsonl")
    return candidate if candidate.is_file() else None
