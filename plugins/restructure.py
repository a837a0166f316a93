"""Sentence restructuring: long sentences split at clause boundaries, short
neighbours joined, in English and Chinese. Offline, no model, no data.

The words stay the words; only where sentences begin and end changes, so a
character's voice survives. Sentences end at ``. ! ? …`` followed by a space
(``Mr.``, ``Dr.`` and the like excepted) and at ``。！？…``; each line of a
turn is worked on by itself, and a sentence with a quotation mark in it is
left whole.

- **split** a sentence over ``--max-words`` words (Chinese: twice as many
  characters) at one clause boundary, chosen at random among those leaving at
  least four words (six characters) each side, then the halves again:
  ``, and`` + a pronoun (``..., and I saw him`` -> ``... I saw him``; not
  ``, and a story``, which may end a list); ``, but`` ``, so`` ``, yet``
  ``, or`` ``, then`` + a pronoun (the word is kept, capitalised); ``; ``;
  ``, which`` when the clause runs to the end (``which`` -> ``That``). A
  question is never split. Chinese: ``；``, ``，`` before 但是 可是 不过 而且 所以
  因此 于是 然后 并且 只是, and any other ``，`` when there is no such one.
- **join** two adjacent sentences of three to ``--join-words`` words
  (Chinese: two to twice as many characters) when the first ends with ``.``
  (``。``), has no comma and does not open with ``And``/``But``/``So``, and the
  second ends with ``.`` or ``!`` (``。！``): ``The fire is warm. I want to
  sleep.`` -> ``The fire is warm, and I want to sleep.``; ``我累了。我想睡觉。``
  -> ``我累了，我想睡觉。``. An English sentence is joined only when its first
  word is safe to lowercase (a pronoun or a determiner; ``I`` stays as it is).

Each possible split or join is made with probability ``--rate``, drawn from
the step's seeded generator, so variants differ and a seed repeats.

Protected spans (names, numbers, ``*actions*``, directions ...) are never
shown to ``augment_text``: each turn is given whole with every protected span
replaced by one opaque character (U+E000), which counts as a word and is put
back as it was, so a sentence is measured and split across the names in it.
A turn that already holds U+E000 is worked on piece by piece instead, as other
text augmenters are.
"""

from __future__ import annotations

import random
import re

import augment
from augment import ASSISTANT, USER, Conversation, Option, StepContext, TextAugmenter, between

#: A sentence's end: Latin punctuation before a space, or Chinese punctuation.
END = re.compile(r"[.!?…]+[\"”’')\]]*\s+|[。！？…]+[”」』）]*\s*")
ABBREVIATIONS = frozenset("mr mrs ms dr st sr jr vs etc mt lt col gen capt sgt prof rev no".split())
QUOTES = re.compile(r"[\"“”「」『』]")
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")

#: Words a clause may start with to stand as a sentence of its own: pronouns
#: only (after ", and a" the words may be the end of a list: "a beard, a scar, and a story").
SUBJECTS = frozenset("i you he she it we they this that there nobody everyone someone nothing everything".split())
#: First words a joined sentence may lowercase, and those it keeps as they are.
LOWERABLE = (SUBJECTS - {"i"}) | frozenset("the a an my your his her its our their these those no".split())
KEPT = frozenset("I I'm I'll I've I'd I’m I’ll I’ve I’d".split())
EN_CLAUSE = re.compile(r",\s+(?P<conj>and|but|so|yet|or|then)\s+(?=(?P<next>[A-Za-z']+))|;\s+|,\s+(?P<which>which)\s+")
ZH_CONNECTIVES = "但是|可是|不过|而且|所以|因此|于是|然后|并且|只是"
ZH_STRONG = re.compile(rf"；|，(?=(?:{ZH_CONNECTIVES}))")
ZH_WEAK = re.compile(r"，")
MIN_WORDS, MIN_CHARS = 4, 6
#: Stands for one protected span in the text ``augment_text`` is given.
MASK = "\ue000"


