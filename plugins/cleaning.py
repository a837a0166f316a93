"""Leftovers of web exports and chat front ends: ``clean`` scrubs them out of
the text, ``spam`` drops records with advertising or link dumps.

``clean`` changes, in every turn (system prompt and preference answers too),
outside code:

- HTML entities decoded (``&amp;`` ``&#39;``; ``&nbsp;`` becomes a plain space);
- HTML tags removed, their text kept: ``<br>`` and ``<hr>`` become a line
  break, ``</p>`` a blank line, the end of other blocks (``</div>``,
  ``</li>`` ...) a line break; ``<script>``, ``<style>`` and comments go with
  their content. Only real HTML element names count (``HTML_TAGS``), so
  ``<BOT>``, ``<USER>``, ``<START>`` and ``<grins>`` stay. Entities are
  decoded first, so the ``&lt;br&gt;`` of a twice-escaped export goes too;
- zero-width characters removed (a zero-width joiner inside an emoji or a
  script that needs it stays), and control characters other than tabs and
  line breaks;
- SillyTavern macros whose value was never filled in or means nothing in a
  dataset: ``{{random:...}}``, ``{{roll:...}}``, ``{{time}}``, ``{{date}}``,
  ``{{idle_duration}}``, ``{{getvar::...}}``, ``{{// comments}}`` ...
  (``UI_MACROS``, ``UI_MACROS_WITH_ARGS``; ``{{newline}}`` becomes a line
  break). ``{{char}}``, ``{{user}}`` and the other macros that stand for the
  character's own text (``{{persona}}``, ``{{scenario}}`` ...) are left, for
  ``--expand-placeholders`` or a reader;
- chat-template tokens: ``<|im_end|>``, ``<|im_start|>assistant``,
  ``<|eot_id|>``, ``[INST]``, ``<<SYS>>`` ...;
- runs of spaces between words made one (indentation and the two spaces of a
  markdown line break stay), and more than two blank lines made two.

Fenced code blocks and inline ``code`` come out byte for byte, as do
``*actions*`` and markdown (nothing above matches them). Each kind of change
is one note per turn, so the summary says how many turns had, say, HTML tags
removed. A record is dropped only when cleaning leaves a turn empty.

``spam`` drops a record when one turn (system prompt included) is an ad: an
invite or a link with advertising words ("discord.gg", "join my",
"subscribe", "patreon", "promo code", "加群", "加微信", "优惠", "点击链接"
...: ``ADS_EN``, ``ADS_ZH``), mostly links, or one line pasted over and
over. The reason names the turn and which of these it is; the thresholds are
options. A character who says "join my crew" or mentions one map link passes.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Iterable

import augment
from augment import SYSTEM, Conversation, Filter, FilterContext, Option, between

# --- clean: data --------------------------------------------------------------

#: HTML element names: a tag is removed only if its name is one of these.
HTML_TAGS = frozenset("""
a abbr article aside audio b big blockquote body br caption center cite code dd del details div dl dt em
figcaption figure font footer h1 h2 h3 h4 h5 h6 head header hr html i iframe img ins li mark nav ol p pre q
s section small span strike strong sub summary sup table tbody td tfoot th thead title tr tt u ul video wbr
""".split())

#: Block ends that become a line break (``</p>``: a blank line).
BLOCK_ENDS = frozenset("div li h1 h2 h3 h4 h5 h6 tr blockquote ul ol dl dd dt table pre section article header footer aside nav figure details".split())

#: SillyTavern macros with no argument that have nothing to say in a dataset.
UI_MACROS = frozenset({
    "time", "date", "weekday", "isotime", "isodate", "idle_duration", "maxprompt", "lastmessage",
    "lastmessageid", "lastusermessage", "lastcharmessage", "firstincludedmessageid",
    "firstdisplayedmessageid", "lastswipeid", "currentswipeid", "lastgenerationtype", "noop", "input",
    "model",
})

#: SillyTavern macros with arguments (``{{random:a,b}}``, ``{{getvar::x}}``).
UI_MACROS_WITH_ARGS = frozenset({
    "random", "pick", "roll", "reverse", "datetimeformat", "timediff", "banned", "getvar", "setvar", "addvar",
    "incvar", "decvar", "getglobalvar", "setglobalvar", "addglobalvar", "incglobalvar", "decglobalvar",
})

ZERO_WIDTH = "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad"
JOINERS = "\u200c\u200d"

# --- clean: patterns ----------------------------------------------------------

#: Code: fenced blocks (to the end of the text when never closed) and inline spans.
CODE = augment.LazyPattern(
    r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[^`\n]*(?:\n[\s\S]*?(?:^[ \t]{0,3}(?P=fence)[ \t]*$|\Z)|\Z)"
    r"|(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n)[\s\S])+?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE,
)
ENTITY = augment.LazyPattern(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
NBSP_ENTITIES = frozenset({"&nbsp;", "&#160;", "&#xa0;", "&#xA0;", "&#Xa0;", "&#XA0;"})
HTML_COMMENT = augment.LazyPattern(r"<!--[\s\S]*?(?:-->|\Z)")
SCRIPT = augment.LazyPattern(r"<\s*(script|style)\b[^<>]*>[\s\S]*?(?:<\s*/\s*\1\s*>|\Z)", re.IGNORECASE)
LINE_BREAK = augment.LazyPattern(r"[ \t]*<\s*(?:br|hr)\b[^<>]*>[ \t]*(?:\r?\n)?", re.IGNORECASE)
PARAGRAPH_END = augment.LazyPattern(r"[ \t]*<\s*/\s*p\s*>[ \t]*(?:\r?\n[ \t]*)*", re.IGNORECASE)
BLOCK_END = augment.LazyPattern(rf"[ \t]*<\s*/\s*(?:{'|'.join(sorted(BLOCK_ENDS))})\s*>[ \t]*(?:\r?\n)?", re.IGNORECASE)
TAG = augment.LazyPattern(r"<\s*/?\s*(?P<name>[A-Za-z][A-Za-z0-9]*)(?:\s(?:[^<>\"']|\"[^\"]*\"|'[^']*')*)?/?\s*>")
ZERO_WIDTH_RE = augment.LazyPattern(f"[{ZERO_WIDTH}]")
JOINER_RE = augment.LazyPattern(f"[{JOINERS}]")
CONTROL = augment.LazyPattern(r"[\x00-\x08\x0e-\x1f\x7f\x80-\x84\x86-\x9f]")  # not \t \n \r, nor U+0085 (a line break)
PAGE_BREAK = augment.LazyPattern(r"[\x0b\x0c]")
_NESTED = r"(?:\{\{[^{}]*\}\}|[^{}])*"  # an argument may hold a macro: {{random:{{char}},{{user}}}}
MACRO = augment.LazyPattern(
    r"\{\{\s*(?:"
    rf"(?:{'|'.join(sorted(UI_MACROS, key=len, reverse=True))})\s*"
    rf"|(?:{'|'.join(sorted(UI_MACROS_WITH_ARGS, key=len, reverse=True))})(?:[\s:]{_NESTED})?"
    rf"|time_utc[+-]\d+|//{_NESTED}"
    r")\}\}",
    re.IGNORECASE,
)
#: A macro at the end of a sentence takes the space before it along: "at {{time}}." -> "at."
MACRO_BEFORE_STOP = augment.LazyPattern(rf"[ \t]+(?:{MACRO.pattern})(?=[.,!?;:)]|$)", re.IGNORECASE | re.MULTILINE)
TRIM_MACRO = augment.LazyPattern(r"(?:\r?\n)*\{\{\s*trim\s*\}\}(?:\r?\n)*", re.IGNORECASE)
NEWLINE_MACRO = augment.LazyPattern(r"\{\{\s*newline\s*\}\}", re.IGNORECASE)
TEMPLATE_TOKEN = augment.LazyPattern(
    r"<[|｜]im_start[|｜]>(?:system|user|assistant)?[ \t]*\n?"
    r"|<[|｜]start_header_id[|｜]>\w*<[|｜]end_header_id[|｜]>(?:[ \t]*\n)*"
    r"|<[|｜][^<>|｜\n]{1,40}[|｜]>"
    r"|\[/?INST\]|<</?SYS>>"
)
SPACES = augment.LazyPattern(r"(?<=\S) {2,}(?=\S)")
BLANK_LINES = augment.LazyPattern(r"(?:\r?\n[ \t]*){3,}\r?\n")

#: The note for each kind of change, in the order they are made.
NOTES = {
    "entities": "decoded HTML entities",
    "html": "removed HTML tags",
    "zero-width": "removed zero-width characters",
    "control": "removed control characters",
    "macros": "removed UI macros",
    "tokens": "removed chat-template tokens",
    "spaces": "collapsed runs of spaces",
    "blank lines": "collapsed blank lines",
}


def _is_joined(ch: str) -> bool:
    """A character a zero-width joiner may sit next to: an emoji, or a letter
    of a script that joins (not ASCII, not CJK, not a space)."""
    o = ord(ch)
    return o > 0x7F and not ch.isspace() and not (0x3000 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF)


def _joiner(match: re.Match[str]) -> str:
    text, i = match.string, match.start()
    keep = 0 < i and i + 1 < len(text) and _is_joined(text[i - 1]) and _is_joined(text[i + 1])
    return match.group(0) if keep else ""


def _entities(text: str) -> str:
    for _ in range(3):  # exports escape twice: &amp;#39;
        new = ENTITY.sub(lambda m: " " if m.group(0) in NBSP_ENTITIES else html.unescape(m.group(0)), text)
        if new == text:
            break
        text = new
    return text


def _html(text: str) -> str:
    if "<" not in text:
        return text
    text = HTML_COMMENT.sub("", text)
    text = SCRIPT.sub("", text)
    text = LINE_BREAK.sub("\n", text)
    text = PARAGRAPH_END.sub("\n\n", text)
    text = BLOCK_END.sub("\n", text)
    return TAG.sub(lambda m: "" if m.group("name").lower() in HTML_TAGS else m.group(0), text)


def _macros(text: str) -> str:
    if "{{" not in text:
        return text
    text = TRIM_MACRO.sub("", text)
    text = NEWLINE_MACRO.sub("\n", text)
    return MACRO.sub("", MACRO_BEFORE_STOP.sub("", text))


def _blank_lines(text: str) -> str:
    return BLANK_LINES.sub(lambda m: ("\r\n" if "\r\n" in m.group(0) else "\n") * 3, text)


STEPS = (
    ("entities", _entities),
    ("html", _html),
    ("zero-width", lambda t: JOINER_RE.sub(_joiner, ZERO_WIDTH_RE.sub("", t))),
    ("control", lambda t: CONTROL.sub("", PAGE_BREAK.sub("\n", t))),
    ("macros", _macros),
    ("tokens", lambda t: TEMPLATE_TOKEN.sub("", t)),
    ("spaces", lambda t: SPACES.sub(" ", t)),
    ("blank lines", _blank_lines),
)


#: Any character a step could change: most turns have none (nor a run of spaces
#: or blank lines), and skip the steps.
MAYBE_DIRTY = augment.LazyPattern(rf"[&<{{\[{ZERO_WIDTH}{JOINERS}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")


def _maybe_dirty(text: str) -> bool:
    return bool(MAYBE_DIRTY.search(text) or ("  " in text and SPACES.search(text)) or (text.count("\n") > 3 and BLANK_LINES.search(text)))

#: Whitespace steps: noted only when the text had such whitespace before any removal.
WHITESPACE = {"spaces": SPACES, "blank lines": BLANK_LINES}


def segments(text: str) -> Iterable[tuple[bool, str]]:
    """``(is_code, part)`` for the parts of ``text``, code blocks and spans apart."""
    if "`" not in text and "~~~" not in text:
        yield False, text
        return
    at = 0
    for match in CODE.finditer(text):
        if match.start() > at:
            yield False, text[at : match.start()]
        yield True, match.group(0)
        at = match.end()
    if at < len(text):
        yield False, text[at:]


def clean_text(text: str) -> tuple[str, list[str]]:
    """``text`` cleaned, and the kinds of change made (keys of ``NOTES``)."""
    if not _maybe_dirty(text):
        return text, []
    kinds: set[str] = set()
    out = []
    for is_code, part in segments(text):
        if not is_code:
            before = part
            for kind, step in STEPS:
                new = step(part)
                if new != part:
                    if kind not in WHITESPACE or WHITESPACE[kind].search(before):
                        kinds.add(kind)  # spaces left where something was removed are part of that removal
                    part = new
        out.append(part)
    cleaned = "".join(out)
    if cleaned != text:  # trim only the ends that were not blank before
        if text[:1] and not text[:1].isspace():
            cleaned = cleaned.lstrip()
        if text[-1:] and not text[-1:].isspace():
            cleaned = cleaned.rstrip()
    return cleaned, [k for k in NOTES if k in kinds]


def where(conv: Conversation, i: int) -> str:
    """A turn as the filters name it: its position in the record, the system prompt counted."""
    return "the system prompt" if i == 0 and conv.turns[0].role == SYSTEM else f"turn {i + 1}"


def texts(conv: Conversation) -> Iterable[tuple[str, str]]:
    for i, turn in enumerate(conv.turns):
        yield where(conv, i), turn.content
    if conv.preference is not None:
        yield "the chosen answer", conv.preference.chosen.content
        yield "the rejected answer", conv.preference.rejected.content


# --- the filters --------------------------------------------------------------


class Clean(Filter):
    name = "clean"
    summary = "strip HTML, entities, zero-width and control characters, UI macros and extra spaces (code untouched)"
    stateless = True

    def start(self) -> None:
        self._last: tuple[Conversation, str | None] | None = None

    def transform(self, conversation: Conversation, context: FilterContext) -> tuple[Conversation, list[str]]:
        notes: list[str] = []
        cleaned: dict[str, str] = {}
        emptied = None
        for place, text in texts(conversation):
            new, kinds = clean_text(text)
            if new != text:
                cleaned[place] = new
                notes.extend(NOTES[k] for k in kinds)
                if text.strip() and not new.strip() and emptied is None:
                    emptied = f"{place} is empty after cleaning"
        if emptied is not None:  # check() drops it; the rejects file gets it as it was
            self._last = (conversation, emptied)
            return conversation, []
        if not cleaned:
            self._last = (conversation, None)
            return conversation, []
        out = conversation.copy()
        for i, turn in enumerate(out.turns):
            turn.content = cleaned.get(where(out, i), turn.content)
        if out.preference is not None:
            out.preference.chosen.content = cleaned.get("the chosen answer", out.preference.chosen.content)
            out.preference.rejected.content = cleaned.get("the rejected answer", out.preference.rejected.content)
        self._last = (out, None)
        return out, notes

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        last = getattr(self, "_last", None)
        if last is not None and last[0] is conversation:  # just transformed: the verdict is known
            return last[1]
        for place, text in texts(conversation):
            if text.strip() and not clean_text(text)[0].strip():
                return f"{place} is empty after cleaning"
        return None


# --- spam -----------------------------------------------------------------------

#: Advertising words and phrases, English (a space matches any run of spaces).
ADS_EN = frozenset({
    "discord.gg", "discord.com/invite", "join my", "join our", "subscribe", "subscribers", "patreon",
    "ko-fi", "kofi", "onlyfans", "buy now", "order now", "shop now", "promo code", "discount code",
    "coupon", "use code", "click here", "click the link", "link in bio", "free trial", "limited offer",
    "limited time offer", "sign up now", "follow me on", "check out my", "t.me", "telegram", "whatsapp",
    "dm me", "commissions open", "giveaway", "affiliate", "sponsored",
})

#: Advertising words, Chinese.
ADS_ZH = frozenset({
    "加群", "加微信", "加我微信", "微信号", "微信號", "加v", "加qq", "qq群", "群号", "群號", "优惠", "優惠",
    "折扣", "点击链接", "點擊鏈接", "点击下方链接", "扫码", "掃碼", "二维码", "二維碼", "公众号", "公眾號",
    "免费领取", "免費領取", "限时", "限時", "代购", "代購", "淘宝店", "淘寶店", "私信我", "下载app",
})

_TLDS = "com|net|org|gg|io|me|ly|co|cn|xyz|link|app|tv|cc|to|info|biz|shop|store|site|online|top"
# All on lower-case text, each tried only when a cheap test says it may match.
SCHEME_URL = augment.LazyPattern(r"(?:https?|ftp)://[^\s<>\"'\])]+|(?<![\w.])www\.[^\s<>\"'\])]+")
BARE_URL = augment.LazyPattern(rf"(?<![@\w.])(?:[a-z0-9-]+\.)+(?:{_TLDS})(?:/[^\s<>\"'\])]*)?(?!\w|\.\w)")
TLD = augment.LazyPattern(rf"\.(?:{_TLDS})\b")


def trie(words: Iterable[str]) -> str:
    """A regex matching any of ``words`` (lower case), built as a trie: one
    branch per next letter, which ``re`` runs far faster than a flat
    alternation. A space matches any run of white space."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [(r"\s+" if ch == " " else re.escape(ch)) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


