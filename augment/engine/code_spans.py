"""Finding code in a turn: fenced and indented blocks, lines that read as
code, and identifiers and calls in prose (spans of kind ``code``)."""

from __future__ import annotations

import re
from functools import lru_cache

from augment.patterns import LazyPattern

#: A fenced code block (``` or ~~~; an unclosed fence runs to the end).
FENCED = r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)"

# ---- code

#: Lines that are code by their first words alone.
_STRONG_LINE = LazyPattern(
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
_WEAK_LINE = LazyPattern(
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
_CODE_SIGN = LazyPattern(
    r"[=(){}\[\];<>_#@$/\\|&]|^(?:def|class|import|from|if|elif|else|try|except|finally|for|while|with|return|yield"
    r"|raise|throw|break|continue|pass|assert|await|del|print|echo|function|func|fn|var|let|const|val|public|private"
    r"|protected|static|void|package|namespace|using|struct|enum|interface|impl|trait|export|int|float|double|char"
    r"|bool|boolean|string|String|auto|long|unsigned|SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|FROM|WHERE|JOIN"
    r"|INNER|LEFT|RIGHT|OUTER|GROUP|ORDER|HAVING|LIMIT|VALUES|SET|UNION|AND|OR|ON)\b"
)
_SYMBOLS = LazyPattern(r"[-=+*/%<>&|^~!{}\[\]();:,.\"'#@$\\]")
_LETTER = LazyPattern(r"[^\W\d_]")
_ASSIGN = LazyPattern(r"^[A-Za-z_$][\w$.]*(?:\[[^\]\n]*\])?\s*(?:[-+*/%|&^]|//|\*\*|<<|>>)?=(?!=)\s*\S")
_OPERATOR = LazyPattern(r"==|!=|<=|>=|&&|\|\||=>|->|::|\+\+|--(?=\w)|\+=|-=|\*=|/=|:=|<<|>>")
_CALL = LazyPattern(r"[A-Za-z_$][\w$.]*\((?!\s)")
_IDENT = LazyPattern(
    r"(?<![\w$])(?:"
    r"__\w+__|[A-Za-z$][A-Za-z0-9$]*_[A-Za-z0-9_$]*|_[A-Za-z0-9]*[0-9_][A-Za-z0-9_]*"  # snake_case, __init__, _private1
    r"|[a-z]+[0-9]*(?:[A-Z][a-z0-9]*)+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+"  # camelCase, PascalCase
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.[a-z]\w+"  # os.path.join, main.py
    r")(?![\w$])"
)
_IDENT_HINT = LazyPattern(r"_|[a-z][A-Z]|\w\.[a-z]")
_CLOSERS = LazyPattern(r"^[)\]}]+[;,)\]}]*$|^[({\[]$")
_STATEMENT_END = LazyPattern(r"[;{]\s*(?://.*)?$")
_LIST_MARK = LazyPattern(r"^(?:[-*+•·‣]|\d{1,3}[.)、]|[a-zA-Z][.)])\s+")
_CODE_TOKEN = LazyPattern(r"[=(){}\[\];<>_$\\|&]|[a-z][A-Z]|\w\.\w")


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
    fences = [(m.start(), m.end()) for m in re.finditer(FENCED, text, re.S)]
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


_EMPHASIS = LazyPattern(r"_[^\W\d_]+_")  # markdown emphasis, not a name
_ABBREVIATION = LazyPattern(r"(?:[A-Za-z]\.)+[A-Za-z]")  # e.g, i.e
#: ``print(x)``, ``os.path.join(a, b)``: a call written without a space.
_INLINE_CALL = LazyPattern(r"(?<![\w$])(?:[a-z_$][\w$.]*|[A-Za-z_$][\w$]*[_.][\w$.]*)\([^()\n]{0,80}\)")


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
