"""Which language each turn is in, decided with langdetect (seeded).

Short turns ("ok", "*nods*") are unreliable on their own, so a conversation
gets one language from all its dialogue text, and only turns long enough to
judge alone may differ from it. Codes are ISO 639-1 (``zh-cn`` becomes ``zh``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from augment.conversation import SYSTEM, Conversation

#: Turns at least this long (in letters) are judged on their own.
LONG_TURN = 40
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
# Spans that are not prose (actions are prose, but names and placeholders are not).
_NOISE = re.compile(r"\{\{[^{}]*\}\}|<USER>|<BOT>|https?://\S+|\S+@\S+")


# Han, kana and hangul carry a word or a syllable each, and their scripts are
# told apart easily: a few of them are worth as much as a Latin word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def _cjk_script(text: str) -> str | None:
    """zh, ja or ko for text written mostly in CJK scripts, told by the script
    itself: langdetect is unsure of short Chinese lines (it says ko or ja)."""
    cjk = len(_CJK.findall(text))
    if not cjk or cjk < len(_LETTERS.findall(text)) / 2:
        return None
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    return "zh"


def _letters(text: str) -> int:
    """How much there is to judge: letters, with CJK characters counting four."""
    return len(_LETTERS.findall(text)) + 3 * len(_CJK.findall(text))


@lru_cache(maxsize=4096)  # turns recur (variants, repeated lines); whole dialogues don't
def detect(text: str) -> str | None:
    """The language of ``text``, or None when there is nothing to judge (cached)."""
    return _detect_text(text)


def _detect_text(text: str) -> str | None:
    text = _NOISE.sub(" ", text)
    if _letters(text) < 3:
        return None
    script = _cjk_script(text)
    if script:
        return script
    from langdetect import DetectorFactory, LangDetectException, detect as _detect

    DetectorFactory.seed = 0
    try:
        code = _detect(text)
    except LangDetectException:
        return None
    return code.split("-")[0]


def turn_languages(conv: Conversation) -> list[str | None]:
    """One language per turn of ``conv`` (the system prompt included)."""
    dialogue = "\n".join(t.content for t in conv.turns if t.role != SYSTEM)
    # a whole dialogue is seen once: kept out of the cache, where it would only push turns out
    overall = _detect_text(dialogue) if dialogue.strip() else None
    out: list[str | None] = []
    for turn in conv.turns:
        if _letters(turn.content) >= LONG_TURN:
            out.append(detect(turn.content) or overall)
        else:
            out.append(overall if turn.role != SYSTEM else detect(turn.content) or overall)
    return out
