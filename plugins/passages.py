"""Plain text and Markdown cut into passages: the ``passages`` format (input only).

Each passage becomes one seed record for the ``from-passage`` step, which
turns it into conversations (``augment generate --from-text``, or ``augment
run FILE --from passages --no-originals ... from-passage``). How a file is cut:

- **sections**: a heading starts one (Markdown ``#`` to ``######``,
  ``Chapter 3``, ``CHAPTER IV: The Inn``, ``Part Two``, ``Prologue``,
  ``第三章 ...``, ``第12回``, ``序章``); a passage never spans two sections.
  A passage's heading is the path of headings above it (``Part One /
  Chapter 1``: a ``##`` heading keeps the ``#`` one above it; a ``Chapter 3``
  line is at the top); it is not part of the passage's text.
- **paragraphs**: separated by blank lines, by an indented line, or, in
  Chinese, Japanese and Korean text, each line on its own. Scene breaks
  (``* * *``, ``---``) separate paragraphs too.
- **passages**: paragraphs in order, merged while the passage stays within
  ``--chunk-chars`` characters (default 1500); a paragraph is never cut
  unless it alone is longer, and then at sentence ends (``.`` ``!`` ``?``
  ``。`` ``！`` ``？``), and a sentence longer than the limit at a space.

A passage's text is exactly the file's text from its ``offset`` (in
characters, after a byte-order mark) for ``chars`` characters, so it can
always be found again. A seed record is one user turn holding the passage,
and a ``passage`` field: ``{"file", "line", "offset", "chars", "heading"}``.
A passage with fewer than 20 letters is too short to ground a conversation
and is rejected with that reason; a file with no text at all is reported.
"""

from __future__ import annotations

import bisect
import re
from typing import Any, Iterable, Iterator

import augment
from augment import USER, Conversation, Format, Location, RecordError, Turn, type_name

DEFAULT_CHUNK_CHARS = 1500
#: Letters a passage needs to ground a conversation (a CJK character is one).
MIN_LETTERS = 20
#: A line this long is text, never a heading.
HEADING_MAX = 80

NUMBER = r"(?:\d+|[ivxlcdm]+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[a-z]+teen|(?:twenty|thirty|forty|fifty)(?:[- ]\w+)?)"
TITLE = r"(?:[\s\u3000:：.·、—–-].*)?"
HEADING = augment.LazyPattern(
    rf"^\s*(?:#{{1,6}}\s+(?P<md>.+?)\s*#*|(?P<ch>(?:chapter|book|part)\s+{NUMBER}\b{TITLE}|(?:prologue|epilogue|preface|afterword)(?:\s*[:：.—–-].*)?"
    rf"|第\s*[零〇一二三四五六七八九十百千两\d]+\s*[章回节卷幕部]{TITLE}|(?:序章|序言|楔子|尾声|后记){TITLE}))\s*$",
    re.I,
)
BREAK = augment.LazyPattern(r"^\s*(?:(?:\*\s*){3,}|(?:＊\s*){3,}|-{3,}|—{2,}|_{3,}|(?:~\s*){3,})\s*$")
INDENT = augment.LazyPattern(r"^(?:[ \t]+|\u3000+)\S")
CJK = augment.LazyPattern(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
LETTER = augment.LazyPattern(r"[^\W\d_]", re.UNICODE)
#: A sentence's end: its mark, closing quotes and brackets after it.
SENTENCE_END = augment.LazyPattern(r"[.!?…。！？]+[\"'”’)\]」』）]*")


class Passages(Format):
    name = "passages"
    summary = "text or Markdown cut into passages at headings and paragraphs, seeds for from-passage (augment generate --from-text); input only"
    writable = False
    options = {"chunk_chars": "the longest passage, in characters (--chunk-chars)"}

    def __init__(self, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> None:
        self.chunk_chars = chunk_chars

    def configure(self, **options: Any) -> "Passages":
        super().configure(**options)
        chunk = options.get("chunk_chars")
        return Passages(chunk) if chunk else self

    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]]:
        text = stream.read().decode("utf-8-sig")
        found = passages(text, self.chunk_chars)
        if not found:
            raise RecordError("no text to cut into passages (empty, or headings only)", line=1)
        for passage in found:
            yield Location(file, passage["line"]), {"file": file, **passage}

    def decode(self, record: Any) -> Conversation:
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise RecordError(f"a passage must be an object with 'text', got {type_name(record)}")
        text = record["text"]
        letters = len(LETTER.findall(text))
        if letters < MIN_LETTERS:
            raise RecordError(f"a passage of {letters} letter(s) is too short to ground a conversation (at least {MIN_LETTERS})")
        where = {k: record[k] for k in ("file", "line", "offset", "chars", "heading") if k in record}
        return Conversation(turns=[Turn(USER, text)], extra={"passage": where}, notes=list(record.get("notes", [])))


