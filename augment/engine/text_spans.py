"""Finding the spans of prose that no step may change: quoted mentions,
text in another script, and names wherever they stand."""

from __future__ import annotations

import re
from functools import lru_cache

from augment.engine.code_spans import _LIST_MARK
from augment.engine.languages import (
    CJK,
    ENGLISH_FUNCTION_WORDS,
    FOREIGN_FUNCTION_WORDS,
    LATIN,
    dominant_script,
    script_of,
)
from augment.patterns import LazyPattern


# ---- quoted mentions

#: Quotes that open and close differently; straight quotes are paired apart.
_PAIRED_QUOTES = LazyPattern(r"“[^“”\n]{1,200}”|「[^「」\n]{1,200}」|『[^『』\n]{1,200}』|《[^《》\n]{1,200}》|(?<![^\W_])‘[^‘’\n]{1,200}?’(?![^\W_])")
_SINGLE_QUOTES = LazyPattern(r"(?<![\w'])'(?=\S)([^'\n]{1,200}?)(?<=\S)'(?![\w'])")
_CUE_BEFORE = LazyPattern(
    r"""(?:\b(?:word|words|term|terms|phrase|phrases|idiom|idioms|expression|expressions|saying|sayings|proverb|proverbs
    |slogan|motto|sentence|sentences|title|titled|named|called|label(?:l?ed)?|tag(?:ged)?|keyword|keywords|letter|letters
    |string|spelled|spelt|spell|synonyms?|antonyms?|meaning|means|translate|translates|translation|pronounce
    |rhymes?\s+with|nouns?|verbs?|adjectives?|adverbs?|quote|quoted|text)(?:\s+(?:of|for|to|as|like|with|is|was))?
    |成语|词语|单词|词汇|短语|句子|俗语|谚语|名言|标题|题目|名字|名称|叫做|称为|称作|翻译|一词|这个词|词|字)\s*[:：,，]?\s*$""",
    re.X | re.I,
)
_CUE_AFTER = LazyPattern(
    r"^\s*(?:means?\b|meant\b|stands?\s+for\b|refers?\s+to\b|is\s+(?:a|an|the)\s+(?:word|phrase|idiom|term|expression|saying)\b"
    r"|的意思|是什么意思|什么意思|的含义|的同义词|的近义词|的反义词|这个词|一词|这个成语|这句话|的英文|的中文)",
    re.I,
)
_LIST_GAP = LazyPattern(r"^\s*(?:[,，、;；/]|\s)*\s*(?:(?:and|or|and/or|和|与|或|及|以及)\s*)?$", re.I)
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
_NOT_LATIN_RUN = LazyPattern(rf"[^\W\d_{_LATIN_LETTER}](?:[^\n\w]*[^\W\d_{_LATIN_LETTER}]|\d)*")
#: Runs of Latin words, with digits and what lies between them on a line ("C++", "GPT-4").
_LATIN_RUN = LazyPattern(rf"[{_LATIN_LETTER}](?:[^\n\w]*[{_LATIN_LETTER}]|\d)*(?:\+\+|#|-?\d+(?:\.\d+)*)?")


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

_NAME_WORD = LazyPattern(r"[A-Za-zÀ-ÖØ-öø-ɏ]+(?:['’-][A-Za-zÀ-ÖØ-öø-ɏ]+)*")
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
_CONTRACTION = LazyPattern(r"['’](?:t|ll|re|ve|d|m)$", re.I)
_ABBREVIATIONS = LazyPattern(r"\b(?:Mr|Mrs|Ms|Dr|St|Prof|Sr|Jr|Mt|Capt|Lt|Sgt|Gen|Col|Rev|Hon|vs|etc|No)\.$")
_STARTERS = set(".!?…:;\"“‘'([{*「『《—–>|#)]）") | {"。", "！", "？", "：", "；", "，"}


def _is_capitalised(word: str) -> bool:
    return word[0].isupper()


def _at_start(text: str, line_start: int, pos: int) -> bool:
    """Whether a word at ``pos`` starts a sentence, a line or a list item."""
    before = text[line_start:pos].rstrip()
    if not before or _LIST_MARK.fullmatch(before + " ") or _QUOTE_OR_HEADING_MARKS.fullmatch(before):
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


