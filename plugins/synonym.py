"""Synonym replacement that keeps role-play text reading right.

nlpaug's ``SynonymAug`` chooses the words and the synonyms; what it is given
is ours: WordNet 3.0 from Debian's packages (see ``wordnet_data``), a part-of-
speech guesser that needs no downloaded model, and a word model that only
offers synonyms of content words in the word's own inflection (``walked`` ->
``strolled``, ``keepers`` -> ``custodians``). Pronouns, determiners,
auxiliaries, prepositions, conjunctions, contractions, names and punctuation
are never touched, and text is put back together with its own spacing.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import augment
from augment import ASSISTANT, USER, Option, TextAugmenter, between

from . import wordnet_data

#: Words and single other characters; a word keeps its inner apostrophes ("can't").
TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\S")

PRONOUNS = """i me my mine myself you your yours yourself yourselves he him his himself she her hers
herself it its itself we us our ours ourselves they them their theirs themselves who whom whose which
what that this these those someone anyone everyone nobody somebody anybody everybody something
anything everything nothing one ones thee thou thy thine ye""".split()
DETERMINERS = """a an the some any no every each either neither all both few many much more most
several such other another own same""".split()
AUXILIARIES = """be am is are was were been being have has had having do does did done doing will
would shall should can could may might must ought let""".split()
PREPOSITIONS = """about above across after against along amid among around at before behind below
beneath beside besides between beyond by despite down during except for from in inside into like
near of off on onto out outside over past per since than through throughout till to toward towards
under underneath unlike until up upon via with within without""".split()
CONJUNCTIONS = """and but or nor so yet because although though while if unless whether as when
where whenever wherever whereas once""".split()
PARTICLES = """not no yes there here then now very too also just only even still again ever never
always often quite rather oh ah hey hello hi well okay ok yeah aye nay please thanks""".split()
CLOSED = frozenset(PRONOUNS + DETERMINERS + AUXILIARIES + PREPOSITIONS + CONJUNCTIONS + PARTICLES)

SUBJECTS = frozenset("i you he she it we they who".split())
BEFORE_VERB = frozenset("to will would shall should can could may might must do does did let".split())
BEFORE_NOUN = frozenset(DETERMINERS + "my your his her its our their this that these those".split())
#: Light verbs take their meaning from what follows ("get a room", "tell me"): no synonym fits.
LIGHT_VERBS = frozenset("""get go make take give tell say let look come keep put leave set know think want
see seem mean need try turn bring hold stand run""".split())
#: After a verb, these make a phrasal verb or a frame a synonym would break ("look up", "tell me").
VERB_FRAMES = frozenset("""me him her us them you up out off on in down away back over around""".split())
AFTER_INDEFINITE = frozenset("nothing something anything everything someone anyone".split())
PERFECT = frozenset("have has had having be am is are was were been being get gets got".split())
SENTENCE_END = frozenset(".!?…\"“”'‘’:;")

PENN = {"n": "NN", "v": "VB", "a": "JJ", "r": "RB"}
CONTENT_TAGS = frozenset("NN NNS VB VBD VBG VBN VBZ JJ JJR JJS RB".split())


class ContentTagger:
    """Part-of-speech guesses for content words, from WordNet and context.

    Closed-class words get ``CLOSED``, names (capitalised inside a sentence)
    ``NNP``, everything that is not a plain word ``SYM``; only the content tags
    are ever replaced."""

    def __init__(self, wn) -> None:
        self.wn = wn

    def tag(self, tokens: list[str]) -> list[tuple[str, str]]:
        out = []
        for i, token in enumerate(tokens):
            out.append((token, self._tag(tokens, i)))
        return out

    def _tag(self, tokens: list[str], i: int) -> str:
        token = tokens[i]
        low = token.lower()
        if not token.isalpha() or len(token) < 2:
            return "SYM"  # punctuation, contractions, single letters
        if low in CLOSED:
            return "CLOSED"
        starts = i == 0 or tokens[i - 1] in SENTENCE_END
        if (token[0].isupper() and not starts) or (token.isupper() and len(token) > 1):
            return "NNP"
        prev = tokens[i - 1].lower() if i > 0 else ""
        following = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        pos = self._pos(low, prev, following)
        if pos is None:
            return "SYM"
        if pos == "v" and (self._lemma(low, "v") in LIGHT_VERBS or following in VERB_FRAMES):
            return "CLOSED"
        return self._inflection(low, pos, prev)

    def _pos(self, low: str, prev: str, following: str) -> str | None:
        found = [p for p in "vnar" if self._lemma(low, p)]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        if prev in BEFORE_VERB and "v" in found:
            return "v"
        if prev in AFTER_INDEFINITE and "a" in found:
            return "a"  # "nothing fancy"
        if prev in BEFORE_NOUN:
            if "a" in found and following.isalpha() and following not in CLOSED and self._lemma(following, "n"):
                return "a"
            return "n" if "n" in found else found[0]
        if low.endswith("ly") and "r" in found:
            return "r"
        if low.endswith(("ed", "ing")) and "v" in found:
            return "v"
        if prev in SUBJECTS and "v" in found:
            return "v"
        return max(found, key=lambda p: self._frequency(low, p))

    @lru_cache(maxsize=65536)
    def _lemma(self, low: str, pos: str) -> str | None:
        """The dictionary form of ``low`` as ``pos``, if WordNet knows it so."""
        from lemminflect import getLemma

        upos = {"n": "NOUN", "v": "VERB", "a": "ADJ", "r": "ADV"}[pos]
        for lemma in (*getLemma(low, upos), self.wn.morphy(low, pos)):
            if lemma and self.wn.synsets(lemma, pos):
                return lemma
        return None

    def _frequency(self, low: str, pos: str) -> int:
        lemma = self._lemma(low, pos)
        return sum(l.count() for s in self.wn.synsets(lemma, pos)[:3] for l in s.lemmas() if l.name().lower() == lemma)

    def _inflection(self, low: str, pos: str, prev: str) -> str:
        """The Penn tag of ``low`` as the ``pos`` it is: VBD or VBN, NNS, JJR ..."""
        from lemminflect import getInflection

        lemma = self._lemma(low, pos)
        if pos == "v":
            forms = [t for t in ("VBD", "VBN", "VBG", "VBZ") if low in getInflection(lemma, t)]
            if "VBD" in forms and "VBN" in forms:
                return "VBN" if prev in PERFECT else "VBD"
            return forms[0] if forms else "VB"
        if pos == "n":
            return "NNS" if low != lemma and low in getInflection(lemma, "NNS") else "NN"
        if pos == "a":
            for t in ("JJR", "JJS"):
                if low != lemma and low in getInflection(lemma, t):
                    return t
            return "JJ"
        return "RB"


class Synonyms:
    """Synonyms of a word, from its commonest senses, in the word's inflection."""

    def __init__(self, wn, tagger: ContentTagger, senses: int) -> None:
        self.wn = wn
        self.tagger = tagger
        self.senses = senses

    @lru_cache(maxsize=65536)
    def of(self, word: str, tag: str) -> tuple[str, ...]:
        from lemminflect import getInflection

        pos = {"N": "n", "V": "v", "J": "a", "R": "r"}[tag[0]]
        lemma = self.tagger._lemma(word.lower(), pos)
        if lemma is None:
            return ()
        out: list[str] = []
        for synset in self.wn.synsets(lemma, pos)[: self.senses]:
            if lemma not in {l.name().lower() for l in synset.lemmas()}:
                continue  # reached through another word's sense
            for entry in synset.lemmas():
                name = entry.name()
                words = name.replace("_", " ").split()
                if name.lower() == lemma or not all(w.isalpha() for w in words) or len(words) > 3:
                    continue
                if any(w[0].isupper() for w in words):
                    continue  # proper nouns ("Iodine" for "I")
                if entry.count() == 0 or not any(c in "aeiou" for c in name.lower()):
                    continue  # never seen in the tagged corpus: rare or odd ("cognise")
                form = _inflect(words, pos, tag, getInflection)
                if form and form.lower() != word.lower() and form not in out:
                    out.append(form)
        return tuple(out)


