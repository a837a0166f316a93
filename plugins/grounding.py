"""How much of a text comes from a source text: the measure behind
from-passage's ``--min-grounding`` and context-extension's checks.

A text is reduced to its *content units*: for words in spaced scripts, the
words of three letters or more that are not function words ("the", "would",
"about" ...), lower-cased and lightly stemmed (``harbors`` = ``harbor``,
``stored`` = ``store``); for Chinese, Japanese and Korean, character pairs
inside a run of those characters (``码头``, ``头上``), pairs holding a particle
(的, 了, 吗 ...) and a few frequent function pairs (我们, 什么 ...) left out.
Actions and stage directions (``*nods*``, ``(smiles)``, ``（点头）``) are
gestures, not what is said, and are not counted.

The grounding of a text in a source is the share of the text's distinct
content units that the source holds too: 1.0 when every content word comes
from the source, 0.0 when none does. Counting distinct units means repeating a
word of the source does not raise it.
"""

from __future__ import annotations

import re

_CJK_CHAR = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK_CHAR}]+")
CJK_CHAR = re.compile(f"[{_CJK_CHAR}]")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
#: Gestures and stage directions: not part of what a character says.
STAGE = re.compile(r"\*[^*\n]+\*|\([^()\n]*\)|（[^（）\n]*）")

STOP_WORDS = frozenset(
    """the and but for nor not yet you your yours yourself yourselves she her hers herself him his himself
    they them their theirs themselves its itself our ours ourselves mine myself this that these those there
    here what which who whom whose when where why how than then too very can could would should shall will
    may might must have has had having does did doing done are was were been being about above after again
    against all any because before below between both down during each few from further into more most
    off once only other out over own same some such through under until upon while with within without
    also just even still ever never always really quite rather well yes okay sure let lets get got
    one ones something anything nothing everything someone anyone everyone thing things like said says
    say tell told know knew think thought see saw look come came going gone goes make made take took
    want wanted much many every another ours i'm you're it's that's don't can't won't isn't aren't wasn't
    didn't doesn't i've i'll i'd you'll you've we're we'll they're there's what's let's""".split()
)
#: Characters that make a Chinese pair a function pair rather than content.
CJK_PARTICLES = frozenset("的了吗呢吧啊呀嘛着过得地么")
CJK_STOP_PAIRS = frozenset(
    """我们 你们 他们 她们 它们 这个 那个 什么 怎么 一个 没有 不是 就是 可以 知道 现在 时候 自己 这里 那里
    还是 已经 因为 所以 如果 但是 这样 那样 这些 那些 一下 一些 不会 不能 真的 还有 只是 也是 都是 我的""".split()
)


def stem(word: str) -> str:
    """A light English stemmer: the forms of a word in a passage and in an
    answer meet (``sails``/``sailed``/``sailing``, ``store``/``stored``)."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ied"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("ed") and not w.endswith("eed"):
        w = w[:-2]
    elif len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def units(text: str) -> set[str]:
    """The distinct content units of ``text`` (see the module's doc)."""
    text = STAGE.sub(" ", text)
    out: set[str] = set()
    for run in CJK_RUN.findall(text):
        pairs = [run[i : i + 2] for i in range(len(run) - 1)] or [run]
        out.update(p for p in pairs if p not in CJK_STOP_PAIRS and not any(ch in CJK_PARTICLES for ch in p))
    for word in WORD.findall(CJK_RUN.sub(" ", text)):
        w = word.lower().replace("’", "'")
        if len(w) >= 3 and w not in STOP_WORDS:
            out.add(stem(w))
    return out


def grounding(text: str, source: str, ignore: set[str] | frozenset[str] = frozenset()) -> float:
    """The share of ``text``'s content units found in ``source`` (0.0 for a
    text with none); units in ``ignore`` (the speakers' names, say) count
    neither way."""
    found = units(text) - ignore
    if not found:
        return 0.0
    return len(found & units(source)) / len(found)


def percent(share: float) -> str:
    """``share`` as a whole percentage, rounded down (29.6% is 29%: never shown as the 30% it falls short of)."""
    return f"{int(share * 100 + 1e-9)}%"


def tokens(text: str) -> tuple[list[str], list[str]]:
    """(the lower-cased words of spaced scripts, the CJK characters) of ``text``, in order."""
    return [w.lower() for w in WORD.findall(CJK_RUN.sub(" ", text))], CJK_CHAR.findall(text)


def copied(text: str, source: str, words: int, chars: int) -> str | None:
    """A run of ``words`` consecutive words (or ``chars`` CJK characters,
    punctuation aside) that ``text`` takes from ``source`` word for word,
    or None."""
    text_words, text_chars = tokens(text)
    source_words, source_chars = tokens(source)
    for mine, theirs, n, joiner in ((text_words, source_words, words, " "), (text_chars, source_chars, chars, "")):
        if len(mine) < n:
            continue
        grams = {tuple(theirs[i : i + n]) for i in range(len(theirs) - n + 1)}
        for i in range(len(mine) - n + 1):
            if tuple(mine[i : i + n]) in grams:
                return joiner.join(mine[i : i + n])
    return None
