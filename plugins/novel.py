"""Dialogue from a novel: quoted speech with its speaker, read as conversations.

A novel is plain text (read it with ``--from novel``: ``.txt`` files belong to
the script format). ``--as NAME`` says whose lines are the assistant's; every
other speaker is on the user side with their name. How the text is read:

- **scenes**: a chapter heading (``Chapter 3``, ``CHAPTER IV: The Inn``,
  ``第三章 ...``, ``第12回``, ``# ...``, ``Prologue``, ``楔子``) or a scene
  break (``* * *``, ``***``, ``---``) starts a scene; each scene with speech is
  one conversation, its heading in the record field ``scene``.
- **paragraphs**: separated by blank lines or indented (spaces, a tab, full-
  width spaces); an unindented line of Chinese is a paragraph of its own.
- **speech**: the text in ``"..."``, ``“...”``, ``「...」`` or ``『...』``; a
  quote left open at the end of a paragraph runs to its end.
- **speakers**, from the narration around a quote, never from the order of
  turns: a cue after it (``"...," Mira said``, ``said Mira``, ``she asked
  quietly``, ``”李掌柜说。``) or before it (``Mira said, "``, ``Rhys turned and
  said: "``, ``李掌柜压低声音说：“``, ``他道：「``); a Chinese cue's speaker is a
  known name at the start of the clause or sentence, else the clause minus
  its verb and manner words when that leaves two to four characters. Known
  names are ``--as`` and every name an unambiguous cue gives anywhere in the
  book. A pronoun (``she said``, ``他道``) and a quote with no cue take the
  paragraph's speaker: the one speaker its other quotes name, else the one
  known name that begins a sentence of its narration. Anything else is left
  out and counted (``left out N unattributed quote(s)``), never guessed.
- **narration** in a paragraph with speech is kept as ``*action*`` in the turn
  of the quote it stands before (or after, at the end of the paragraph), the
  cue words removed. A narration piece longer than 60 words (120 Chinese
  characters) is left out, as is every paragraph without speech; both are
  counted in notes.

Limits: one name is one speaker (``Captain Rhys`` and ``Rhys`` are two);
descriptions (``the innkeeper said``) are not names; a first-person narrator
(``I said``) is unattributed; narration stays in the novel's tense and person.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import augment
from augment import ASSISTANT, USER, Conversation, Format, Location, RecordError, Turn, UsageError, type_name

NUMBER = r"(?:\d+|[ivxlcdm]+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[a-z]+teen|(?:twenty|thirty|forty|fifty)(?:[- ]\w+)?)"
#: After a heading's number or word: nothing, or a title after a space or a colon.
TITLE = r"(?:[\s\u3000:：.·、—–-].*)?"
HEADING = augment.LazyPattern(
    rf"^\s*(?:#{{1,6}}\s*(?P<md>.+?)|(?P<ch>(?:chapter|book|part)\s+{NUMBER}\b{TITLE}|(?:prologue|epilogue)(?:\s*[:：.—–-].*)?"
    rf"|第\s*[零〇一二三四五六七八九十百千两\d]+\s*[章回节卷幕]{TITLE}|(?:序章|楔子|尾声){TITLE}))\s*$",
    re.I,
)
BREAK = augment.LazyPattern(r"^\s*(?:(?:\*\s*){3,}|(?:＊\s*){3,}|-{3,}|—{2,}|(?:~\s*){3,})\s*$")
INDENT = augment.LazyPattern(r"^(?:[ \t]+|\u3000+)")
QUOTE = augment.LazyPattern(r'"(?P<a>[^"]+)(?:"|$)|“(?P<b>[^”]+)(?:”|$)|「(?P<c>[^」]+)(?:」|$)|『(?P<d>[^』]+)(?:』|$)')
CJK = augment.LazyPattern(r"[\u3400-\u9fff]")

EN_VERBS = (
    "said says asked asks replied answered whispered shouted muttered murmured called cried added snapped "
    "exclaimed demanded growled laughed sighed continued insisted admitted began repeated warned agreed offered "
    "suggested protested grumbled hissed yelled breathed mumbled explained announced pleaded retorted "
    "interrupted countered drawled teased told"
).split()
EN_VERB = r"(?:" + "|".join(EN_VERBS) + r")"
#: Capitalised words that start sentences but are not names.
NOT_NAMES = frozenset(
    "The A An And But Or So Then When While As If Yet Still Now Here There This That These Those It Its "
    "He She They We I You His Her Their Our My Your Yes No Oh Ah Well Perhaps Maybe Someone Everyone "
    "Nobody Somebody Something Nothing After Before Once Inside Outside Across Behind Without With At "
    "In On Of For From To By Again Finally Instead Even Just Only".split()
)
EN_PRONOUNS = frozenset("he she they He She They".split())
NAME = r"[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,2}"
WHO = rf"\b(?P<who>{NAME}|he|she|they)"
ADVERB = r"(?:\s+\w+ly)?"
EN_AFTER = [
    augment.LazyPattern(rf"^[\s,.!?—–-]*{WHO}{ADVERB}\s+{EN_VERB}\b{ADVERB}"),
    augment.LazyPattern(rf"^[\s,.!?—–-]*{EN_VERB}\s+(?P<who>{NAME})\b"),
]
EN_BEFORE = [
    augment.LazyPattern(rf"{WHO}{ADVERB}\s+{EN_VERB}{ADVERB}(?:\s+(?:him|her|them|me|us))?\s*[,:]?\s*$"),
    augment.LazyPattern(rf"\b{EN_VERB}\s+(?P<who>{NAME})\s*[,:]\s*$"),
    augment.LazyPattern(rf"(?:^|[.!?]\s+)(?P<who>{NAME})\b[^.!?\"“]*\b{EN_VERB}\s*[,:]\s*$"),
]

ZH_VERB = r"(?:回答道|说道|问道|答道|喊道|叫道|笑道|应道|叹道|骂道|回答|说|问|(?<![知难味街轨])道|答|喊)"
ZH_PRONOUNS = ("他们", "她们", "他", "她")
#: Manner words between a Chinese speaker and the verb (李掌柜压低声音说).
ZH_MANNER = augment.LazyPattern(r"(?:[\u4e00-\u9fff]{2}地|低声|轻声|大声|高声|沉声|柔声|厉声|小声|冷冷|淡淡|缓缓|慢慢|忽然|突然|"
                       r"连忙|急忙|赶紧|接着|继续|笑着|冷笑|苦笑|压低声音|点头|摇头|也|又|便|就|才|却|还|不禁)+$")
ZH_BEFORE = augment.LazyPattern(rf"(?P<clause>[^。！？!?；;，,…“”「」『』\s]*?){ZH_VERB}\s*[：:，,]?\s*$|(?P<colon>[^。！？!?；;，,…“”「」『』\s]+)[：:]\s*$")
ZH_AFTER = augment.LazyPattern(rf"^[\s，,。]*(?P<clause>[^。！？!?；;，,…“”「」『』\s]*?){ZH_VERB}(?=[\s。！？!?；;，,…“「]|$)")
#: Characters that make a Chinese cue's subject a description, not a name (门外有人说).
NOT_IN_NAMES = frozenset("有人的了着在是个们这那里外上下中我你他她它谁众都")
SENTENCE_START = augment.LazyPattern(r"(?:^|[.!?。！？]\s*)([^\s.!?。！？])")
LONG_WORDS, LONG_CHARS = 60, 120


class Novel(Format):
    name = "novel"
    summary = "a novel's dialogue (plain text, --from novel --as NAME): quotes with their speakers, one conversation per scene; input only"
    writable = False
    options = {"speaker": "the character the assistant plays (--as NAME)"}

    def __init__(self, speaker: str | None = None) -> None:
        self.speaker = speaker

    def configure(self, **options: Any) -> "Novel":
        super().configure(**options)
        speaker = options.get("speaker")
        return Novel(speaker) if speaker else self

    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]]:
        scenes = list(split_scenes(line.decode("utf-8-sig" if n == 1 else "utf-8").rstrip("\r\n") for n, line in enumerate(stream, 1)))
        known = {self.speaker} if self.speaker else set()
        for scene in scenes:
            for _, text in scene["paragraphs"]:
                for quote in quotes(text):
                    who = explicit(quote, known)
                    if who and who not in EN_PRONOUNS and who not in ZH_PRONOUNS:
                        known.add(who)
        for scene in scenes:
            record = extract(scene, known)
            if record["lines"] or record["unattributed"]:
                yield Location(file, scene["line"]), record

    def decode(self, record: Any) -> Conversation:
        if not isinstance(record, dict) or not isinstance(record.get("lines"), list):
            raise RecordError(f"a novel scene must be an object with 'lines', got {type_name(record)}")
        speakers = list(dict.fromkeys(line["speaker"] for line in record["lines"]))
        if not self.speaker:
            raise UsageError(f"novel input needs --as NAME to say who the assistant is (speakers: {', '.join(speakers) or 'none found'})")
        notes = [f"left out {n} {what}" for what, n in record.get("left_out", {}).items() if n]
        if self.speaker not in speakers:
            raise RecordError(f"{self.speaker!r} does not speak in this scene (speakers: {', '.join(speakers) or 'none attributed'})")
        turns = [Turn(ASSISTANT if line["speaker"] == self.speaker else USER, line["text"], line["speaker"]) for line in record["lines"]]
        return Conversation(turns=turns, extra={"scene": record.get("scene", "")}, notes=notes)


def split_scenes(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Scenes of ``{"scene", "line", "paragraphs": [(line, text)]}``."""
    scene: dict[str, Any] = {"scene": "", "line": 1, "paragraphs": []}
    current: list[str] = []
    start = 0

    def flush() -> None:
        if current:
            joiner = "" if CJK.search(current[0]) else " "
            scene["paragraphs"].append((start, joiner.join(current)))
            current.clear()

    for n, line in enumerate(lines, 1):
        heading = HEADING.match(line) if len(line.strip()) <= 60 else None
        if heading or BREAK.match(line):
            flush()
            if scene["paragraphs"]:
                yield scene
            scene = {"scene": (heading.group("md") or heading.group("ch")).strip() if heading else "", "line": n, "paragraphs": []}
            continue
        if not line.strip() or INDENT.match(line) or CJK.search(line):
            flush()
        if line.strip():
            if not current:
                start = n
            current.append(line.strip())
    flush()
    if scene["paragraphs"]:
        yield scene


