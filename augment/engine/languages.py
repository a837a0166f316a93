"""Which language each turn is in: by script first, then langdetect (seeded).

A turn's language is the one of its dominant script. Letters are counted by
script, a CJK character weighing three Latin letters (about a word against a
few letters), so ``解释成语“Painting the town red”的意思`` is Chinese although
it holds more Latin letters than Han characters: CJK text is told zh, ja or ko
by the script alone, at any length. Latin (and other alphabetic) text goes to
langdetect, with the text of other scripts left out. langdetect misreads short
English prompts ("Define entropy." is fr to it, "Pretend you are a pirate
captain." ro): when it says a Latin-script text is not English, the text is
English after all if nearly all its words are English words (WordNet's list)
and one of them is an English function word (see ``english_evidence``).

Short turns ("ok", "*nods*") are unreliable on their own, so a conversation
gets one language from all its dialogue text, and only turns long enough to
judge alone, or written mostly in CJK, may differ from it. Codes are ISO
639-1 (``zh-cn`` becomes ``zh``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from augment.conversation import SYSTEM, Conversation
from augment.patterns import LazyPattern

#: Turns at least this long (in letters, CJK counting four) are judged on their own.
LONG_TURN = 40
#: A CJK character weighs this many Latin letters when scripts are compared.
CJK_WEIGHT = 3
_LETTERS = LazyPattern(r"[^\W\d_]", re.UNICODE)
# Spans that are not prose (actions are prose, but names and placeholders are not).
_NOISE = LazyPattern(r"\{\{[^{}]*\}\}|<USER>|<BOT>|https?://\S+|\S+@\S+|```.*?(?:```|\Z)|`[^`\n]+`", re.S)

# Han, kana and hangul carry a word or a syllable each, and their scripts are
# told apart easily: a few of them are worth as much as a Latin word.
_CJK = LazyPattern(r"[\u1100-\u11ff\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
#: What ``_has_letters`` counts: a letter, or a CJK character (some are not letters).
_LETTER_OR_CJK = LazyPattern(r"[^\W\d_]|[\u1100-\u11ff\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_KANA = LazyPattern(r"[\u3040-\u30ff]")
_HANGUL = LazyPattern(r"[\u1100-\u11ff\uac00-\ud7af]")
#: Any letter of a script other than Latin.
_NOT_LATIN_LETTER = LazyPattern(r"[^\W\d_a-zA-Z\u00c0-\u024f\u1e00-\u1eff]")

LATIN = "latin"
CJK = "cjk"

#: English function words: frequent, short, and rare as words of other languages.
ENGLISH_FUNCTION_WORDS = frozenset(
    """a an the of to in on at by for from with about into onto over under after before between through
    and or but if so than that this these those what which who whom whose how why when where whether
    is are was were be been being am do does did have has had will would shall should can could may might
    must not no i me my mine myself you your yours yourself he him his himself she her hers herself it its
    itself we us our ours they them their theirs there here some any all each every please yes""".split()
)
#: Function words of other Latin-script languages that English does not use
#: ("de", "la", "und" ...): a text full of them is not English, whatever its names.
FOREIGN_FUNCTION_WORDS = frozenset(
    """le la les des du un une et est sont dans pour pas avec sur qui que je tu il elle nous vous ils au aux ce cette
    el los las y es en por con para una uno del al lo se su sus como pero muy más está
    il lo gli della delle di che non è sono per con una nel sul
    o os um uma não são com para do da dos das em
    der die das und ist nicht ein eine mit von zu den dem sich auch auf für ich du er sie wir
    het een van en niet zijn ik je ook
    och att är det som för på inte jag""".split()
) - ENGLISH_FUNCTION_WORDS
_WORD = LazyPattern(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def script_of(ch: str) -> str | None:
    """The script of a letter: ``latin``, ``cjk``, or another script's name
    (``cyrillic``, ``greek`` ...); None for anything that is not a letter."""
    if not ch.isalpha():
        return None
    code = ord(ch)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return LATIN
    if _CJK.match(ch):
        return CJK
    try:
        return unicodedata.name(ch).split()[0].lower()
    except ValueError:
        return None


def script_weights(text: str) -> Counter:
    """How much of ``text`` each script holds: letters, CJK characters weighing ``CJK_WEIGHT``."""
    letters = len(_LETTERS.findall(text))
    if not _NOT_LATIN_LETTER.search(text):
        return Counter({LATIN: letters} if letters else {})
    weights: Counter = Counter()
    for ch in _NOT_LATIN_LETTER.findall(text):
        script = script_of(ch)
        if script:
            weights[script] += 1
    weights[LATIN] = letters - sum(weights.values())
    if weights[CJK]:
        weights[CJK] *= CJK_WEIGHT
    return +weights


def dominant_script(text: str) -> str | None:
    """The script most of ``text`` is written in (None: no letters)."""
    if not _NOT_LATIN_LETTER.search(text):
        return LATIN if _LETTERS.search(text) else None
    weights = script_weights(text)
    if not weights:
        return None
    return max(sorted(weights), key=lambda s: weights[s])


def _cjk_language(text: str) -> str:
    """zh, ja or ko for text written mostly in CJK scripts, told by the script
    itself: langdetect is unsure of short Chinese lines (it says ko or ja)."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    return "zh"


