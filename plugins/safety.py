"""Never multiply sexual content involving minors.

Role-play corpora scraped from the web can hold it, and an augmenter would
turn one such record into many. ``safety`` rejects every record that has
both a *minor signal* and a *sexual term* anywhere in it: any turn (and its
speaker name), the system prompt, a preference pair's answers, or the text of
the linked character's card (every text field: description, personality,
scenario, first_mes, mes_example, creator_notes ...; the alternate greetings,
the tags, the lorebook entries and the depth prompt). The two need not be in
the same part: a persona described as 14 and a sexual term in turn 5 reject
the record. Markup, entities and zero-width characters are read through.

Minor signals, English and Chinese, in three kinds named in the reason:

- ``age under 18``: "15 years old", "15-year-old", "15yo", "age 12", "aged 9",
  "she's 14", "I was 12", "turned 13", "6 months old", "under 18",
  "underage", "a minor" (not "a minor injury"),
  "十四岁", "14岁", "年龄：12", "未成年".
- ``school grade``: "8th grade", "grade 8", middle school / junior high /
  elementary school students, high schoolers, "初中生", "小学生",
  "小学三年级", "幼儿园".
- ``child term``: child, kid, little girl, toddler, loli, shota, teenager ...,
  "萝莉", "正太", "幼女", "儿童", "小女孩", "孩子" ...

Sexual terms are a lexicon of explicit words and phrases in each language.

It errs on the side of rejecting, and a few decisions keep the obvious false
positives of a role-play corpus out:

- 18 and over are adults ("18 years old", "twenty-one-year-old", "二十四岁").
- The age of a thing is not a person's: "a 12-year-old whisky", "the ship is
  15 years old", "a scotch aged 12 years" pass (``AGED_THINGS``, the word after
  "N-year-old" or one of the three words before the age).
- A child in a story with no sexual term passes, however many children;
  records are judged one at a time, nothing carries over to the next.
- Words that only look like signals are masked first (``NOT_SIGNALS``): "the
  opposite sex", "Sex: female" on a card, "non-sexual", "no NSFW", "minors
  DNI", "with child", "inner child", "kid gloves", "chicken breasts",
  "女孩子" (a girl of any age), "生孩子", "形形色色" ...
- Words whose everyday sense is common are left out of the sexual lexicon or
  kept only in a form that is sexual: "naked" (a naked blade, a naked toddler
  on the beach), "nipple" (a bottle's), "kinky" (hair), "bondage" (slavery),
  "fetish"; "groped" only with a person after it (not "groped for the lamp").
- Bare "teen" and "high school" are not signals (adult characters were in high
  school; "teen" is used for 18 and 19); "teenager", "teenage", "high school
  student", "高中生" are.

What it still rejects, on purpose: an adult sex scene whose persona's
backstory says "at age 12 she ran away", or that talks of "the kids" asleep
upstairs. Those land in the rejects file with the reason, to be read.

The reason names the kind of signal and the part, never the text: "sexual
content with a minor (age under 18 in the persona's description; sexual term
in turn 4)". Turns are numbered by their position in the record, the system
prompt counted, like the other filters. The lexicons are the module-level
frozensets below, compiled into regexes once, on first use; they catch plain spelling, not
deliberate obfuscation ("s3x").
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property, lru_cache
from typing import Any, Iterable

import ahocorasick

import augment
from augment import SYSTEM, Conversation, Filter, FilterContext

# --- lexicons ---------------------------------------------------------------

#: English sexual terms (lower case; a space matches any run of spaces or hyphens).
SEXUAL_EN = frozenset({
    "sex", "sexual", "sexually", "sexy", "sexting", "nsfw", "smut", "smutty", "lewd", "erotic", "erotica",
    "porn", "porno", "pornographic", "pornography", "hentai", "ecchi", "nude", "nudes", "nudity",
    "orgasm", "orgasms", "orgasmed", "orgasming", "cum", "cums", "cumming", "cummed", "creampie", "semen",
    "ejaculate", "ejaculated", "ejaculating", "ejaculation", "penis", "penises", "erection", "genitals",
    "genitalia", "vagina", "vaginal", "vulva", "labia", "clit", "clitoris", "nipples", "breasts",
    "tits", "titties", "boobs", "his cock", "my cock", "your cock", "her cock", "his dick", "my dick",
    "your dick", "her pussy", "my pussy", "your pussy", "fuck her", "fuck him", "fucks her", "fucks him",
    "fucked her", "fucked him", "fucking her", "fucking him", "masturbate", "masturbates", "masturbated",
    "masturbating", "masturbation", "jerk off", "jerks off", "jerked off", "jerking off", "blowjob",
    "blow job", "handjob", "hand job", "fellatio", "cunnilingus", "intercourse", "foreplay", "orgy",
    "threesome", "dildo", "vibrator", "condom", "condoms", "bdsm",
    "make love", "makes love", "made love", "making love", "spread her legs", "spread your legs",
    "spread my legs", "molest", "molests", "molested", "molesting", "molestation", "molester", "rape",
    "rapes", "raped", "raping", "rapist", "incest", "pedophile", "pedophiles", "pedophilia", "paedophile",
    "paedophilia", "lolicon", "shotacon",
} | {  # groping for a light switch is no sign: only a person groped
    f"{verb} {whom}"
    for verb in ("grope", "gropes", "groped", "groping", "fondle", "fondles", "fondled", "fondling")
    for whom in ("her", "him", "me", "them", "you")
})

#: Chinese sexual terms (simplified and traditional).
SEXUAL_ZH = frozenset({
    "做爱", "做愛", "性交", "性爱", "性愛", "性行为", "性行為", "性器", "性侵", "性骚扰", "性騷擾", "性感",
    "阴茎", "陰莖", "阴道", "陰道", "阴蒂", "陰蒂", "阴部", "陰部", "下体", "下體", "私处", "私處", "勃起",
    "鸡巴", "雞巴", "肉棒", "小穴", "骚穴", "騷穴", "淫穴", "蜜穴", "乳头", "乳頭", "奶头", "奶頭",
    "射精", "精液", "内射", "內射", "潮吹", "口交", "肛交", "手淫", "自慰", "抽插", "爱抚", "愛撫",
    "发情", "發情", "强奸", "強姦", "强暴", "強暴", "轮奸", "輪姦", "猥亵", "猥褻", "淫荡", "淫蕩",
    "淫乱", "淫亂", "淫秽", "淫穢", "色情", "情色", "黄片", "黃片", "裸体", "裸體", "全裸", "脱光",
    "乱伦", "亂倫", "床戏", "床戲", "啪啪啪", "色色", "涩涩", "澀澀", "恋童", "戀童", "萝莉控", "正太控",
})

#: English words for a child (the ``child term`` kind).
CHILD_EN = frozenset({
    "child", "children", "child's body", "body of a child", "childlike body", "childlike figure",
    "kid", "kids", "kiddo", "little girl", "little girls", "little boy", "little boys", "toddler",
    "toddlers", "infant", "infants", "newborn", "preteen", "preteens", "pre teen", "pre teens", "tween",
    "tweens", "prepubescent", "pubescent", "teenager", "teenagers", "teenage", "young teen", "young teens",
    "early teens", "schoolchild", "schoolchildren", "schoolkid", "schoolkids", "loli", "lolis", "lolita",
    "shota", "shotas", "jailbait", "ageplay", "age play",
})

#: Chinese words for a child.
CHILD_ZH = frozenset({
    "萝莉", "蘿莉", "正太", "幼女", "幼童", "幼儿", "幼兒", "幼小", "女童", "男童", "儿童", "兒童", "孩童",
    "小女孩", "小男孩", "小孩", "孩子", "小朋友", "婴儿", "嬰兒", "未发育", "未發育",
})

#: School years that only minors are in (the ``school grade`` kind), besides "Nth grade".
SCHOOL_EN = frozenset({
    "middle schooler", "middle schoolers", "junior high schooler", "junior high schoolers",
    "elementary schooler", "elementary schoolers", "grade schooler", "grade schoolers", "high schooler",
    "high schoolers", "high school freshman", "high school sophomore", "kindergarten", "kindergartner",
    "kindergartener", "preschool", "preschooler", "preschoolers",
} | {
    f"{school} {who}"
    for school in ("middle school", "junior high", "junior high school", "elementary school", "elementary",
                   "grade school", "primary school", "high school")
    for who in ("student", "students", "pupil", "pupils", "girl", "girls", "boy", "boys", "kid", "kids")
})

SCHOOL_ZH = frozenset({
    "小学生", "小學生", "初中生", "中学生", "中學生", "国中生", "國中生", "高中生", "初中女生", "初中男生",
    "小学女生", "小學女生", "幼儿园", "幼兒園", "幼稚园", "幼稚園",
} | {f"{year}{who}" for year in ("初一", "初二", "初三", "高一", "高二") for who in ("学生", "學生", "女生", "男生")}
  | {f"小学{n}年级" for n in "一二三四五六123456"} | {f"小學{n}年級" for n in "一二三四五六123456"})

#: Words that say "under 18" outright (the ``age under 18`` kind, with the age patterns).
MINOR_EN = frozenset({
    "underage", "underaged", "under age", "under aged", "minors", "under 18", "under eighteen",
    "under the age of 18", "under the age of eighteen",
    "not yet 18", "not yet eighteen", "not 18 yet", "not even 18",
})
MINOR_ZH = frozenset({"未成年", "未满十八", "未滿十八", "未满18", "未滿18", "不满十八", "不滿十八", "不满18", "不滿18"})

#: Things whose age is not a person's ("a 12-year-old whisky").
AGED_THINGS = frozenset({
    "whisky", "whiskey", "scotch", "bourbon", "malt", "wine", "rum", "brandy", "cognac", "port", "sherry",
    "cheese", "vinegar", "bottle", "cask", "barrel", "vintage", "tree", "oak", "car", "truck", "bike",
    "motorcycle", "ship", "boat", "vessel", "plane", "house", "building", "mansion", "castle", "tower",
    "bridge", "church", "temple", "company", "business", "firm", "shop", "store", "tavern", "inn",
    "restaurant", "tradition", "law", "treaty", "war", "feud", "grudge", "secret", "case", "record",
    "recording", "album", "song", "film", "movie", "game", "book", "novel", "video", "photo", "photograph",
    "picture", "painting", "letter", "diary", "journal", "map", "computer", "laptop", "phone", "console",
    "engine", "rifle", "gun", "sword", "blade", "armor", "armour", "scar", "debt", "loan", "mortgage",
    "marriage", "relationship", "friendship", "account", "server", "software", "beard", "stubble", "bread",
    "milk", "news", "newspaper", "rumor", "rumour", "dog", "cat", "horse",
    "mare", "stallion", "gelding", "pony", "cow", "bull", "goat", "sheep", "pig", "hound", "parrot",
})

#: Persons, so "a 12-year-old girl with a car" is not the car's age.
PERSONS = frozenset({
    "girl", "girls", "boy", "boys", "child", "children", "kid", "kids", "daughter", "son", "sister",
    "brother", "niece", "nephew", "cousin", "student", "pupil", "virgin", "body", "version",
})

#: Phrases masked before matching: they hold a signal word but are no signal.
NOT_SIGNALS = frozenset({
    # sex as a category, negations, idioms
    "opposite sex", "same sex", "either sex", "fairer sex", "biological sex", "sex education", "sex ed", "sex of",
    "sex:", "sexual orientation", "non sexual", "nonsexual", "not sexual", "nothing sexual",
    "no sexual content", "not in a sexual way", "no nsfw", "not nsfw", "sfw only", "cum laude",
    "nude lipstick", "nude color", "nude colour", "nude colors", "nude colours",
    "erection of", "social intercourse", "chicken breasts", "turkey breasts", "pussy cat", "food porn",
    "blue tits", "great tits", "coal tits",
    # a child that is not one: procreation, idioms
    "with child", "inner child", "child's play", "kid gloves", "i kid you", "kid you not", "kid at heart",
    "lolita fashion", "lolita dress", "lolita style", "lolita outfit", "gothic lolita", "goth lolita",
    "sweet lolita", "classic lolita",
    # notices to readers
    "not for minors", "no minors", "minors dni", "minors do not interact", "minors, do not interact",
    "minors, dni", "minors should not", "minors are not allowed", "minors not allowed", "minors stay away",
    "minors keep out", "minors please leave", "minors, please leave",
    # Chinese: a girl/boy of any age, having children, childish adults, notices
    "形形色色", "女孩子", "男孩子", "生孩子", "要孩子", "孩子气", "孩子氣", "未成年人请勿", "未成年请勿", "未成年人禁止",
    "未成年禁止", "禁止未成年", "未成年人請勿", "未成年請勿",
} | {
    f"{verb} {det}{noun}"
    for verb in ("have", "has", "had", "having", "want", "wants", "wanted", "make", "making", "bear", "give you")
    for det in ("", "a ", "your ", "my ", "our ", "his ", "her ", "more ")
    for noun in ("child", "children", "kid", "kids", "baby")
})

# --- patterns ---------------------------------------------------------------

NUMBER_WORDS = {
    w: n for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)
TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[\s-]*$"
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_A = r"(?<![A-Za-z0-9_])"  # ASCII word edges: Chinese next to English is still an edge
_Z = r"(?![A-Za-z0-9_])"
_NUM = r"(?:\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_RANGE = rf"(?P<n>{_NUM})(?:\s*(?:-|–|to)\s*{_NUM})?"
_END = (
    r"(?=\s*(?:[.,!?;:)\]\"'…~]|$)|\s+(?:and|now|but|so|or|today|this|next|soon|yet|already|when|in|at|i|"
    r"years?|yrs?|y/?o|months?)\b)"
)


def _phrases(words: Iterable[str], edges: bool = True) -> str:
    """One regex for a lexicon, built as a trie (one branch per next letter,
    which ``re`` runs far faster than a flat alternation of hundreds of
    words). In English a space matches any run of spaces or hyphens, a hyphen
    any (or no) run of them, and a match must not start or end inside a word."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def char(ch: str) -> str:
        if edges and ch == " ":
            return r"[\s-]+"
        if edges and ch == "-":
            return r"[\s-]*"
        return re.escape(ch)

    def emit(node: dict[str, Any]) -> str:
        branches = [char(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    body = emit(trie) or "(?!)"
    return f"{_A}{body}{_Z}" if edges else body


class Patterns:
    """Regexes compiled on first use: most runs never need most of the gate's."""

    def __init__(self, *sources: str) -> None:
        self.sources = list(sources)

    @cached_property
    def patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(source) for source in self.sources]


class Lexicon(Patterns):
    """An English and a Chinese lexicon, searched apart on lower-case text
    (two small regexes run far faster than one alternation mixing scripts),
    with an optional English pattern beside them."""

    def __init__(self, en: Iterable[str], zh: Iterable[str], extra: str | None = None) -> None:
        self.words = tuple(en), tuple(zh), extra  # built into regexes on first use, not at import

    @cached_property
    def sources(self) -> list[str]:  # type: ignore[override]
        en, zh, extra = self.words
        return [_phrases(en), _phrases(zh, edges=False), *([extra] if extra else [])]

    def search(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)

    def mask(self, text: str) -> str:
        for p in self.patterns:
            text = p.sub(" ", text)
        return text


SEXUAL = Lexicon(SEXUAL_EN, SEXUAL_ZH)
CHILD = Lexicon(CHILD_EN, CHILD_ZH)
SCHOOL = Lexicon(
    SCHOOL_EN,
    SCHOOL_ZH,
    rf"{_A}(?:(?:\d{{1,2}}(?:st|nd|rd|th)|{'|'.join(ORDINALS)})[\s-]*grader?s?"
    rf"|(?:in|into)\s+grade\s+(?:[1-9]|1[0-2])|grade\s+(?:[1-9]|1[0-2])\s+(?:students?|pupils?|girls?|boys?|kids?)){_Z}",
)
MINOR = Lexicon(
    MINOR_EN,
    MINOR_ZH,
    rf"{_A}(?:a|the)\s+minor(?=\s*(?:[.,;:!?)]|$)|\s+(?:who|and|or|in|at|under|aged|named|like)\b)",
)
NOT_SIGNAL = Lexicon((w for w in NOT_SIGNALS if w.isascii()), (w for w in NOT_SIGNALS if not w.isascii()))

#: Ages in English; each pattern's group ``n`` is the age (of a range, the first).
AGES_EN = Patterns(
    # 15 years old, 15-year-old girl, 12-15 years old, 15 years of age
    rf"{_A}{_RANGE}[\s-]*(?:years?|yrs?|yr)[\s-]*(?:old|of\s+age){_Z}(?:[\s-]+(?P<next>[a-z]+)(?:\W+(?P<next2>[a-z]+))?)?",
    # 6 months old, a 3-week-old baby: a baby, whatever the number
    rf"{_A}(?P<n>{_NUM})[\s-]*(?:months?|weeks?|days?)[\s-]*old{_Z}(?:[\s-]+(?P<next>[a-z]+)(?:\W+(?P<next2>[a-z]+))?)?",
    # 15yo, 15 y/o
    rf"{_A}{_RANGE}\s*(?:y/o|y\.o\.|yo){_Z}",
    # age 12, aged 9, ages 8-12, age: 12, at the age of twelve, age is 12
    rf"{_A}age[ds]?{_Z}\s*(?:[:=]\s*|of\s+|is\s+|was\s+)?{_RANGE}{_Z}(?!\s*(?:%|percent))",
    # she's 14, I'm 14, he was 12, {{char}} is 14, turned 13
    rf"(?:{_A}(?:i'?m|i\s+am|i\s+was|(?:she|he|they|you|we)(?:'s|'re|\s+is|\s+are|\s+was|\s+were)|turn(?:s|ed|ing))"
    rf"|(?:\{{\{{char\}}\}}|<bot>)\s+(?:is|was))\s+"
    rf"(?:only\s+|just\s+|barely\s+|almost\s+|nearly\s+|about\s+|around\s+|maybe\s+|probably\s+)?"
    rf"(?P<n>{_NUM}){_Z}{_END}",
)
#: Every English age has a digit or a number word: text with neither skips the patterns.
NUMBERISH = Patterns(r"\d|" + _phrases(NUMBER_WORDS))
BABY_AGE, PRONOUN_AGE = 1, 4  # the pattern in months or days; the one whose subject is a person

_ZH_NUM = r"[\d零〇一二两兩三四五六七八九十]{1,3}"
AGES_ZH = Patterns(
    rf"(?<![\d零〇一二两兩三四五六七八九十百千万萬])(?P<n>{_ZH_NUM}|十来|十來|十几|十幾)\s*(?:周岁|週歲|岁|歲)"
    rf"|年[龄齡]\s*[:：]?\s*(?P<n2>{_ZH_NUM})(?![\d零〇一二两兩三四五六七八九十])"
)


def _zh_number(text: str) -> int:
    if text[0] == "十" and len(text) > 1 and text[1] in "来來几幾":
        return 10
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return ZH_DIGITS.get(tens, 1) * 10 + ZH_DIGITS.get(ones, 0)
    return max(ZH_DIGITS.get(ch, 0) for ch in text)  # 三四岁: three or four


def _en_number(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _age_of_a_thing(text: str, match: re.Match[str]) -> bool:
    groups = match.groupdict()
    following = [w.lower() for w in (groups.get("next"), groups.get("next2")) if w]
    if any(w in PERSONS for w in following[:1]):
        return False
    if any(w in AGED_THINGS for w in following):
        return True
    before = re.findall(r"[a-z]+", text[max(0, match.start() - 40) : match.start()].lower())[-3:]
    return any(w in AGED_THINGS for w in before)


def _under_18_en(text: str) -> bool:
    if not NUMBERISH.patterns[0].search(text):
        return False
    for i, pattern in enumerate(AGES_EN.patterns):
        for match in pattern.finditer(text):
            number = match.group("n")
            if _en_number(number) >= 18 and i != BABY_AGE:
                continue
            if not number.isdigit() and re.search(TENS, text[max(0, match.start("n") - 12) : match.start("n")]):
                continue  # twenty-one
            if i == PRONOUN_AGE or not _age_of_a_thing(text, match):
                return True
    return False


def _under_18_zh(text: str) -> bool:
    if not any(ch in text for ch in "岁歲龄齡"):
        return False
    for match in AGES_ZH.patterns[0].finditer(text):
        if _zh_number(match.group("n") or match.group("n2")) < 18:
            return True
    return False


#: Markup read through, so "<b>15</b>&nbsp;years old" and a zero-width space
#: inside a word hide nothing, with or without the clean filter before this one.
MARKUP = augment.LazyPattern(r"</?(?!(?:bot|user|char)>)[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.IGNORECASE)  # <BOT>, <USER> stay
INVISIBLE = augment.LazyPattern("[\u200b-\u200d\u2060\ufeff\u00ad]")


def _read_through(text: str) -> str:
    """Markup and invisible characters taken out, entities decoded,
    compatibility forms folded (full-width letters, digits), curly quotes
    straightened, lower case. (ASCII text has no invisible characters, no
    compatibility forms and no curly quotes: those steps are skipped.)"""
    if "<" in text:
        text = MARKUP.sub(" ", text)
    if "&" in text:
        import html  # only here: most text has no entity

        text = html.unescape(text)
    if not text.isascii():
        text = INVISIBLE.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    return text.lower()


def _prepare(text: str) -> str:
    """The text as the lexicons read it: read through (``_read_through``)
    and the phrases that are no signal masked."""
    return NOT_SIGNAL.mask(_read_through(text))


def minor_signal(text: str) -> str | None:
    """The kind of minor signal in ``text`` (prepared), or None."""
    if MINOR.search(text) or _under_18_en(text) or _under_18_zh(text):
        return "age under 18"
    if SCHOOL.search(text):
        return "school grade"
    if CHILD.search(text):
        return "child term"
    return None


def sexual_signal(text: str) -> bool:
    """Whether ``text`` (prepared) holds a sexual term."""
    return SEXUAL.search(text)


# --- the first pass: most records hold no sexual term at all ------------------
#
# An English match of the sexual lexicon is its words, each one whole (a word
# edge, or a run of spaces or hyphens, on either side), so each of its words
# stands in the text as a whole ASCII token (a run of [a-z0-9_]): a text that
# lacks a word of every entry has no English match, and masking the phrases
# that are no signal only ever takes matches away. Chinese terms are looked
# for as they are, in text that is not ASCII. A record that passes this is
# decided exactly as before; one that does not goes through the whole gate.

_EVERYDAY = frozenset("his my your her him me them you make makes made making hand blow spread off love".split())
#: Bytes that make up ASCII tokens kept, every other byte (and "?", which stands for
#: every non-ASCII character) made a space.
_TOKEN_BYTES = bytes(b if chr(b) in "abcdefghijklmnopqrstuvwxyz0123456789_" else 32 for b in range(256))


@lru_cache(maxsize=None)
def _first_pass() -> tuple[dict[str, list[tuple[str, ...]]], Any]:
    """Each entry's words (spaced: " sex "), filed under its longest word
    that is not an everyday one (its trigger), and a scanner of the triggers;
    built on first use (a run that reads no record does not pay for it)."""
    assert SEXUAL.words[2] is None  # English and Chinese: no extra pattern the first pass would miss
    assert all(re.fullmatch(r"[a-z0-9_]+(?: [a-z0-9_]+)*", term) for term in SEXUAL_EN)
    entries: dict[str, list[tuple[str, ...]]] = {}
    for term in sorted(SEXUAL_EN):
        words = term.split(" ")
        trigger = max(words, key=lambda w: (w not in _EVERYDAY, len(w)))
        entries.setdefault(f" {trigger} ", []).append(tuple(f" {w} " for w in words))
    automaton = ahocorasick.Automaton()
    for trigger in entries:
        automaton.add_word(trigger, trigger)
    automaton.make_automaton()
    return entries, automaton


#: Punctuation of everyday text that stays punctuation when read through:
#: NFKC makes none of it a letter, digit, underscore, space or hyphen (the
#: ellipsis becomes three dots), except the no-break space, which it makes a
#: space; none of it is invisible.
PLAIN_PUNCTUATION = "\u2014\u2013\u2026\u2018\u2019\u201c\u201d\u00a0\u00ab\u00bb\u2022\u00b7"
#: A character beyond ASCII other than ``PLAIN_PUNCTUATION``.
_NOT_PLAIN = augment.LazyPattern(f"[^\\x00-\\x7f{PLAIN_PUNCTUATION}]")


def read_through_all(texts: list[str]) -> str:
    """``texts`` as the first pass reads them, one per line: read through
    (``_read_through``), except that text with no markup or entity is only
    lower-cased, all at once, when its only characters beyond ASCII are
    ``PLAIN_PUNCTUATION``: the no-break space made a space (as NFKC makes
    it) and the rest of it "?" (punctuation still, where the lexicons' words
    and word edges are concerned)."""
    text = "\n".join(texts)
    if not text.isascii() and _NOT_PLAIN.search(text) is None:
        text = text.replace("\u00a0", " ").encode("ascii", "replace").decode("ascii")
    if text.isascii() and "<" not in text and "&" not in text:
        return text.lower()
    return "\n".join(_read_through(t) for t in texts)


@lru_cache(maxsize=None)
def _in_a_row(words: tuple[str, ...]) -> re.Pattern[str]:
    """An entry's words one after the other in the tokens (spaced words:
    " make ", " love "): where the lexicon's pattern matches the entry, its
    words stand so, as every run of spaces or hyphens between them is a run
    of spaces there."""
    return re.compile(" +".join(re.escape(word.strip()) for word in words).join((" ", " ")))


@lru_cache(maxsize=None)
def _entry_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """The lexicon's English pattern for one entry alone: the whole pattern
    matches where one of its entries does, and only an entry whose words
    stand in a row can (compiling this is far cheaper than the whole)."""
    return re.compile(_phrases([" ".join(word.strip() for word in words)]))


def maybe_sexual(text: str) -> bool:
    """False only when ``text`` (``read_through_all``'s; not masked) holds
    no sexual term: then no part of the record is
    ``sexual_signal``. True may be wrong (a phrase across two lines)."""
    entries, triggers = _first_pass()
    tokens = " " + text.encode("ascii", "replace").translate(_TOKEN_BYTES).decode("ascii") + " "
    seen = set()
    for _, trigger in triggers.iter(tokens):
        if trigger in seen:
            continue
        seen.add(trigger)
        for words in entries[trigger]:
            if all(word in tokens for word in words) and (len(words) == 1 or _in_a_row(words).search(tokens)) and _entry_pattern(words).search(text):
                return True
    return not text.isascii() and _chinese_terms().search(text) is not None


def may_hold_a_term(conv: Conversation) -> bool:
    """The first pass over a record's texts: False only when none holds a
    sexual term. The whole gate decides each text on its own, so the system
    prompt may be passed over apart from the rest, and its answer is kept:
    a role-play corpus repeats a character's system prompt across many chats."""
    texts = conversation_texts(conv)
    if conv.system is None or len(texts) == 1:
        return maybe_sexual(read_through_all(texts))
    return _system_may_hold_a_term(texts[0]) or maybe_sexual(read_through_all(texts[1:]))


@lru_cache(maxsize=1024)
def _system_may_hold_a_term(text: str) -> bool:
    return maybe_sexual(read_through_all([text]))


@lru_cache(maxsize=None)
def _chinese_terms() -> re.Pattern[str]:
    """The lexicon's Chinese pattern alone (its English one is the largest
    of the gate, needed only when a record may hold a term)."""
    return re.compile(_phrases(SEXUAL.words[1], edges=False))  # as SEXUAL.sources[1], without building the English one


# --- the filter -------------------------------------------------------------

#: Card fields that are not text about the character.
NOT_CARD_TEXT = frozenset({"creator", "character_version", "spec", "spec_version", "avatar", "chat", "create_date", "extensions", "character_book"})


def conversation_texts(conv: Conversation) -> list[str]:
    """Every text of the record a model would learn: each turn (after its
    speaker's name), then a preference pair's two answers."""
    texts = [f"{turn.name}: {turn.content}" if turn.name else turn.content for turn in conv.turns]
    if conv.preference is not None:
        texts += [conv.preference.chosen.content, conv.preference.rejected.content]
    return texts


def conversation_parts(conv: Conversation) -> Iterable[tuple[str, str]]:
    """(where, text) for each of ``conversation_texts``."""
    turns = conv.turns
    for i, text in enumerate(conversation_texts(conv)):
        if i < len(turns):
            yield "the system prompt" if turns[i].role == SYSTEM and i == 0 else f"turn {i + 1}", text
        else:
            yield ("the chosen answer", "the rejected answer")[i - len(turns)], text


def persona_parts(persona: Any) -> Iterable[tuple[str, str]]:
    """(where, text) for the linked character's card: its text fields, lists
    of text (greetings, tags), lorebook entries and depth prompt."""
    data = getattr(persona, "data", None) or {}
    for key, value in data.items():
        if key in NOT_CARD_TEXT:
            continue
        if isinstance(value, str):
            yield f"the persona's {key}", value
        elif isinstance(value, list):
            text = "\n".join(v for v in value if isinstance(v, str))
            if text:
                yield f"the persona's {key}", text
    book = data.get("character_book")
    if isinstance(book, dict):
        entries = book.get("entries") or []
        text = "\n".join(e["content"] for e in entries if isinstance(e, dict) and isinstance(e.get("content"), str))
        if text:
            yield "the persona's character_book", text
    depth = (data.get("extensions") or {}).get("depth_prompt") if isinstance(data.get("extensions"), dict) else None
    if isinstance(depth, dict) and isinstance(depth.get("prompt"), str):
        yield "the persona's depth_prompt", depth["prompt"]


def _first_sexual(parts: list[tuple[str, str]]) -> str | None:
    return next((where for where, text in parts if sexual_signal(text)), None)


def _first_minor(parts: list[tuple[str, str]]) -> tuple[str, str] | None:
    for where, text in parts:
        kind = minor_signal(text)
        if kind:
            return kind, where
    return None


def prepared(parts: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(where, _prepare(text)) for where, text in parts if text and not text.isspace()]


#: Borderline: a sexual term beside a word that may mean a young person, or a
#: minor signal beside a suggestive word. Only a judge model (--judge-model) looks at these.
YOUTH = Lexicon(
    {"teen", "teens", "high school", "highschool", "schoolgirl", "schoolboy", "young girl", "young boy", "youthful", "petite", "barely legal", "student", "students", "freshman"},
    {"少女", "少年", "学生", "學生", "高中", "校服", "年轻女孩", "年輕女孩"},
)
SUGGESTIVE = Lexicon(
    {"kiss", "kisses", "kissed", "kissing", "undress", "undressed", "undressing", "naked", "in bed", "into bed", "bedroom", "caress", "caressed", "seduce", "seduced", "seductive", "lingerie", "make out", "making out", "touch her", "touch him", "touched her", "touched him", "romantic", "lover", "lovers"},
    {"亲吻", "親吻", "接吻", "脱衣", "脫衣", "床上", "抚摸", "撫摸", "诱惑", "誘惑", "恋人", "戀人", "暧昧", "曖昧"},
)
JUDGE_PROMPT = (
    "You check role-play training data for a safety gate. Read the record's parts below. "
    "Answer with one JSON object only: {\"sexualises_minor\": true or false, \"reason\": \"one short sentence\"}. "
    "Answer true when the record is sexual, or romantic in a sexual way, AND any character in that content is under 18 "
    "(a stated age, a school grade, or a clearly childlike description). Answer false otherwise."
)
#: The record's text shown to the judge, at most.
JUDGE_CHARS = 6000


class Safety(Filter):
    name = "safety"
    summary = "drop any record that combines sexual content with a minor (turns, system prompt, the linked persona's card)"

    @property
    def stateless(self) -> bool:  # type: ignore[override]
        return self.resources.client is None  # the judge model is asked from the main process

    def start(self) -> None:
        self.cards: dict[int, tuple[Any, str | None, tuple[str, str] | None]] = {}

    def _card(self, persona: Any) -> tuple[str | None, tuple[str, str] | None]:
        """Where the persona's card has a sexual term and a minor signal (computed once a run)."""
        cards = getattr(self, "cards", None)
        if cards is None:
            cards = self.cards = {}
        if id(persona) not in cards:  # the persona stays in the cache, so its id is not reused
            parts = prepared(persona_parts(persona))
            cards[id(persona)] = (persona, _first_sexual(parts), _first_minor(parts))
        return cards[id(persona)][1:]

    def check(self, conversation: Conversation, context: FilterContext) -> str | None:
        card_sexual, card_minor = self._card(context.persona) if context.persona is not None else (None, None)
        if card_sexual is None and self.resources.client is None:
            if not may_hold_a_term(conversation):
                return None  # what the whole gate answers for a record with no sexual term and no judge
        parts = prepared(conversation_parts(conversation))
        sexual = _first_sexual(parts) or card_sexual  # most records have none: look for minors only then
        judge = self.resources.client
        if sexual is None:
            if judge is not None and (card_minor or _first_minor(parts)) and any(SUGGESTIVE.search(t) for _, t in parts):
                return self._judged(judge, parts, context)
            return None
        minor = _first_minor(parts) or card_minor
        if minor is None:
            if judge is not None and any(YOUTH.search(t) for _, t in parts):
                return self._judged(judge, parts, context)
            return None
        kind, where = minor
        if where == sexual:
            return f"sexual content with a minor ({kind} and sexual term in {where})"
        return f"sexual content with a minor ({kind} in {where}; sexual term in {sexual})"


    def _judged(self, judge: Any, parts: list[tuple[str, str]], context: FilterContext) -> str | None:
        """A borderline record, put to the judge model (--judge-model). No
        clear verdict rejects the record: the gate errs on that side."""
        from augment import parse_json  # (the model tools: only with a judge)

        shown = "\n".join(f"[{where}] {text}" for where, text in parts)[:JUDGE_CHARS]
        messages = [{"role": "system", "content": JUDGE_PROMPT}, {"role": "user", "content": shown}]
        try:
            verdict = parse_json(judge.complete(messages, seed=context.ordinal))
        except Exception as exc:  # noqa: BLE001 - a judge that does not answer must not let a record through
            return f"borderline, and the safety judge gave no verdict ({type(exc).__name__}: {str(exc)[:120]})"
        flag = verdict.get("sexualises_minor") if isinstance(verdict, dict) else None
        if flag is False:
            return None
        why = verdict.get("reason") if isinstance(verdict, dict) and isinstance(verdict.get("reason"), str) else ""
        if flag is True:
            return f"sexual content with a minor (judged by {judge.settings.model}: {why[:160]})"
        return "borderline, and the safety judge's answer was not a verdict"


@augment.hookimpl
def register_filters(register):
    register(Safety)