ADS_EN_RE = augment.LazyPattern(trie(ADS_EN))
ADS_ZH_RE = augment.LazyPattern(trie(ADS_ZH))


def links(text: str) -> list[str]:
    """The links in ``text`` (lower case): with a scheme, www., or a bare domain (discord.gg/x)."""
    found: list[str] = []
    if "://" in text or "www." in text:
        found = SCHEME_URL.findall(text)
        text = SCHEME_URL.sub(" ", text)
    if TLD.search(text):
        found += BARE_URL.findall(text)
    return found


def _in_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def ads(text: str) -> set[str]:
    """The different advertising words in ``text`` (lower case)."""
    found = {m.group(0) for m in ADS_ZH_RE.finditer(text)}
    for m in ADS_EN_RE.finditer(text):  # whole words only: "join my" is not in "join myself"
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        if not _in_word(before) and not _in_word(after):
            found.add(re.sub(r"\s+", " ", m.group(0)))
    return found


REPEAT_MIN_CHARS = 6  # shorter lines ("No.", "*nods*") may well repeat in a scene


class Spam(Filter):
    name = "spam"
    summary = "drop records with a turn of links, advertising (invites, promo codes, 加群) or one line pasted over and over"
    stateless = True
    options = (
        Option("url_share", float, 0.6, "share of a turn's text (not counting spaces) in links from which it is a link dump", check=between(0.05, 1.0)),
        Option("links", int, 2, "links that, with one advertising word, make a turn an ad", check=between(1, 1000)),
        Option("ad_words", int, 3, "different advertising words that make a turn an ad (a link counts as one)", check=between(1, 1000)),
        Option("repeats", int, 4, "times one line (of 6 characters or more) appears in a turn that make it spam", check=between(2, 1000)),
    )

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        for place, text in texts(conversation):
            why = self._spam(text)
            if why:
                return f"{place} {why}"
        return None

    def _spam(self, text: str) -> str | None:
        v = self.values
        lower = text.lower()
        urls = links(lower)
        words = ads(lower)
        if words and len(urls) >= v["links"]:
            return f"advertises ({v['links']} or more links with advertising words)"
        if len(words) + (1 if urls else 0) >= v["ad_words"]:
            return f"advertises ({v['ad_words']} or more advertising words and links)"
        if urls:
            share = sum(len(u) for u in urls) / max(1, sum(not c.isspace() for c in text))
            if share >= v["url_share"]:
                return f"is mostly links ({v['url_share']:.0%} or more of its text)"
        if text.count("\n") + 1 < v["repeats"]:
            return None
        lines = Counter(line.strip() for line in text.splitlines() if len(line.strip()) >= REPEAT_MIN_CHARS)
        if lines and lines.most_common(1)[0][1] >= v["repeats"]:
            return f"repeats one line {v['repeats']} or more times"
        return None


@augment.hookimpl
def register_filters(register):
    register(Clean)
    register(Spam)
