"""Spans of role-play text that augmenters must leave byte for byte.

``*actions*``, stage directions in ``(…)`` and ``（…）``, placeholders such as
``{{char}}`` and ``<USER>``, URLs, e-mail addresses, numbers, code, names,
quoted mentions, text of another script, and any names or patterns the user
adds. A ``Protector`` splits a text into protected and free segments, and
checks afterwards that nothing protected was lost. The rules, and what they
cost:

- **code** (kind ``code block`` when fenced, ``code`` otherwise). Fenced
  blocks (an unclosed fence runs to the end of the text); lines that read as
  code, scored on keywords in code position (``def f(``, ``raise X``, ``if
  x:``, ``import y``), assignments and operators, calls (``f(`` with no space),
  identifiers with ``_`` or inner capitals, brackets and statement ends (``;``
  ``{``); the lines indented under such a line, and blank lines inside; and
  blocks indented by four spaces or a tab after a blank line when a line of
  them has a code sign. Inside prose, identifiers (``calculate_sum``,
  ``parseInt``, ``TypeError``, ``main.py``) and calls (``print(x)``) are code.
  A prose line is almost never scored as code; a line of arithmetic
  (``2 + 2 = 4``) is, and is kept as written.
- **name**: a capitalised word inside a sentence; a capitalised word at the
  start of a sentence, line or list item that is not a dictionary word
  (WordNet's common words, see ``augment.engine.dictionary``), is a common
  first name (``Rose``, ``Mark``: Faker's list) or runs on into a name
  (``Harry Potter``: the run is one name); an all-capitals word;
  a list item or line made only of a few capitalised words (``- Luna
  Lovegood``, ``1. Apples:``: names and labels). Only in text that is not
  mostly another Latin-script language (German capitalises every noun):
  text with more French, Spanish, German ... function words than English ones
  gets no name rules. A record's own capitalised words are added with
  ``with_words`` (the engine does, see ``record_names``), so ``Harbor``
  opening one turn is a name when another turn says ``Harbor Point``. Cost:
  sentence openers that WordNet lacks or that are first names (``Rose petals
  fell``), title-case headings and shouted words are kept as written; a name
  that is a dictionary word and stands alone at a sentence start, once in a
  record (``Will smiled.``), is still missed.
- **mention** (a quoted span the sentence talks about rather than speech): a
  quoted span of at most four words (40 characters, one line) that does not
  end in ``. , ! ? … ;`` — ``synonyms of "close"``, ``"flavor" and
  "satisfied"``, ``“Painting the town red”``; a quoted span in a list of quoted
  spans (``"yes," "no," and "maybe"``); and a quoted span of up to 200
  characters right after a cue (``the word``, ``the phrase``, ``idiom``,
  ``called``, ``means``, ``成语``, ``翻译`` ...) or before one (``"x" means``,
  ``”的意思``). Role-play speech is longer or ends in punctuation (``"Get
  out," she said.``) and stays free; a short bare quote (``he muttered
  "whatever"``) is kept as written.
- **other script**: in a text mostly of one script (CJK counting three
  letters a character, see ``languages.dominant_script``), the runs of another
  (Latin words in a Chinese turn, Chinese in an English one).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Callable, Iterable

from augment.engine.code_spans import FENCED, _code_spans
from augment.engine.text_spans import _NAME_WORD, _NOT_NAMES, CLOSED_WORDS, _mention_spans, _name_spans, _other_script_spans

DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("code block", FENCED),
    ("inline code", r"`[^`\n]+`"),
    ("placeholder", r"\{\{[^{}\n]+\}\}|<USER>|<BOT>"),
    ("action", r"\*[^*\n]+\*"),
    ("direction", r"\([^()\n]*\)|（[^（）\n]*）"),
    ("url", r"\b(?:https?|ftp)://[^\s<>\"']+|\bwww\.[^\s<>\"']+"),
    ("e-mail", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("number", r"\d+(?:[.,:]\d+)*"),
)
#: Kinds found by reading the text rather than by one pattern.
RULE_KINDS = ("code", "mention", "other script")

#: Everything: an augmenter whose ``rewrites`` is ALL writes new text, and no span is checked.
ALL = frozenset({"*"})
KINDS = tuple(kind for kind, _ in DEFAULT_PATTERNS) + RULE_KINDS + ("pattern", "name")


class Protector:
    """Finds protected spans; each match is of one kind (``action``, ``name`` ...)."""

    def __init__(self, words: Iterable[str] = (), regexes: Iterable[str] = ()) -> None:
        self._parts: list[tuple[str, str]] = list(DEFAULT_PATTERNS)
        self._parts += [("pattern", re.compile(r).pattern) for r in regexes]
        names = _names_pattern(words)
        if names:
            self._parts.append(("name", names))
        self._record_names: re.Pattern | None = None
        self._compile()

    def _compile(self) -> None:
        self._kinds = [kind for kind, _ in self._parts]
        self.pattern = re.compile("|".join(f"(?P<k{i}>{p})" for i, (_, p) in enumerate(self._parts)), re.S)

    def with_words(self, words: Iterable[str]) -> "Protector":
        """A protector that also guards ``words`` (names from a record)."""
        names = _names_pattern(words)
        if not names:
            return self
        clone = Protector.__new__(Protector)
        clone._parts = self._parts + [("name", names)]
        if self._record_names is None and all(kind != "pattern" for kind, _ in self._parts):
            # Compiling the whole alternation again for every record costs more
            # than the record's augmenting: the names get a pattern of their own,
            # scanned beside this one as the one alternation would (``_scan``).
            # Only when no part can match empty text (``--protect-regex`` may).
            clone._kinds, clone.pattern = self._kinds, self.pattern
            clone._record_names = re.compile(names, re.S)
        else:
            clone._record_names = None
            clone._compile()
        return clone

    def _scan(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, kind)`` of the pattern's matches: ``finditer`` of the
        one alternation, the record's names as its last alternative. Apart, the
        same: from each position the earliest match wins, at the same start the
        one of the earlier alternative (never a name), and the scan goes on
        after it; no part matches empty text."""
        kinds = self._kinds
        if self._record_names is None:
            return [(m.start(), m.end(), kinds[int(m.lastgroup[1:])]) for m in self.pattern.finditer(text) if m.end() > m.start()]
        base, names = self.pattern, self._record_names
        out: list[tuple[int, int, str]] = []
        b, n = base.search(text), names.search(text)
        while b or n:
            if b and (n is None or b.start() <= n.start()):
                out.append((b.start(), b.end(), kinds[int(b.lastgroup[1:])]))
                pos = b.end()
            else:
                out.append((n.start(), n.end(), "name"))
                pos = n.end()
            if b and b.start() < pos:
                b = base.search(text, pos)
            if n and n.start() < pos:
                n = names.search(text, pos)
        return out

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, kind)`` of every protected span, in order; spans that
        overlap are joined, with the kind of the one that starts first."""
        found = self._scan(text)
        found += _rule_spans(text)
        found.sort(key=lambda s: (s[0], -s[1]))
        out: list[tuple[int, int, str]] = []
        for start, end, kind in found:
            if out and start < out[-1][1]:
                if end > out[-1][1]:
                    out[-1] = (out[-1][0], end, out[-1][2])
                continue
            out.append((start, end, kind))
        return out

    def kinds(self, text: str) -> list[tuple[str, str]]:
        """``(kind, span)`` for every protected span of ``text``, in order."""
        return [(kind, text[start:end]) for start, end, kind in self._spans(text)]

    def spans(self, text: str) -> list[str]:
        return [text[start:end] for start, end, _ in self._spans(text)]

    def segments(self, text: str) -> list[tuple[str, bool]]:
        """``text`` cut into ``(piece, protected)`` pieces, in order."""
        out: list[tuple[str, bool]] = []
        pos = 0
        for start, end, _ in self._spans(text):
            if start > pos:
                out.append((text[pos:start], False))
            out.append((text[start:end], True))
            pos = end
        if pos < len(text):
            out.append((text[pos:], False))
        return out

    def map_free(self, text: str, fn: Callable[[str], str]) -> str:
        """Apply ``fn`` to every unprotected piece that has a letter in it;
        ``fn`` sees the piece without its surrounding whitespace, which stays."""
        out = []
        for piece, protected in self.segments(text):
            if protected or not any(c.isalpha() for c in piece):
                out.append(piece)
                continue
            core = piece.strip()
            start = piece.index(core)
            out.append(piece[:start] + fn(core) + piece[start + len(core) :])
        return "".join(out)

    def missing(self, before: str, after: str, allow: frozenset[str] = frozenset()) -> list[str]:
        """Protected spans of ``before`` that ``after`` no longer holds, except
        the kinds in ``allow`` (an augmenter's ``rewrites``; ALL: none checked)."""
        if allow == ALL:
            return []
        need = Counter(span for kind, span in self.kinds(before) if kind not in allow)
        lost = []
        for span, count in need.items():
            if after.count(span) < count:
                lost.append(span)
        return lost


def _names_pattern(words: Iterable[str]) -> str:
    """A regex matching any of ``words`` as whole words, longest first."""
    names = sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True)
    if not names:
        return ""
    return r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)"


def record_names(texts: Iterable[str]) -> set[str]:
    """The words a record writes as names (capitalised inside a sentence, or
    not dictionary words), to guard wherever the record writes them
    capitalised: ``Protector.with_words(record_names(...))``."""
    out: set[str] = set()
    for text in texts:
        for start, end, kind in _rule_spans(text):
            if kind == "name":
                out.update(w for w in _NAME_WORD.findall(text[start:end]) if len(w) > 1 and w not in _NOT_NAMES and w.lower() not in CLOSED_WORDS)
    return out


# -- the rules ---------------------------------------------------------------------


@lru_cache(maxsize=4096)  # a turn is checked once per variant and step
def _rule_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    if not text.strip():
        return ()
    found = _code_spans(text)
    found += _mention_spans(text)
    found += _other_script_spans(text)
    found += _name_spans(text)
    return tuple(found)