def _inflect(words: list[str], pos: str, tag: str, get) -> str | None:
    if tag in ("NN", "VB", "JJ", "RB"):
        return " ".join(words)
    head = 0 if pos == "v" else len(words) - 1
    forms = get(words[head], tag)
    if not forms:
        return None
    words = list(words)
    words[head] = forms[0]
    return " ".join(words)


def _make_nlpaug_augmenter(wn, senses: int, rate: float):
    """nlpaug's SynonymAug, with our tagger and word model in place of the
    ones that would call nltk.pos_tag and nltk.download."""
    import nlpaug.augmenter.word as naw
    from nlpaug.model.word_dict import WordDictionary

    tagger = ContentTagger(wn)
    synonyms = Synonyms(wn, tagger, senses)

    class RolePlayWordModel(WordDictionary):
        def __init__(self) -> None:
            super().__init__(cache=True)
            self.tags: dict[str, str] = {}

        def pos_tag(self, tokens):
            tagged = tagger.tag(list(tokens))
            self.tags = {token: tag for token, tag in tagged}
            return tagged

        def predict(self, word, pos=None):
            tag = self.tags.get(word)
            if pos is None or tag not in CONTENT_TAGS:
                return []
            return list(synonyms.of(word, tag))

    class RolePlaySynonymAug(naw.SynonymAug):
        def get_model(self, *args, **kwargs):
            return RolePlayWordModel()

        def skip_aug(self, token_idxes, tokens):
            return [i for i in token_idxes if tokens[i][1] in CONTENT_TAGS and self.model.predict(tokens[i][0], "x")]

    return RolePlaySynonymAug(aug_p=rate, aug_min=1, aug_max=None, stopwords=sorted(CLOSED))


