"""nlpaug's choosing, reproduced without importing nlpaug.

``import nlpaug.augmenter.word`` takes seconds (it imports NLTK, SciPy, pandas,
requests and bs4) and ``nlpaug.augmenter.char`` more than a second, for a
little choosing that needs only ``random``. This module makes the same
choices as nlpaug 1.1.11's ``SynonymAug`` and ``KeyboardAug`` (MIT-licensed)
with the options our steps give them: the same draws from the same generator
in the same order, so the same words and typos come out for the same seed,
as before nlpaug was dropped from the hot path. tests/test_nlpaug_choice.py
runs real nlpaug beside these functions and compares the outputs. The QWERTY
neighbours are read from the installed nlpaug's ``res/char/keyboard/en.json``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Callable

#: nlpaug's ``PartOfSpeech.constituent2pos``: adjectives map to both "a" and "s".
SENSES_OF_TAG = {"NN": 1, "NNS": 1, "NNP": 1, "NNPS": 1, "NP": 1, "VB": 1, "VBD": 1, "VBG": 1, "VBN": 1,
                 "VBZ": 1, "VBP": 1, "JJ": 2, "JJR": 2, "JJS": 2, "IN": 2, "RB": 1, "RBR": 1, "RBS": 1}


def aug_count(size: int, p: float, least: int | None, most: int | None) -> int:
    """``Augmenter._generate_aug_cnt``."""
    if size == 0:
        return 0
    cnt = int(math.ceil(p * size))
    if least and cnt < least:
        return least
    if most and cnt > most:
        return most
    return cnt


def word_case(word: str) -> str:
    """``WordAugmenter.get_word_case``."""
    if len(word) == 0:
        return "empty"
    if len(word) == 1 and word.isupper():
        return "capitalize"
    if word.isupper():
        return "upper"
    if word.islower():
        return "lower"
    if any(c.isupper() for c in word[1:]):
        return "mixed"
    return "capitalize" if word[0].isupper() else "unknown"


def align_capitalization(src: str, dest: str) -> str:
    if word_case(src) == "capitalize" and word_case(dest) == "lower":
        return dest.capitalize()
    return dest


def substitute_synonyms(tokens: list[str], tags: list[str], candidates: Callable[[int], list[str]],
                        usable: Callable[[int], bool], stopwords: frozenset[str], p: float,
                        rng: random.Random) -> list[str] | None:
    """``SynonymAug.substitute`` (aug_min=1, no aug_max) over tagged ``tokens``:
    the new tokens, or None when no word can be changed. ``usable(i)`` is the
    augmenter's ``skip_aug`` test, ``candidates(i)`` the word model's synonyms
    of token ``i`` (once; repeated here as nlpaug repeats it per WordNet part of speech)."""
    count = aug_count(len(tokens), p, 1, None)
    idxes = [i for i, token in enumerate(tokens)
             if token not in string.punctuation and token not in stopwords]
    idxes = [i for i in idxes if usable(i)]
    if not idxes:
        return None
    chosen = rng.sample(idxes, min(count, len(idxes)))
    out = list(tokens)
    for i in chosen:
        original = tokens[i]
        found = candidates(i) * SENSES_OF_TAG.get(tags[i], 0)
        found = [c for c in found if c.lower() != original.lower()]
        if found:
            candidate = rng.sample(found, 1)[0].replace("_", " ").replace("-", " ").lower()
            out[i] = align_capitalization(original, candidate)
    return out


@lru_cache(maxsize=1)
def keyboard() -> dict[str, list[str]]:
    """``nlpaug.model.char.Keyboard`` for English with no special characters,
    digits or upper case: each lower-case letter's QWERTY neighbours, sorted."""
    spec = importlib.util.find_spec("nlpaug")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("nlpaug is not installed: its keyboard layout is needed for typos")
    path = Path(list(spec.submodule_search_locations)[0]) / "res" / "char" / "keyboard" / "en.json"
    mapping = json.loads(path.read_text("utf-8"))
    plain = re.compile("^[a-z0-9]*$")
    digits = re.compile("^[0-9]*$")
    result: dict[str, list[str]] = {}
    for key, values in mapping.items():
        if digits.match(key) or not plain.match(key):
            continue
        result[key] = []
        result[key.upper()] = []
        for value in values:
            if digits.match(value) or not plain.match(value):
                continue
            result[key].append(value)
    return {key: sorted(set(v for v in values if v != key)) for key, values in result.items() if values}


def keyboard_typos(words: list[str], word_p: float, char_max: int, rng: random.Random,
                   char_p: float = 0.3, min_char: int = 3, word_max: int = 10) -> list[str]:
    """``KeyboardAug.substitute`` (aug_word_min=0, aug_char_min=1) over
    whitespace-separated ``words``: the words with their typos."""
    model = keyboard()
    count = aug_count(len(words), word_p, 0, word_max)
    idxes = [i for i, w in enumerate(words) if w not in string.punctuation and len(w) >= min_char]
    chosen = rng.sample(idxes, min(count, len(idxes))) if idxes else []
    out = list(words)
    for i, word in enumerate(words):
        if i not in chosen:
            continue
        chars = list(word)
        n = aug_count(len(chars), char_p, 1, char_max)
        spots = [j for j, c in enumerate(chars) if c in model and model[c]]
        picked = rng.sample(spots, min(n, len(spots))) if spots else []
        out[i] = "".join(rng.sample(model[c], 1)[0] if j in picked else c for j, c in enumerate(chars))
    return out