_CAPITAL = LazyPattern(r"[A-ZÀ-ÖØ-Þ]")
_APOSTROPHE = LazyPattern(r"['’]")
_QUOTE_OR_HEADING_MARKS = LazyPattern(r"[#>\s]+")
_HASHES = LazyPattern(r"#+")
#: What may follow words alone on their line: a colon, a full stop, a dash and more.
_AFTER_A_HEADING = LazyPattern(r"\s*(?:[:：.,;!]|\s[-–—]\s.*|[:：]\s.*)?\s*")
_TOKENS = LazyPattern(r"[^\W\d_]+")


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    if not _CAPITAL.search(text):
        return []
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
        if len(run) == 1 and _closed(run[0].group(0)):
            continue  # "The", "You": what both ways below come to for a closed word alone
        line_start = text.rfind("\n", 0, run[0].start()) + 1
        if len(run) <= 4 and _alone_on_line(text, line_start, run[0].start(), run[-1].end()):
            if len(run) > 1 or run[0].group(0).lower() not in CLOSED_WORDS:
                out.append((run[0].start(), run[-1].end(), "name"))  # "- Will Harrow", "Chapter One:", a heading
            continue
        while run and (run[0].group(0) in _NOT_NAMES or _APOSTROPHE.split(run[0].group(0), 1)[0].lower() in CLOSED_WORDS):
            run = run[1:]  # "Then Mira ...", "Since Captain Vell ..."
        if not run:
            continue
        starts = _at_start(text, line_start, run[0].start())
        names = [k > 0 or not starts or _not_a_word(w.group(0)) for k, w in enumerate(run)]
        names = [n and w.group(0) not in _NOT_NAMES and not _CONTRACTION.search(w.group(0)) for n, w in zip(names, run)]
        if any(names):
            out.append((run[0].start(), run[-1].end(), "name"))
    if out:
        tokens = _TOKENS.findall(text.lower())
        if sum(map(FOREIGN_FUNCTION_WORDS.__contains__, tokens)) > max(1, sum(map(ENGLISH_FUNCTION_WORDS.__contains__, tokens))):
            return []  # another Latin-script language: its capitals say nothing
    return out


def _closed(word: str) -> bool:
    """A closed-class word (and so is what comes before its apostrophe)."""
    return word.lower() in CLOSED_WORDS and _APOSTROPHE.split(word, 1)[0].lower() in CLOSED_WORDS


def _not_a_word(word: str) -> bool:
    """A capitalised word at the start of a sentence is a name if it is not a
    dictionary word, or is a common first name ("Harry", "Rose", "Grace")."""
    if len(word) > 1 and word.isupper():
        return True  # NASA, API, "STOP"
    base = _APOSTROPHE.split(word, 1)[0]
    if base.lower() in CLOSED_WORDS:
        return False
    return _is_word(base) is False or base in _first_names()


FIRST_NAMES_FILE = "first-names.txt"


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    """Common English first names (Faker's en_US list, about 700; loaded once,
    the first time a capitalised dictionary word starts a sentence). Importing
    Faker takes ~70 ms (it lists every locale it has), so the list is kept in
    the cache folder, stamped with the size and time of Faker's file."""
    import importlib.util
    from pathlib import Path

    from augment.engine.dictionary import kept_words

    spec = importlib.util.find_spec("faker")  # where it is, without importing it
    if spec is None or not spec.origin:
        return frozenset()
    source = Path(spec.origin).parent / "providers" / "person" / "en_US" / "__init__.py"
    try:
        st = source.stat()
    except OSError:  # laid out otherwise: ask Faker itself
        return _faker_first_names()
    return kept_words(FIRST_NAMES_FILE, f"{source} {st.st_size} {st.st_mtime_ns}", _faker_first_names)


def _faker_first_names() -> frozenset[str]:
    try:
        from faker.providers.person.en_US import Provider
    except ImportError:
        return frozenset()
    return frozenset(Provider.first_names)


def _alone_on_line(text: str, line_start: int, start: int, end: int) -> bool:
    """The words from ``start`` to ``end`` are all the line holds (a list
    marker before them, a colon, dash or full stop after them allowed)."""
    before = text[line_start:start].strip()
    if before and not _LIST_MARK.fullmatch(before + " ") and not _HASHES.fullmatch(before):
        return False
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else len(text)]
    return bool(_AFTER_A_HEADING.fullmatch(rest))