_NOT_ASCII_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def _has_letters(text: str, n: int) -> bool:
    """Whether ``text`` has ``n`` of what there is to judge: letters, with
    CJK characters counting four (the few that are no letters, three).
    Counted only as far as it takes: a long turn is known to be long after
    its first words."""
    if text.isascii():  # its letters are A-Z and a-z, none of them CJK
        return len(text.encode("ascii").translate(None, _NOT_ASCII_LETTERS)) >= n
    count = 0
    for match in _LETTER_OR_CJK.finditer(text):
        ch = match.group()
        count += 1 if ch.isascii() else bool(_LETTERS.match(ch)) + 3 * bool(_CJK.match(ch))
        if count >= n:
            return True
    return False


@lru_cache(maxsize=1 << 15)  # a corpus's words recur: each is looked at once
def _word_evidence(word: str) -> tuple[bool, bool, int | None]:
    """What ``word`` adds to ``english_evidence``: whether it is an English
    function word, a function word of another language, and a known English
    word (1 or 0; None: no word list)."""
    lowered = word.lower()
    low = lowered.replace("’", "'")
    base, _, ending = low.partition("'")
    function_word = base in ENGLISH_FUNCTION_WORDS
    if function_word or low in ENGLISH_FUNCTION_WORDS or ending == "t":
        found: int | None = 1  # "you're", "I'm", "can't", "shouldn't"
    else:
        try:
            from augment.engine.dictionary import is_word
        except ImportError:
            return function_word, False, None
        known = is_word(base)
        found = None if known is None else int(known)
    return function_word, lowered in FOREIGN_FUNCTION_WORDS, found


def english_evidence(text: str) -> bool | None:
    """True when ``text`` reads as English by its words: at least 80% of its
    words are English words (WordNet's, with inflections, or function words),
    one of them an English function word (or the text has three words at
    most), and it holds no more function words of another language than of
    English. Capitalised words after the first are left out (names, and
    openers of later sentences). None: no word list (WordNet missing)."""
    words = _WORD.findall(text)
    plain = [w for i, w in enumerate(words) if i == 0 or not w[0].isupper()]
    if not plain:
        return False
    english = foreign = known = 0
    for w in plain:
        function_word, foreign_word, found = _word_evidence(w)
        if found is None:
            return None
        english += function_word
        foreign += foreign_word
        known += found
    if foreign > english:
        return False
    return known >= 0.8 * len(plain) and (english >= 1 or len(plain) <= 3)