class Restructure(TextAugmenter):
    name = "restructure"
    summary = "split long sentences at clause boundaries and join short ones (English, Chinese)"
    roles = (USER, ASSISTANT)
    languages = frozenset({"en", "zh"})
    options = (
        Option("max_words", int, 25, "split sentences longer than this many words (Chinese: twice as many characters)", check=between(8, 200)),
        Option("join_words", int, 6, "join adjacent sentences of at most this many words (Chinese: twice as many characters); 0: never", check=between(0, 30)),
        Option("rate", float, 0.8, "share of the possible splits and joins made", check=between(0.0, 1.0)),
    )

    def augment(self, conversation: Conversation, context: StepContext) -> Conversation:
        out = conversation.copy()
        for i in sorted(context.turns):
            out.turns[i].content = self._masked(out.turns[i].content, context)
        return out

    def _masked(self, text: str, context: StepContext) -> str:
        """``text`` restructured whole, its protected spans masked."""
        if MASK in text:
            return context.protector.map_free(text, lambda free: self.augment_text(free, context.rng))
        segments = context.protector.segments(text)
        spans = [piece for piece, protected in segments if protected]
        new = self.augment_text("".join(MASK if protected else piece for piece, protected in segments), context.rng)
        if new.count(MASK) != len(spans):
            return text  # never happens: no rule removes a span
        pieces = iter(spans)
        return re.sub(MASK, lambda _: next(pieces), new)

    def augment_text(self, text: str, rng: random.Random) -> str:
        return "\n".join(self._line(line, rng) for line in text.split("\n"))

    def _line(self, line: str, rng: random.Random) -> str:
        zh = len(CJK.findall(line)) > len(LATIN.findall(line))
        parts = sentences(line)
        out: list[str] = []
        i = 0
        while i < len(parts):
            body, tail = parts[i]
            if i + 1 < len(parts) and self._joinable(body, parts[i + 1][0], zh) and rng.random() < self.values["rate"]:
                nxt, tail = parts[i + 1]
                body = body[:-1] + "，" + nxt if zh else body[:-1] + ", and " + (nxt if nxt.split()[0] in KEPT else _lower_first(nxt))
                i += 1
            elif self._size(body, zh) > self._limit(zh):
                body = self._split(body, zh, rng)
            out.append(body + tail)
            i += 1
        return "".join(out)

    def _limit(self, zh: bool) -> int:
        return self.values["max_words"] * (2 if zh else 1)

    @staticmethod
    def _size(body: str, zh: bool) -> int:
        return len(CJK.findall(body)) if zh else len(body.split())

    def _joinable(self, first: str, second: str, zh: bool) -> bool:
        limit = self.values["join_words"] * (2 if zh else 1)
        if not limit or QUOTES.search(first + second) or re.search(r"[,，;；]", first) or re.match(r"(?i)(?:and|but|or|so|yet)\b", first):
            return False  # no run-ons: the first sentence is a plain one
        low = 2 if zh else 3
        if not (low <= self._size(first, zh) <= limit and low <= self._size(second, zh) <= limit):
            return False
        if zh:
            return first.endswith("。") and not first.endswith("……") and second[-1:] in ("。", "！")
        word = re.match(r"[A-Za-z'’]+", second)
        safe = word is not None and (word.group() in KEPT or (word.group().lower() in LOWERABLE and word.group()[1:].islower() | (len(word.group()) == 1)))
        return safe and first.endswith(".") and not first.endswith("..") and second[-1:] in (".", "!") and not second.endswith("..")

    def _split(self, body: str, zh: bool, rng: random.Random) -> str:
        if QUOTES.search(body) or body[-1:] in ("?", "？") or rng.random() >= self.values["rate"]:
            return body
        cuts = self._cuts(body, zh)
        if not cuts:
            return body
        start, end, opener = rng.choice(cuts)
        left = body[:start].rstrip() + ("。" if zh else ".")
        right = opener + body[end:] if opener else _upper_first(body[end:])
        left, right = (self._split(h, zh, rng) if self._size(h, zh) > self._limit(zh) else h for h in (left, right))
        return left + ("" if zh else " ") + right

    def _cuts(self, body: str, zh: bool) -> list[tuple[int, int, str]]:
        """``(start, end, new opening)`` for each clause boundary that leaves
        long enough halves: ``body[:start]`` ends a sentence and the next one
        starts with the opening and ``body[end:]``."""
        if zh:
            found = [(m.start(), m.end(), "") for m in ZH_STRONG.finditer(body)]
            if not found:
                found = [(m.start(), m.end(), "") for m in ZH_WEAK.finditer(body)]
            return [c for c in found if min(len(CJK.findall(body[: c[0]])), len(CJK.findall(body[c[1] :]))) >= MIN_CHARS]
        cuts = []
        for m in EN_CLAUSE.finditer(body):
            conj = m.group("conj")
            if conj and (m.group("next") or "").lower() not in SUBJECTS:
                continue  # ", and ran out": no subject, no sentence
            if m.group("which") and re.search(r"[,;]", body[m.end() :]):
                continue  # "the sword, which was old, broke": the clause is inside
            opener = "That " if m.group("which") else conj.capitalize() + " " if conj and conj != "and" else ""
            cuts.append((m.start(), m.end(), opener))
        return [c for c in cuts if len(body[: c[0]].split()) >= MIN_WORDS and len(body[c[1] :].split()) >= MIN_WORDS]


def sentences(line: str) -> list[tuple[str, str]]:
    """``(sentence, whitespace after it)`` pieces that join back into ``line``."""
    out: list[tuple[str, str]] = []
    start = 0
    for m in END.finditer(line):
        before = line[start : m.start()]
        last = re.search(r"(\w+)$", before)
        if m.group().startswith(".") and last and last.group(1).lower() in ABBREVIATIONS:
            continue
        piece = line[start : m.end()]
        body = piece.rstrip()
        out.append((body, piece[len(body) :]))
        start = m.end()
    if start < len(line):
        piece = line[start:]
        body = piece.rstrip()
        out.append((body, piece[len(body) :]))
    return out


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@augment.hookimpl
def register_augmenters(register):
    register(Restructure)
