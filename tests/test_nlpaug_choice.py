"""The choosing our synonym and typos steps do without importing nlpaug is
nlpaug's: side by side with nlpaug itself, the same seed gives the same words."""

from __future__ import annotations

import random

import pytest
from conftest import SAMPLES, read_records

from augment_plugins.nlpaug_choice import keyboard_typos, substitute_synonyms
from augment_plugins.synonym import CLOSED, CONTENT_TAGS, TOKEN, Synonym

naw = pytest.importorskip("nlpaug.augmenter.word")
nac = pytest.importorskip("nlpaug.augmenter.char")

TEXTS = [m["value"] for name in ("tavern.sharegpt.jsonl", "wuxia.sharegpt.jsonl")
         for r in read_records(SAMPLES / name) for m in r["conversations"]]


@pytest.mark.parametrize("rate,max_chars", [(0.1, 1), (0.3, 2), (1.0, 5)])
def test_keyboard_typos_are_nlpaugs(rate, max_chars):
    aug = nac.KeyboardAug(aug_word_p=rate, aug_char_min=1, aug_char_max=max_chars, aug_char_p=0.3, aug_word_min=0,
                          min_char=3, include_special_char=False, include_numeric=False, include_upper_case=False,
                          tokenizer=str.split, reverse_tokenizer=" ".join)
    changed = 0
    for seed, text in enumerate(TEXTS):
        words = text.split()
        random.seed(seed)
        theirs = aug.augment(" ".join(words))[0].split(" ")
        ours = keyboard_typos(words, rate, max_chars, random.Random(seed))
        assert ours == theirs, text
        changed += ours != words
    assert changed > len(TEXTS) // 3  # typos really were made


@pytest.mark.parametrize("rate,senses", [(0.15, 1), (0.5, 3), (1.0, 2)])
def test_synonym_choices_are_nlpaugs(rate, senses):
    step = Synonym(rate=rate, senses=senses)
    step.setup()
    model = step._aug
    from nlpaug.model.word_dict import WordDictionary

    class Model(WordDictionary):  # the word model our step gave nlpaug before
        def pos_tag(self, tokens):
            tagged = model.tagger.tag(list(tokens))
            self.tags = dict(tagged)
            return tagged

        def predict(self, word, pos=None):
            tag = self.tags.get(word)
            return [] if pos is None or tag not in CONTENT_TAGS else list(model.synonyms.of(word, tag))

    class Aug(naw.SynonymAug):
        def get_model(self, *args, **kwargs):
            return Model()

        def skip_aug(self, idxes, tokens):
            return [i for i in idxes if tokens[i][1] in CONTENT_TAGS and self.model.predict(tokens[i][0], "x")]

    aug = Aug(aug_p=rate, aug_min=1, aug_max=None, stopwords=sorted(CLOSED), tokenizer=lambda t: TOKEN.findall(t),
              reverse_tokenizer=lambda tokens: tokens)
    changed = 0
    for seed, text in enumerate(TEXTS):
        tokens = TOKEN.findall(text.strip())
        random.seed(seed)
        theirs = aug.augment(text.strip())[0]  # the tokens, or the text itself when no word could change
        ours = model.choose(tokens, rate, random.Random(seed))
        assert (ours if ours is not None else text.strip()) == theirs, text
        changed += ours is not None and ours != tokens
    assert changed > 10


def test_substitute_synonyms_changes_nothing_when_no_word_can_change():
    tokens = ["the", "and", ","]
    assert substitute_synonyms(tokens, ["CLOSED", "CLOSED", "SYM"], lambda i: ["x"], lambda i: False, CLOSED, 1.0,
                               random.Random(0)) is None
