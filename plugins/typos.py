"""Typo noise on the user side, from nlpaug's keyboard model.

People type with typos; a character model should still understand them. Each
chosen word gets one or two neighbouring-key slips (QWERTY), chosen the way
nlpaug's ``KeyboardAug`` chooses them (``nlpaug_choice``: its lines, without
its second-long import). Contractions,
punctuation and whitespace stay as they were, and protected spans are never
handed to this augmenter at all.
"""

from __future__ import annotations

import random
import re

import augment
from augment import USER, Option, TextAugmenter, between

from .nlpaug_choice import keyboard_typos

WORD = re.compile(r"\S+")


class Typos(TextAugmenter):
    name = "typos"
    summary = "keyboard typos (nlpaug KeyboardAug) in user turns"
    roles = (USER,)
    languages = frozenset({"en"})
    options = (
        Option("rate", float, 0.1, "share of words that get a typo", check=between(0.0, 1.0)),
        Option("max_chars", int, 1, "typos at most per chosen word", check=between(1, 5)),
    )

    def augment_text(self, text: str, rng: random.Random) -> str:
        words = WORD.findall(text)
        if not words:
            return text
        # nlpaug's KeyboardAug drew from the global generator seeded like this: the same draws
        new_words = keyboard_typos(words, self.values["rate"], self.values["max_chars"], random.Random(rng.getrandbits(32)))
        if len(new_words) != len(words):
            return text  # a word merged or split: keep the original
        # put the new words back between the original whitespace
        pieces = iter(new_words)
        return WORD.sub(lambda m: next(pieces), text)


@augment.hookimpl
def register_augmenters(register):
    register(Typos)
