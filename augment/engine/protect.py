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

from augment.engine.languages import (
    CJK,
    ENGLISH_FUNCTION_WORDS,
    FOREIGN_FUNCTION_WORDS,
    LATIN,
    dominant_script,
    script_of,
)

DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("code block", r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)"),
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

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, kind)`` of every protected span, in order; spans that
        overlap are joined, with the kind of the one that starts first."""
        found = [(m.start(), m.end(), self._kinds[int(m.lastgroup[1:])]) for m in self.pattern.finditer(text) if m.end() > m.start()]
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


# ---- code

#: Lines that are code by their first words alone.
_STRONG_LINE = re.compile(
    r"""^(?:
        (?:async\s+)?def\s+\w+\s*\(                                   # python
      | class\s+\w+\s*[(:{]
      | (?:from\s+[\w.]+\s+)?import\s+[\w.*]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*\s*;?$
      | (?:else|try|finally)\s*:$
      | except(?:\s+[\w.]+(?:\s+as\s+\w+)?|\s*\([\w., ]*\)(?:\s+as\s+\w+)?)?\s*:$
      | (?:raise|throw)\s+(?:new\s+)?[A-Z]\w*(?:\(|$)
      | (?:function|func|fn|var|let|const|val|public|private|protected|static|void|package|namespace|using|struct|enum|interface|impl|trait|export)\s+[\w$<>\[\]{}*&:.]+\s*[({=:;<]
      | (?:int|float|double|char|bool|boolean|string|String|auto|long|unsigned)\s+\**\w+\s*[=;(\[,]
      | \#\s*(?:include|define|ifn?def|endif|pragma)\b | \#!/
      | //|/\*|\*/|<!--|-->|>>>\s|\$\s+\w
      | @\w+(?:\(|$)
      | (?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE\s+(?:TABLE|INDEX|VIEW)|DROP\s+TABLE|ALTER\s+TABLE)\b
      | </?[a-zA-Z][\w-]*(?:\s+[\w-]+(?:=(?:"[^"]*"|'[^']*'|\S+))?)*\s*/?>
    )""",
    re.X,
)
#: Lines that begin like code and need one more sign (an operator, a call, an
#: indented line under them ...) to be code: "if not numbers:", "return total".
_WEAK_LINE = re.compile(
    r"""^(?:
        (?:if|elif|while)\s*\(?\s*(?:not\s+)?[\w.\[\]()'"]+(?:\s*(?:==|!=|<=|>=|<|>|\bis\b|\bin\b|\band\b|\bor\b)\s*[\w.\[\]()'"-]+)*\s*\)?\s*[:{]$
      | for\s+\(?[\w, ]+?\s+(?:in|of)\s+[\w.\[\]()'", ]+\)?\s*[:{]$
      | for\s*\(.*;.*;.*\)\s*\{?$
      | with\s+.+\s+as\s+\w+\s*:$
      | (?:return|yield|assert|await|del|print|echo)\b\s*[\w."'(\[{-]*
      | (?:break|continue|pass)\s*;?$
      | (?:FROM|WHERE|JOIN|INNER|LEFT|RIGHT|OUTER|GROUP\s+BY|ORDER\s+BY|HAVING|LIMIT|VALUES|SET|UNION|AND|OR|ON)\b
      | [}\])]\s*(?:else|catch|finally|while)\b
    )""",
    re.X,
)
#: Something a line of code has: a bracket, an operator sign, or a first word of code.
_CODE_SIGN = re.compile(
    r"[=(){}\[\];<>_#@$/\\|&]|^(?:def|class|import|from|if|elif|else|try|except|finally|for|while|with|return|yield"
    r"|raise|throw|break|continue|pass|assert|await|del|print|echo|function|func|fn|var|let|const|val|public|private"
    r"|protected|static|void|package|namespace|using|struct|enum|interface|impl|trait|export|int|float|double|char"
    r"|bool|boolean|string|String|auto|long|unsigned|SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|FROM|WHERE|JOIN"
    r"|INNER|LEFT|RIGHT|OUTER|GROUP|ORDER|HAVING|LIMIT|VALUES|SET|UNION|AND|OR|ON)\b"
)
_SYMBOLS = re.compile(r"[-=+*/%<>&|^~!{}\[\]();:,.\"'#@$\\]")
_LETTER = re.compile(r"[^\W\d_]")
_ASSIGN = re.compile(r"^[A-Za-z_$][\w$.]*(?:\[[^\]\n]*\])?\s*(?:[-+*/%|&^]|//|\*\*|<<|>>)?=(?!=)\s*\S")
_OPERATOR = re.compile(r"==|!=|<=|>=|&&|\|\||=>|->|::|\+\+|--(?=\w)|\+=|-=|\*=|/=|:=|<<|>>")
_CALL = re.compile(r"[A-Za-z_$][\w$.]*\((?!\s)")
_IDENT = re.compile(
    r"(?<![\w$])(?:"
    r"__\w+__|[A-Za-z$][A-Za-z0-9$]*_[A-Za-z0-9_$]*|_[A-Za-z0-9]*[0-9_][A-Za-z0-9_]*"  # snake_case, __init__, _private1
    r"|[a-z]+[0-9]*(?:[A-Z][a-z0-9]*)+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+"  # camelCase, PascalCase
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.[a-z]\w+"  # os.path.join, main.py
    r")(?![\w$])"
)
_IDENT_HINT = re.compile(r"_|[a-z][A-Z]|\w\.[a-z]")
_CLOSERS = re.compile(r"^[)\]}]+[;,)\]}]*$|^[({\[]$")
_STATEMENT_END = re.compile(r"[;{]\s*(?://.*)?$")
_LIST_MARK = re.compile(r"^(?:[-*+•·‣]|\d{1,3}[.)、]|[a-zA-Z][.)])\s+")
_CODE_TOKEN = re.compile(r"[=(){}\[\];<>_$\\|&]|[a-z][A-Z]|\w\.\w")


@lru_cache(maxsize=16384)
def _code_score(line: str) -> float:
    """How much a line reads as code: 2.5 or more is a line of code."""
    s = line.strip()
    if not s:
        return 0.0
    if _CLOSERS.match(s):
        return 3.0
    if not any(c.isalnum() for c in s):
        return 0.0
    if not _CODE_SIGN.search(s):
        return 1.0 if _IDENT_HINT.search(s) and _IDENT.search(s) else 0.0  # plain words (the common case, made quick)
    score = 2.5 if _STRONG_LINE.match(s) else 1.5 if _WEAK_LINE.match(s) else 0.0
    if _ASSIGN.match(s):
        score += 2.5
    if _OPERATOR.search(s):
        score += 1.5
    call = bool(_CALL.search(s))
    ident = bool(_IDENT_HINT.search(s) and _IDENT.search(s))
    score += 2.0 if call and ident else 1.5 if call else 1.0 if ident else 0.0
    if _STATEMENT_END.search(s):
        score += 1.5
    if s[0] in "{[" and s[-1] in "}],":
        score += 2.0
    if score and s.endswith(":"):
        score += 0.5
    if score and len(_SYMBOLS.findall(s)) >= max(3, len(_LETTER.findall(s)) * 0.25):
        score += 1.0
    words = s.split()
    if score and len(words) >= 6 and s[-1] in ".!?" and sum(not _CODE_TOKEN.search(w) for w in words) >= 0.75 * len(words):
        score -= 2.5  # a sentence that mentions code, not code
    return score


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _code_spans(text: str) -> list[tuple[int, int, str]]:
    """Unfenced code: lines that read as code, the lines indented under them,
    and indented blocks with a code sign; identifiers and calls in prose."""
    out: list[tuple[int, int, str]] = []
    fences = [(m.start(), m.end()) for m in re.finditer(DEFAULT_PATTERNS[0][1], text, re.S)]
    lines: list[tuple[int, int, str]] = []  # (start, end, line), fenced lines left out
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not any(a <= end and start < b for a, b in fences):
            lines.append((start, end, line))
    scores = [_code_score(line) for _, _, line in lines]
    for i, (_, _, line) in enumerate(lines):
        if 0 < scores[i] < 2.5 and line.rstrip().endswith((":", "{")):
            nxt = next((k for k in range(i + 1, len(lines)) if lines[k][2].strip()), None)
            if nxt is not None and _indent(lines[nxt][2]) > _indent(line):
                scores[i] += 1.0  # a header with its body indented under it
    i = 0
    while i < len(lines):
        start, end, line = lines[i]
        block = _indent(line) >= 4 and not _LIST_MARK.match(line.strip()) and (i == 0 or not lines[i - 1][2].strip())
        if scores[i] < 2.5 and not (block and _block_has_code(lines, scores, i)):
            i += 1
            continue
        base = _indent(line)
        last = j = i
        while j + 1 < len(lines) and lines[j + 1][0] == lines[j][1] + 1:  # no fence in between
            j += 1
            nxt = lines[j][2]
            if not nxt.strip():
                continue
            if _indent(nxt) > base or scores[j] >= 2.5 or (_indent(nxt) >= base and scores[j] >= 1.5) or (block and _indent(nxt) >= 4):
                last = j
                continue
            break
        out.append((start + _indent_chars(line), lines[last][1], "code"))
        i = last + 1
    covered = [(s, e) for s, e, _ in out] + fences
    for m in _IDENT.finditer(text) if _IDENT_HINT.search(text) else ():
        if not _inside(m.start(), covered) and not _EMPHASIS.fullmatch(m.group(0)) and not _ABBREVIATION.fullmatch(m.group(0)):
            out.append((m.start(), m.end(), "code"))
    for m in _INLINE_CALL.finditer(text) if "(" in text else ():
        if not _inside(m.start(), covered):
            out.append((m.start(), m.end(), "code"))
    return out


_EMPHASIS = re.compile(r"_[^\W\d_]+_")  # markdown emphasis, not a name
_ABBREVIATION = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")  # e.g, i.e
#: ``print(x)``, ``os.path.join(a, b)``: a call written without a space.
_INLINE_CALL = re.compile(r"(?<![\w$])(?:[a-z_$][\w$.]*|[A-Za-z_$][\w$]*[_.][\w$.]*)\([^()\n]{0,80}\)")


def _indent_chars(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_has_code(lines, scores, i: int) -> bool:
    """An indented block from line ``i`` on holds a line with a code sign."""
    j = i
    while j < len(lines) and (not lines[j][2].strip() or _indent(lines[j][2]) >= 4):
        if scores[j] >= 1.0:
            return True
        j += 1
    return False


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


# ---- quoted mentions

#: Quotes that open and close differently; straight quotes are paired apart.
_PAIRED_QUOTES = re.compile(r"“[^“”\n]{1,200}”|「[^「」\n]{1,200}」|『[^『』\n]{1,200}』|《[^《》\n]{1,200}》|(?<![^\W_])‘[^‘’\n]{1,200}?’(?![^\W_])")
_SINGLE_QUOTES = re.compile(r"(?<![\w'])'(?=\S)([^'\n]{1,200}?)(?<=\S)'(?![\w'])")
_CUE_BEFORE = re.compile(
    r"""(?:\b(?:word|words|term|terms|phrase|phrases|idiom|idioms|expression|expressions|saying|sayings|proverb|proverbs
    |slogan|motto|sentence|sentences|title|titled|named|called|label(?:l?ed)?|tag(?:ged)?|keyword|keywords|letter|letters
    |string|spelled|spelt|spell|synonyms?|antonyms?|meaning|means|translate|translates|translation|pronounce
    |rhymes?\s+with|nouns?|verbs?|adjectives?|adverbs?|quote|quoted|text)(?:\s+(?:of|for|to|as|like|with|is|was))?
    |成语|词语|单词|词汇|短语|句子|俗语|谚语|名言|标题|题目|名字|名称|叫做|称为|称作|翻译|一词|这个词|词|字)\s*[:：,，]?\s*$""",
    re.X | re.I,
)
_CUE_AFTER = re.compile(
    r"^\s*(?:means?\b|meant\b|stands?\s+for\b|refers?\s+to\b|is\s+(?:a|an|the)\s+(?:word|phrase|idiom|term|expression|saying)\b"
    r"|的意思|是什么意思|什么意思|的含义|的同义词|的近义词|的反义词|这个词|一词|这个成语|这句话|的英文|的中文)",
    re.I,
)
_LIST_GAP = re.compile(r"^\s*(?:[,，、;；/]|\s)*\s*(?:(?:and|or|and/or|和|与|或|及|以及)\s*)?$", re.I)
_SPEECH_END = tuple(".,!?…;。，！？；")


def _quoted(text: str) -> list[tuple[int, int]]:
    """Quoted spans ``(start, end)``, quotes included, each within a line."""
    out = [(m.start(), m.end()) for m in _PAIRED_QUOTES.finditer(text)]
    out += [(m.start(), m.end()) for m in _SINGLE_QUOTES.finditer(text)]
    pos = 0
    for line in text.split("\n"):
        opened = None
        for m in re.finditer('"', line):
            i = m.start()
            before = line[i - 1] if i else " "
            after = line[i + 1] if i + 1 < len(line) else " "
            can_open = not (before.isalnum() or before == "_") and not after.isspace()
            can_close = not before.isspace() and not (after.isalnum() or after == "_")
            if opened is None:
                if can_open:
                    opened = i
            elif can_close:
                out.append((pos + opened, pos + i + 1))
                opened = None
            elif can_open:
                opened = i
        pos += len(line) + 1
    return sorted(out)


def _size(inner: str) -> float:
    """Words in a quoted span, two CJK characters counting one."""
    cjk = sum(script_of(c) == CJK for c in inner)
    latin = len(re.findall(r"[^\W_]+", "".join(" " if script_of(c) == CJK else c for c in inner)))
    return latin + cjk / 2


def _mention_spans(text: str) -> list[tuple[int, int, str]]:
    if not any(q in text for q in "\"'“‘「『《"):
        return []
    quoted = _quoted(text)
    out = []
    for n, (start, end) in enumerate(quoted):
        inner = text[start + 1 : end - 1].strip()
        if not inner:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        before = text[max(line_start, start - 40) : start]
        after = text[end : line_end if line_end >= 0 else len(text)]
        size = _size(inner)
        short = size <= 4 and len(inner) <= 40
        in_list = size <= 6 and (
            (n > 0 and quoted[n - 1][1] <= start and _LIST_GAP.match(text[quoted[n - 1][1] : start]) and "\n" not in text[quoted[n - 1][1] : start])
            or (n + 1 < len(quoted) and end <= quoted[n + 1][0] and _LIST_GAP.match(text[end : quoted[n + 1][0]]) and "\n" not in text[end : quoted[n + 1][0]])
        )
        if (short and not inner.endswith(_SPEECH_END)) or in_list or _CUE_BEFORE.search(before) or _CUE_AFTER.match(after):
            out.append((start, end, "mention"))
    return out


# ---- other scripts


_LATIN_LETTER = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff"
#: Runs of letters of a script other than Latin, with what lies between them on a line.
_NOT_LATIN_RUN = re.compile(rf"[^\W\d_{_LATIN_LETTER}](?:[^\n\w]*[^\W\d_{_LATIN_LETTER}]|\d)*")
#: Runs of Latin words, with digits and what lies between them on a line ("C++", "GPT-4").
_LATIN_RUN = re.compile(rf"[{_LATIN_LETTER}](?:[^\n\w]*[{_LATIN_LETTER}]|\d)*(?:\+\+|#|-?\d+(?:\.\d+)*)?")


def _other_script_spans(text: str) -> list[tuple[int, int, str]]:
    main = dominant_script(text)
    if main == LATIN:
        runs = _NOT_LATIN_RUN.finditer(text)
    elif main == CJK:
        runs = _LATIN_RUN.finditer(text)
    elif main is None:
        return []
    else:  # Cyrillic, Greek ...: the letters of any other script
        return _runs_not_of(text, main)
    out = []
    for m in runs:
        scripts = {script_of(c) for c in m.group(0)} - {None}
        if main == LATIN and len(scripts) > 1:
            out += _runs_not_of(m.group(0), LATIN, m.start())  # Chinese beside Cyrillic: one run each
        else:
            out.append((m.start(), m.end(), "other script"))
    return out


def _runs_not_of(text: str, main: str, offset: int = 0) -> list[tuple[int, int, str]]:
    """Runs of letters of one script other than ``main``, across what is not a letter on a line."""
    out: list[tuple[int, int, str]] = []
    run: list = []  # [script, start, end]
    for i, ch in enumerate(text):
        script = script_of(ch)
        if script is None and ch != "\n":
            if run and ch.isdigit():
                run[2] = i + 1
            continue
        if run and script == run[0]:
            run[2] = i + 1
            continue
        if run:
            out.append((offset + run[1], offset + run[2], "other script"))
            run = []
        if script is not None and script != main:
            run = [script, i, i + 1]
    if run:
        out.append((offset + run[1], offset + run[2], "other script"))
    return out


# ---- names

_NAME_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+(?:['’-][A-Za-zÀ-ÖØ-öø-ɏ]+)*")
#: English closed-class words and sentence openers: never a name, and not part
#: of the name after them ("Then Mira ...", "Since Captain Vell ...").
CLOSED_WORDS = ENGLISH_FUNCTION_WORDS | frozenset(
    """someone anyone everyone nobody somebody anybody everybody something anything everything nothing
    ones thee thou thy thine ye either neither both few many much more most several such other another own same
    let ought above across against along amid among around behind below beneath beside besides beyond despite
    down during except inside like near off out outside past per since till toward towards underneath unlike
    until up upon via within without nor because although though while unless whereas whenever wherever once
    then now so yet also just only even still again ever never always often quite rather very too maybe perhaps
    well oh ah hey hi hello okay ok yeah aye nay thanks thank sorry dear soon later today tonight tomorrow
    yesterday suddenly meanwhile however therefore instead anyway besides otherwise indeed
    tell ask give show help call meet find bring take see
    hmm hm mm mhm ugh heh huh wow oops aww uh um er eh ha haha hehe psst shh tsk yikes whoa meh nah yep yup
    nope gee welp ooh argh bah pfft phew""".split()
)
_NOT_NAMES = frozenset({"I", "I'm", "I'll", "I'd", "I've", "I’m", "I’ll", "I’d", "I’ve", "OK"})
_CONTRACTION = re.compile(r"['’](?:t|ll|re|ve|d|m)$", re.I)
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Prof|Sr|Jr|Mt|Capt|Lt|Sgt|Gen|Col|Rev|Hon|vs|etc|No)\.$")
_STARTERS = set(".!?…:;\"“‘'([{*「『《—–>|#)]）") | {"。", "！", "？", "：", "；", "，"}


def _is_capitalised(word: str) -> bool:
    return word[0].isupper()


def _at_start(text: str, line_start: int, pos: int) -> bool:
    """Whether a word at ``pos`` starts a sentence, a line or a list item."""
    before = text[line_start:pos].rstrip()
    if not before or _LIST_MARK.fullmatch(before + " ") or re.fullmatch(r"[#>\s]+", before):
        return True
    if _ABBREVIATIONS.search(before):
        return False
    last = before[-1]
    return last in _STARTERS or script_of(last) == CJK or last in "”’»" and len(before) > 1 and before[-2] in ".!?…"


def _is_word(word: str) -> bool | None:
    """Whether WordNet lists ``word`` as a common word; None without a word list."""
    try:
        from augment.engine.dictionary import is_word
    except ImportError:
        return None
    return is_word(word)


_CAPITAL = re.compile(r"[A-ZÀ-ÖØ-Þ]")
_TOKENS = re.compile(r"[^\W\d_]+")


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    if not _CAPITAL.search(text):
        return []
    tokens = _TOKENS.findall(text.lower())
    if sum(map(FOREIGN_FUNCTION_WORDS.__contains__, tokens)) > max(1, sum(map(ENGLISH_FUNCTION_WORDS.__contains__, tokens))):
        return []  # another Latin-script language: its capitals say nothing
    words = list(_NAME_WORD.finditer(text))
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        m = words[i]
        if not _is_capitalised(m.group(0)):
            i += 1
            continue
        # a run of capitalised words one space apart: "Harry Potter", "The Gull's Wing"
        run = [m]
        while i + len(run) < len(words):
            nxt = words[i + len(run)]
            gap = text[run[-1].end() : nxt.start()]
            if gap not in (" ", "-") or not _is_capitalised(nxt.group(0)):
                break
            run.append(nxt)
        i += len(run)
        line_start = text.rfind("\n", 0, run[0].start()) + 1
        if len(run) <= 4 and _alone_on_line(text, line_start, run[0].start(), run[-1].end()):
            if len(run) > 1 or run[0].group(0).lower() not in CLOSED_WORDS:
                out.append((run[0].start(), run[-1].end(), "name"))  # "- Will Harrow", "Chapter One:", a heading
            continue
        while run and (run[0].group(0) in _NOT_NAMES or re.split(r"['’]", run[0].group(0))[0].lower() in CLOSED_WORDS):
            run = run[1:]  # "Then Mira ...", "Since Captain Vell ..."
        if not run:
            continue
        starts = _at_start(text, line_start, run[0].start())
        names = [k > 0 or not starts or _not_a_word(w.group(0)) for k, w in enumerate(run)]
        names = [n and w.group(0) not in _NOT_NAMES and not _CONTRACTION.search(w.group(0)) for n, w in zip(names, run)]
        if any(names):
            out.append((run[0].start(), run[-1].end(), "name"))
    return out


def _not_a_word(word: str) -> bool:
    """A capitalised word at the start of a sentence is a name if it is not a
    dictionary word, or is a common first name ("Harry", "Rose", "Grace")."""
    if len(word) > 1 and word.isupper():
        return True  # NASA, API, "STOP"
    base = re.split(r"['’]", word)[0]
    if base.lower() in CLOSED_WORDS:
        return False
    return _is_word(base) is False or base in _first_names()


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    """Common English first names (Faker's en_US list, about 700; loaded once,
    the first time a capitalised dictionary word starts a sentence)."""
    try:
        from faker.providers.person.en_US import Provider
    except ImportError:
        return frozenset()
    return frozenset(Provider.first_names)


def _alone_on_line(text: str, line_start: int, start: int, end: int) -> bool:
    """The words from ``start`` to ``end`` are all the line holds (a list
    marker before them, a colon, dash or full stop after them allowed)."""
    before = text[line_start:start].strip()
    if before and not _LIST_MARK.fullmatch(before + " ") and not re.fullmatch(r"#+", before):
        return False
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else len(text)]
    return bool(re.fullmatch(r"\s*(?:[:：.,;!]|\s[-–—]\s.*|[:：]\s.*)?\s*", rest))