def quotes(text: str) -> list[dict[str, Any]]:
    """Each quote of a paragraph with the narration before and after it."""
    found = list(QUOTE.finditer(text))
    out = []
    for i, m in enumerate(found):
        begin = found[i - 1].end() if i else 0
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        speech = next(g for g in m.groups() if g is not None).strip()
        out.append({"speech": speech, "span": m.span(), "before": text[begin : m.start()], "after": text[m.end() : end], "prev": begin, "next": end})
    return out


def explicit(quote: dict[str, Any], known: set[str]) -> str | None:
    """The speaker a cue beside the quote names (a pronoun as itself), or None;
    the cue's place is kept in ``quote["cue"]`` (``before``/``after``, span)."""
    before, after = quote["before"], quote["after"]
    for pattern in EN_BEFORE:
        m = pattern.search(before)
        if m and (who := _en_name(m.group("who"))):
            quote["cue"] = ("before", m.start("who"), len(before))
            return who
    m = ZH_BEFORE.search(before)
    if m:
        sentence_start = max(before.rfind(p, 0, m.start()) for p in "。！？!?") + 1
        who = _zh_name(m.group("clause") if m.group("clause") is not None else m.group("colon"), known, before[sentence_start : m.start()], colon=m.group("colon") is not None)
        if who:
            quote["cue"] = ("before", m.start(), len(before))
            return who
    for pattern in EN_AFTER:
        m = pattern.match(after)
        if m and (who := _en_name(m.group("who"))):
            quote["cue"] = ("after", 0, m.end())
            return who
    m = ZH_AFTER.match(after)
    if m and (who := _zh_name(m.group("clause"), known, "")):
        quote["cue"] = ("after", 0, m.end())
        return who
    return None


