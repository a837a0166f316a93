"""Synonym replacement that keeps role-play text reading right.

nlpaug's ``SynonymAug`` way of choosing picks the words and the synonyms (its
lines, without its slow import: ``nlpaug_choice``); what it is given is ours:
WordNet 3.0 from Debian's packages, read through a table built once
(``synonym_table``), a part-of-speech guesser that needs no downloaded model,
and a word model that only
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
from .nlpaug_choice import substitute_synonyms
from .synonym_table import POSES, SynonymTable, synonym_table

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
#: Where each part of speech's lemma is in ``SynonymTable.lemmas_of``.
POS_INDEX = {pos: i for i, pos in enumerate(POSES)}
CONTENT_TAGS = frozenset("NN NNS VB VBD VBG VBN VBZ JJ JJR JJS RB".split())


class ContentTagger:
    """Part-of-speech guesses for content words, from WordNet and context.

    Closed-class words get ``CLOSED``, names (capitalised inside a sentence)
    ``NNP``, everything that is not a plain word ``SYM``; only the content tags
    are ever replaced."""

    def __init__(self, table: SynonymTable) -> None:
        self.table = table
        # A word's tag depends only on the word and its neighbours (lower-cased):
        # worked out once per such triple.
        self._tag_in = lru_cache(maxsize=1 << 14)(self._tag)
        # A word's lemmas as each part of speech, all four at once (the table
        # holds them for the words lemminflect knows; others are worked out).
        self._lemmas = lru_cache(maxsize=1 << 15)(table.lemmas_of)

    def tag(self, tokens: list[str]) -> list[tuple[str, str]]:
        lows = [token.lower() for token in tokens]
        before = ["", *lows]
        after = [*lows[1:], ""]
        tag_in = self._tag_in
        return [(token, tag_in(token, prev, following)) for token, prev, following in zip(tokens, before, after)]

    def _tag(self, token: str, prev: str, following: str) -> str:
        """The tag of ``token`` between ``prev`` and ``following`` (lower-cased; "" at either end)."""
        if not token.isalpha() or len(token) < 2:
            return "SYM"  # punctuation, contractions, single letters
        low = token.lower()
        if low in CLOSED:
            return "CLOSED"
        starts = not prev or prev in SENTENCE_END
        if (token[0].isupper() and not starts) or (token.isupper() and len(token) > 1):
            return "NNP"
        pos = self._pos(low, prev, following)
        if pos is None:
            return "SYM"
        if pos == "v" and (self._lemma(low, "v") in LIGHT_VERBS or following in VERB_FRAMES):
            return "CLOSED"
        return self._inflection(low, pos, prev)

    def _pos(self, low: str, prev: str, following: str) -> str | None:
        lemmas = self._lemmas(low)
        found = [p for p in "vnar" if lemmas[POS_INDEX[p]]]
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

    def _lemma(self, low: str, pos: str) -> str | None:
        """The dictionary form of ``low`` as ``pos``, if WordNet knows it so."""
        return self._lemmas(low)[POS_INDEX[pos]]

    @lru_cache(maxsize=8192)
    def _frequency(self, low: str, pos: str) -> int:
        lemma = self._lemma(low, pos)
        table = self.table
        return sum(count for s in table.synsets(lemma, pos)[:3]
                   for name, count in zip(table.names[s], table.counts[s]) if name.lower() == lemma)

    def _inflection(self, low: str, pos: str, prev: str) -> str:
        """The Penn tag of ``low`` as the ``pos`` it is: VBD or VBN, NNS, JJR ..."""
        getInflection = self.table.get_inflection
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

    def __init__(self, table: SynonymTable, tagger: ContentTagger, senses: int) -> None:
        self.table = table
        self.tagger = tagger
        self.senses = senses

    @lru_cache(maxsize=8192)
    def of(self, word: str, tag: str) -> tuple[str, ...]:
        table = self.table
        pos = {"N": "n", "V": "v", "J": "a", "R": "r"}[tag[0]]
        lemma = self.tagger._lemma(word.lower(), pos)
        if lemma is None:
            return ()
        out: list[str] = []
        for sense in table.synsets(lemma, pos)[: self.senses]:
            names = table.names[sense]
            if lemma not in {name.lower() for name in names}:
                continue  # reached through another word's sense
            for name, count in zip(names, table.counts[sense]):
                words = name.replace("_", " ").split()
                if name.lower() == lemma or not all(w.isalpha() for w in words) or len(words) > 3:
                    continue
                if any(w[0].isupper() for w in words):
                    continue  # proper nouns ("Iodine" for "I")
                if count == 0 or not any(c in "aeiou" for c in name.lower()):
                    continue  # never seen in the tagged corpus: rare or odd ("cognise")
                form = _inflect(words, pos, tag, table.get_inflection)
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


class WordModel:
    """What nlpaug's ``SynonymAug`` asks its word model, for one text: which
    tokens can change and their synonyms. Like nlpaug's models it answers by
    the word, so a word written twice is looked up with its last tag."""

    def __init__(self, tagger: ContentTagger, synonyms: Synonyms) -> None:
        self.tagger = tagger
        self.synonyms = synonyms

    def choose(self, tokens: list[str], rate: float, rng: random.Random) -> list[str] | None:
        tags = [tag for _, tag in self.tagger.tag(tokens)]
        last = dict(zip(tokens, tags))
        of = self.synonyms.of

        def candidates(i: int) -> list[str]:
            tag = last[tokens[i]]
            return list(of(tokens[i], tag)) if tag in CONTENT_TAGS else []

        def usable(i: int) -> bool:
            return tags[i] in CONTENT_TAGS and bool(candidates(i))

        return substitute_synonyms(tokens, tags, candidates, usable, CLOSED, rate, rng)


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
            table = synonym_table()
            tagger = ContentTagger(table)
            self._aug = WordModel(tagger, Synonyms(table, tagger, self.values["senses"]))

    def __getstate__(self):
        return {**self.__dict__, "_aug": None}  # worker processes build their own

    def augment_text(self, text: str, rng: random.Random) -> str:
        self.setup()
        core = text.strip()
        if not core:
            return text
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        spans = [m.span() for m in TOKEN.finditer(core)]
        tokens = [core[a:b] for a, b in spans]
        # nlpaug drew from the global generator, seeded like this: the same draws
        new = self._aug.choose(tokens, self.values["rate"], random.Random(rng.getrandbits(32)))
        if new is None or new == tokens:
            return text
        pieces, pos = [], 0
        for (a, b), token in zip(spans, new):
            pieces.append(core[pos:a])
            pieces.append(token)
            pos = b
        pieces.append(core[pos:])
        return f"{lead}{''.join(pieces)}{trail}"


@augment.hookimpl
def register_augmenters(register):
    register(Synonym)
