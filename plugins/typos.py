"""Typo noise on the user side, from nlpaug's keyboard model.

People type with typos; a character model should still understand them. Each
chosen word gets one or two neighbouring-key slips (QWERTY). Contractions,
punctuation and whitespace stay as they were, and protected spans are never
handed to this augmenter at all.
"""

from __future__ import annotations

import random
import re

import augment
from augment import USER, Option, TextAugmenter, between

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

    def __init__(self, **values):
        super().__init__(**values)
        self._aug = None

    def _augmenter(self):
        if self._aug is None:
            import nlpaug.augmenter.char as nac  # heavy: imported when a step runs

            self._aug = nac.KeyboardAug(
                aug_word_p=self.values["rate"],
                aug_char_min=1,
                aug_char_max=self.values["max_chars"],
                aug_char_p=0.3,
                aug_word_min=0,
                min_char=3,
                include_special_char=False,
                include_numeric=False,
                include_upper_case=False,
                tokenizer=str.split,
                reverse_tokenizer=" ".join,
            )
        return self._aug

    def augment_text(self, text: str, rng: random.Random) -> str:
        words = WORD.findall(text)
        if not words:
            return text
        aug = self._augmenter()
        # nlpaug draws from the global generators; seed them from our own.
        import numpy as np

        seed = rng.getrandbits(32)
        random.seed(seed)
        np.random.seed(seed)
        out = aug.augment(" ".join(words))
        new_words = (out[0] if isinstance(out, list) else out).split(" ")
        if len(new_words) != len(words):
            return text  # nlpaug merged or split a word: keep the original
        # put the new words back between the original whitespace
        pieces = iter(new_words)
        return WORD.sub(lambda m: next(pieces), text)


@augment.hookimpl
def register_augmenters(register):
    register(Typos)