# -- cutting a text ------------------------------------------------------------------


def passages(text: str, limit: int) -> list[dict[str, Any]]:
    """The passages of ``text``: ``{"line", "offset", "chars", "heading",
    "text"}`` each, in order (and ``notes`` on the last one, for what was
    left out)."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: list[dict[str, Any]] = []
    trailing = 0
    for heading, paragraphs, headings in sections(text):
        trailing = 0 if paragraphs else headings
        for start, end in pack(text, paragraphs, limit):
            line = bisect.bisect_right(starts, start)
            out.append({"line": line, "offset": start, "chars": end - start, "heading": heading, "text": text[start:end]})
    if out and trailing:
        out[-1]["notes"] = [f"left out {trailing} heading(s) with no text after them"]
    return out


def sections(text: str) -> Iterator[tuple[str, list[tuple[int, int]], int]]:
    """``(heading, paragraph spans, headings met)`` for each section. The
    heading is the path of Markdown headings above it (``Part One /
    Chapter 1``; a ``##`` heading keeps the ``#`` one above it); a ``Chapter
    3`` or ``第三章`` line is at the top level. The last section may have no
    paragraphs (headings at the end)."""
    path: list[tuple[int, str]] = []
    paragraphs: list[tuple[int, int]] = []
    met = 0  # headings since the last paragraph
    start: int | None = None  # of the paragraph being read
    end = 0
    position = 0
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        stripped = line.strip()
        heading = _heading(stripped)
        new_paragraph = not stripped or heading or BREAK.match(line) or INDENT.match(line) or CJK.search(line)
        if new_paragraph and start is not None:
            paragraphs.append((start, end))
            start = None
        if heading:
            if paragraphs:
                yield " / ".join(h for _, h in path), paragraphs, met
                paragraphs, met = [], 0
            level = len(stripped) - len(stripped.lstrip("#")) if heading.group("md") else 1
            path = [(lv, h) for lv, h in path if lv < level] + [(level, (heading.group("md") or heading.group("ch")).strip())]
            met += 1
        elif stripped and not BREAK.match(line):
            if start is None:
                start = position + (len(line) - len(line.lstrip()))
            end = position + len(line.rstrip())
        position += len(raw) + 1
    if start is not None:
        paragraphs.append((start, end))
    if paragraphs or met:
        yield " / ".join(h for _, h in path), paragraphs, met


def _heading(line: str) -> re.Match[str] | None:
    """The heading ``line`` is, or None. Not a Markdown heading and ending
    like a sentence ("Part one of the plan was simple."), it is text."""
    match = HEADING.match(line) if line and len(line) <= HEADING_MAX else None
    if match and match.group("ch") and line[-1] in ".,;!?。，；！？" and len(line.split()) > 3:
        return None
    return match


def pack(text: str, paragraphs: list[tuple[int, int]], limit: int) -> Iterator[tuple[int, int]]:
    """Paragraphs merged into passages of at most ``limit`` characters; a
    longer paragraph cut at sentence ends first."""
    pieces = (piece for para in paragraphs for piece in ([para] if para[1] - para[0] <= limit else _cut(text, para, limit)))
    return _joined(pieces, limit)


def _cut(text: str, span: tuple[int, int], limit: int) -> Iterator[tuple[int, int]]:
    """A long paragraph in pieces of at most ``limit`` characters: whole
    sentences merged, a sentence longer than ``limit`` cut at a space (or,
    with none, at the limit)."""
    return _joined((piece for sentence in _sentences(text, span) for piece in _hard(text, sentence, limit)), limit)


def _joined(pieces: Iterable[tuple[int, int]], limit: int) -> Iterator[tuple[int, int]]:
    """Adjacent spans joined while the joined span stays within ``limit``."""
    current: tuple[int, int] | None = None
    for piece in pieces:
        if current is not None and piece[1] - current[0] <= limit:
            current = (current[0], piece[1])
            continue
        if current is not None:
            yield current
        current = piece
    if current is not None:
        yield current


def _sentences(text: str, span: tuple[int, int]) -> Iterator[tuple[int, int]]:
    start, end = span
    for match in SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if match.group()[0] in ".!?…" and stop < end and not text[stop].isspace():
            continue  # 3.5, e.g.x: not an end
        yield from _trimmed(text, start, stop)
        start = stop
    yield from _trimmed(text, start, end)


def _hard(text: str, span: tuple[int, int], limit: int) -> Iterator[tuple[int, int]]:
    start, end = span
    while end - start > limit:
        cut = max(text.rfind(" ", start + 1, start + limit + 1), text.rfind("\n", start + 1, start + limit + 1))
        if cut <= start:
            cut = start + limit
        yield from _trimmed(text, start, cut)
        start = cut
    yield from _trimmed(text, start, end)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The span without its surrounding white space (nothing if it is all space)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


@augment.hookimpl
def register_formats(register):
    register(Passages())