class Synonym(TextAugmenter):
    name = "synonym"
    summary = "WordNet synonyms (nlpaug) for content words, in the word's own inflection"
    roles = (USER, ASSISTANT)
    languages = frozenset({"en"})
    options = (
        Option("rate", float, 0.15, "share of words replaced (of those that can be)", check=between(0.0, 1.0)),
        Option("senses", int, 1, "draw synonyms from this many of a word's commonest senses", check=between(1, 10)),
    )
    requires = ("wordnet",)

    @classmethod
    def check_requirement(cls, requirement):
        if requirement == "wordnet":
            return wordnet_data.missing()
        return super().check_requirement(requirement)

    def __init__(self, **values):
        super().__init__(**values)
        self._aug = None

    def setup(self) -> None:
        if self._aug is None:
            self._aug = _make_nlpaug_augmenter(wordnet_data.wordnet(), self.values["senses"], self.values["rate"])

    def __getstate__(self):
        return {**self.__dict__, "_aug": None}  # worker processes build their own

    def augment_text(self, text: str, rng: random.Random) -> str:
        self.setup()
        core = text.strip()
        if not core:
            return text
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        spans: list[tuple[int, int]] = []
        source: list[str] = [core]

        def tokenize(data: str) -> list[str]:
            source[0] = data
            spans[:] = [m.span() for m in TOKEN.finditer(data)]
            return [data[a:b] for a, b in spans]

        def detokenize(tokens: list[str]) -> str:
            data = source[0]
            if len(tokens) != len(spans):
                return data  # nlpaug changed the token count: keep the text
            pieces, pos = [], 0
            for (a, b), token in zip(spans, tokens):
                pieces.append(data[pos:a])
                pieces.append(token)
                pos = b
            pieces.append(data[pos:])
            return "".join(pieces)

        aug = self._aug
        aug.tokenizer, aug.reverse_tokenizer = tokenize, detokenize
        import numpy as np

        seed = rng.getrandbits(32)
        random.seed(seed)  # nlpaug draws from the global generators
        np.random.seed(seed)
        out = aug.augment(core)
        out = out[0] if isinstance(out, list) else out
        return f"{lead}{out}{trail}"


@augment.hookimpl
def register_augmenters(register):
    register(Synonym)
