"""Corpus statistics: what a user wants to see before training on a file.

Conversations, turns per conversation, length per turn by role, language mix,
duplicate rate, lexical diversity (distinct-1/2), and for an augmented file
the yield of each chain and the rejection reasons from its rejects file.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from augment.conversation import SYSTEM, Conversation
from augment.engine.languages import turn_languages

TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def tokens(text: str) -> list[str]:
    """Words, with CJK text cut into characters (it has no spaces)."""
    out: list[str] = []
    for word in TOKEN.findall(text.lower()):
        out.extend(CJK.findall(word) if CJK.search(word) else [word])
    return out


@dataclass
class Stats:
    name: str
    conversations: int = 0
    originals: int = 0
    augmented: int = 0
    turns: list[int] = field(default_factory=list)
    lengths: dict[str, list[int]] = field(default_factory=dict)
    languages: Counter = field(default_factory=Counter)
    duplicates: int = 0
    unigrams: set = field(default_factory=set)
    bigrams: set = field(default_factory=set)
    token_count: int = 0
    bigram_count: int = 0
    #: chain (steps joined by " → ") -> records written
    chains: Counter = field(default_factory=Counter)
    sources: set = field(default_factory=set)
    #: rejection reason (filter or step, first words) -> count, from the rejects file
    rejections: Counter = field(default_factory=Counter)
    _seen: set = field(default_factory=set)

    def add(self, conv: Conversation) -> None:
        self.conversations += 1
        dialogue = [t for t in conv.turns if t.role != SYSTEM]
        self.turns.append(len(dialogue))
        for turn in dialogue:
            self.lengths.setdefault(turn.role, []).append(len(turn.content))
            words = tokens(turn.content)
            self.token_count += len(words)
            self.bigram_count += max(0, len(words) - 1)
            self.unigrams.update(words)
            self.bigrams.update(zip(words, words[1:]))
        langs = [lang for lang, t in zip(turn_languages(conv), conv.turns) if t.role != SYSTEM and lang]
        self.languages[Counter(langs).most_common(1)[0][0] if langs else "unknown"] += 1
        key = hashlib.blake2b(repr(conv.text_key()).encode(), digest_size=16).digest()
        if key in self._seen:
            self.duplicates += 1
        self._seen.add(key)
        prov = conv.provenance or {}
        chain = prov.get("chain")
        if chain:
            self.augmented += 1
            self.chains[" → ".join(step["step"] for step in chain)] += 1
        else:
            self.originals += 1
        source = prov.get("source") or {}
        if source:
            self.sources.add((source.get("file"), source.get("line"), source.get("id")))

    def add_rejects(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in entries:
            reason = str(entry.get("reason", ""))
            head = reason.split(":", 1)[0] if ":" in reason else reason
            self.rejections[head[:80]] += 1

    # -- figures ------------------------------------------------------------------
    @property
    def distinct1(self) -> float:
        return len(self.unigrams) / self.token_count if self.token_count else 0.0

    @property
    def distinct2(self) -> float:
        return len(self.bigrams) / self.bigram_count if self.bigram_count else 0.0

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.name,
            "conversations": self.conversations,
            "originals": self.originals,
            "augmented": self.augmented,
            "turns_per_conversation": _describe(self.turns),
            "characters_per_turn": {role: _describe(values) for role, values in sorted(self.lengths.items())},
            "languages": dict(self.languages.most_common()),
            "duplicates": self.duplicates,
            "duplicate_rate": self.duplicates / self.conversations if self.conversations else 0.0,
            "distinct_1": round(self.distinct1, 4),
            "distinct_2": round(self.distinct2, 4),
        }
        if self.chains:
            sources = len(self.sources) or self.originals or 1
            out["yield"] = {chain: {"records": n, "per_source": round(n / sources, 2)} for chain, n in self.chains.most_common()}
        if self.rejections:
            out["rejections"] = dict(self.rejections.most_common())
        return out

    def lines(self) -> list[str]:
        s = self.summary()
        t = s["turns_per_conversation"]
        out = [
            f"{self.name}: {self.conversations} conversations ({self.originals} sources, {self.augmented} augmented)",
            f"  turns per conversation: mean {t['mean']}, median {t['median']}, min {t['min']}, max {t['max']}",
        ]
        for role, d in s["characters_per_turn"].items():
            out.append(f"  characters per {role} turn: mean {d['mean']}, median {d['median']}, p90 {d['p90']}")
        total = self.conversations or 1
        out.append("  languages: " + ", ".join(f"{lang} {n / total:.0%}" for lang, n in s["languages"].items()))
        out.append(f"  exact duplicates: {self.duplicates} ({s['duplicate_rate']:.1%})")
        out.append(f"  lexical diversity: distinct-1 {s['distinct_1']:.3f}, distinct-2 {s['distinct_2']:.3f}")
        for chain, y in s.get("yield", {}).items():
            out.append(f"  yield of {chain}: {y['records']} records, {y['per_source']} per source")
        for reason, n in s.get("rejections", {}).items():
            out.append(f"  rejected {n}: {reason}")
        return out


def _describe(values: list[int]) -> dict[str, float]:
    if not values:
        return {"mean": 0, "median": 0, "min": 0, "max": 0, "p90": 0}
    ordered = sorted(values)
    return {
        "mean": round(statistics.fmean(values), 1),
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "p90": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
    }


def rejects_beside(path: str) -> Path | None:
    candidate = Path(f"{path}.rejects.jsonl")
    return candidate if candidate.is_file() else None