def _en_name(who: str) -> str | None:
    words = who.split()
    while words and words[0] in NOT_NAMES:
        words.pop(0)
    if not words:
        return who.lower() if who.lower() in EN_PRONOUNS else None
    return " ".join(words) if who[0].isupper() or who in EN_PRONOUNS else None


def _zh_name(clause: str, known: set[str], sentence: str, colon: bool = False) -> str | None:
    for text in (clause, sentence):
        for name in sorted(known, key=len, reverse=True):
            if text.startswith(name):
                return name
    if colon:
        return None  # "沈青笑了笑：" names a speaker only when the name is known
    for pronoun in ZH_PRONOUNS:
        if clause.startswith(pronoun) and not ZH_MANNER.sub("", clause[len(pronoun) :]):
            return pronoun
        if not clause and sentence.startswith(pronoun):
            return pronoun
    bare = ZH_MANNER.sub("", clause)
    if not 2 <= len(bare) <= 4 or any(ch in NOT_IN_NAMES for ch in bare):
        return None
    return bare if all("\u4e00" <= ch <= "\u9fff" or ch == "·" for ch in bare) else None


def extract(scene: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """A scene's attributed lines (speaker, text with *actions*, line) and what was left out."""
    lines: list[dict[str, Any]] = []
    left_out = {"unattributed quote(s)": 0, "long narration piece(s)": 0, "narration-only paragraph(s)": 0}
    unattributed: list[int] = []
    gap = False
    for line_no, text in scene["paragraphs"]:
        found = quotes(text)
        if not found:
            left_out["narration-only paragraph(s)"] += 1
            continue
        whos = [explicit(q, known) for q in found]
        named = {w for w in whos if w and w not in EN_PRONOUNS and w not in ZH_PRONOUNS}
        narration = _narration(text, found)
        subjects = {name for name in known if any(narration[m.start(1) :].startswith(name) for m in SENTENCE_START.finditer(narration))}
        actor = next(iter(named)) if len(named) == 1 else next(iter(subjects)) if len(subjects) == 1 and not named else None
        for q, who in zip(found, whos):
            q["who"] = actor if who is None or who in EN_PRONOUNS or who in ZH_PRONOUNS else who
        gaps = [q["before"] for q in found] + [found[-1]["after"]]
        kept = []
        for i, gap in enumerate(gaps):
            cue_before = found[i].get("cue") if i < len(found) else None
            cue_after = found[i - 1].get("cue") if i else None
            low = cue_after[2] if cue_after and cue_after[0] == "after" else 0
            high = cue_before[1] if cue_before and cue_before[0] == "before" else len(gap)
            piece = gap[low:high] if low < high else ""
            going_on = re.match(r"[\s,]*and\s+(?!(?:he|she|they|I)\b)", piece) if low else None
            if going_on and found[i - 1]["who"]:
                piece = f"{found[i - 1]['who']} {piece[going_on.end():]}"  # '..." Mira said, and tossed him a rag.'
            kept.append(_action(piece, left_out))
        for i, q in enumerate(found):
            if q["who"] is None:
                left_out["unattributed quote(s)"] += 1
                unattributed.append(line_no)
                gap = True  # someone spoke here: the next line is a turn of its own
                continue
            speech = re.sub(r",$", ".", re.sub(r"，$", "。", q["speech"]))
            content = " ".join(p for p in (kept[i], speech, kept[-1] if i == len(found) - 1 else "") if p)
            if lines and lines[-1]["speaker"] == q["who"] and not gap:
                lines[-1]["text"] += " " + content
            else:
                lines.append({"speaker": q["who"], "text": content, "line": line_no})
            gap = False
    return {"scene": scene["scene"], "lines": lines, "unattributed": unattributed, "left_out": left_out}


def _narration(text: str, found: list[dict[str, Any]]) -> str:
    out, pos = [], 0
    for q in found:
        out.append(text[pos : q["span"][0]])
        out.append(" … ")
        pos = q["span"][1]
    return "".join(out + [text[pos:]])


def _action(text: str, left_out: dict[str, int]) -> str:
    text = re.sub(r"^[\s,，.。;；:：!！?？—–-]+|[\s,，;；:：—–-]+$", "", text.replace("*", ""))
    text = re.sub(r"^(?:and|then)\s+", "", text)
    if not any(ch.isalpha() for ch in text):
        return ""
    if len(CJK.findall(text)) <= 2 and len(CJK.sub(" ", text).split()) < 2:
        return ""  # what a cue leaves ("she said again", 门外，“...”) says nothing as an action
    if len(text.split()) > LONG_WORDS or len(CJK.findall(text)) > LONG_CHARS:
        left_out["long narration piece(s)"] += 1
        return ""
    return f"*{text[0].upper() + text[1:]}*"


@augment.hookimpl
def register_formats(register):
    register(Novel())