@lru_cache(maxsize=4096)  # turns recur (variants, repeated lines); whole dialogues don't
def detect(text: str) -> str | None:
    """The language of ``text``, or None when there is nothing to judge (cached)."""
    return _detect_text(text)


def _detect_text(text: str) -> str | None:
    text = _NOISE.sub(" ", text)
    if not _has_letters(text, 3):
        return None
    script = dominant_script(text)
    if script == CJK:
        return _cjk_language(text)
    if script == LATIN and _NOT_LATIN_LETTER.search(text):
        # judge the Latin text alone: a Chinese name in an English line is not Chinese
        text = "".join(ch if not ch.isalpha() or script_of(ch) == LATIN else " " for ch in text)
    if script == LATIN and _langdetect_finds_ngrams(text) and english_evidence(text):
        return "en"  # what the lines below answer, whatever langdetect says: without its 10 ms
    from langdetect import LangDetectException

    from .language_profiles import detector_factory

    detector = detector_factory().create()  # what langdetect.detect does, on profiles loaded in milliseconds
    detector.append(text)
    try:
        code = detector.detect().split("-")[0]
    except LangDetectException:
        return None
    if code != "en" and script == LATIN and english_evidence(text):
        return "en"
    return code


# langdetect's own patterns (``Detector.URL_RE``/``MAIL_RE``, langdetect 1.0.9): what it blanks first.
_LD_URL = LazyPattern(r"https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}")
_LD_MAIL = LazyPattern(r"[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}")
_LD_LATIN = LazyPattern(r"[A-z]")  # its "latin" count: 'A' <= ch <= 'z'
_LD_HIGH = LazyPattern(r"[^\u0000-\u02ff]")  # at least everything it counts as non-Latin
_LD_COMBINING = LazyPattern(r"[\u0300-\u036f]")  # what its Vietnamese normalising may fold into a letter
_LD_LOWER = LazyPattern(r"[a-z]")


def _langdetect_finds_ngrams(text: str) -> bool:
    """True when langdetect is certain to find n-grams in ``text``, so that it
    names some language rather than raising: a lower-case ASCII letter (every
    one is an n-gram of its profiles) in the first 10,000 characters it reads,
    which its cleaning keeps (it drops ASCII letters only when other scripts
    outnumber them twice). False means "not sure": ask langdetect."""
    text = _LD_MAIL.sub(" ", _LD_URL.sub(" ", text))
    if _LD_COMBINING.search(text):
        return False
    text = text[:10000]
    return bool(_LD_LOWER.search(text)) and _latin_holds_half(text)


def _latin_holds_half(text: str) -> bool:
    """``2 * len(_LD_LATIN.findall(text)) >= len(_LD_HIGH.findall(text))``:
    the others are few or none, and the Latin letters are counted only as far
    as it takes."""
    high = len(_LD_HIGH.findall(text))
    return not high or any(2 * n >= high for n, _ in enumerate(_LD_LATIN.finditer(text), 1))


def turn_languages(conv: Conversation) -> list[str | None]:
    """One language per turn of ``conv`` (the system prompt included)."""
    found: list[str | None] = []

    def overall() -> str | None:
        """The whole dialogue's language, worked out when a turn first needs
        it (a record of long turns each judged alone never does)."""
        if not found:
            dialogue = "\n".join(t.content for t in conv.turns if t.role != SYSTEM)
            # a whole dialogue is seen once: kept out of the cache, where it would only push turns out
            found.append(_detect_text(dialogue) if dialogue.strip() else None)
        return found[0]

    out: list[str | None] = []
    for turn in conv.turns:
        if _has_letters(turn.content, LONG_TURN) or dominant_script(_NOISE.sub(" ", turn.content)) == CJK:
            out.append(detect(turn.content) or overall())
        else:
            out.append(overall() if turn.role != SYSTEM else detect(turn.content) or overall())
    return out
