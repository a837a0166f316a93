"""Spans of role-play text that augmenters must leave byte for byte.

``*actions*``, stage directions in ``(…)`` and ``（…）``, placeholders such as
``{{char}}`` and ``<USER>``, URLs, e-mail addresses, numbers, inline code, and
any names or patterns the user adds. A ``Protector`` splits a text into
protected and free segments, and checks afterwards that nothing protected was
lost.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable, Iterable

DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("code block", r"```.*?```"),
    ("inline code", r"`[^`\n]+`"),
    ("placeholder", r"\{\{[^{}\n]+\}\}|<USER>|<BOT>"),
    ("action", r"\*[^*\n]+\*"),
    ("direction", r"\([^()\n]*\)|（[^（）\n]*）"),
    ("url", r"\b(?:https?|ftp)://[^\s<>\"']+|\bwww\.[^\s<>\"']+"),
    ("e-mail", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("number", r"\d+(?:[.,:]\d+)*"),
)


#: Everything: an augmenter whose ``rewrites`` is ALL writes new text, and no span is checked.
ALL = frozenset({"*"})
KINDS = tuple(kind for kind, _ in DEFAULT_PATTERNS) + ("pattern", "name")


class Protector:
    """Finds protected spans; each match is of one kind (``action``, ``name`` ...)."""

    def __init__(self, words: Iterable[str] = (), regexes: Iterable[str] = ()) -> None:
        self._parts: list[tuple[str, str]] = list(DEFAULT_PATTERNS)
        self._parts += [("pattern", re.compile(r).pattern) for r in regexes]
        names = _names_pattern(words)
        if names:
            self._parts.append(("name", names))
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
        clone._compile()
        return clone

    def kinds(self, text: str) -> list[tuple[str, str]]:
        """``(kind, span)`` for every protected span of ``text``, in order."""
        return [(self._kinds[int(m.lastgroup[1:])], m.group(0)) for m in self.pattern.finditer(text)]

    def spans(self, text: str) -> list[str]:
        return [m.group(0) for m in self.pattern.finditer(text)]

    def segments(self, text: str) -> list[tuple[str, bool]]:
        """``text`` cut into ``(piece, protected)`` pieces, in order."""
        out: list[tuple[str, bool]] = []
        pos = 0
        for m in self.pattern.finditer(text):
            if m.start() > pos:
                out.append((text[pos : m.start()], False))
            if m.end() > m.start():
                out.append((m.group(0), True))
            pos = m.end()
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
