"""The synonym step's word data, built once from WordNet and lemminflect and
loaded in a fraction of a second.

NLTK's WordNet reader takes seconds to start (it indexes every sense on each
run, in every worker), and lemminflect parses its compressed lookup tables on
first use. The synonym step asks WordNet only a few things: the forms it lists
for a part of speech, its exception lists, and for each sense its lemma names
with their corpus counts. Those, lemminflect's lookup tables as lemminflect
reads them, and the tagger's lemmas of every word lemminflect or WordNet
holds (worked out from the rest: ``SynonymTable.held_lemmas``), are written
once, with NLTK and lemminflect themselves, into one ``marshal`` file in the
cache folder (``$AUGMENT_CACHE`` or ``~/.cache/augment``), named by the
format version and a checksum of the WordNet files and lemminflect's version.
The file is written to a temporary name and renamed into place, so processes
building it at the same time do no harm, and it carries a digest of its
contents: a damaged file is noticed and built again.

``morphy`` and ``synsets`` here are NLTK 3.10's algorithm over the table: the
same answers as ``WordNetCorpusReader.morphy``/``synsets``. lemminflect's
answers are read from its own tables, and its guesses for words they do not
list come from its own network, run here step by step as lemminflect runs it
(:class:`_LemmaGuesser`): the same answers, tested against lemminflect's.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from augment import cache_folder, wordnet_folder

#: Part of the file's name: a new number whenever what is stored, or how
#: ``held_lemmas`` works its answers out, changes (old files are then not read).
FORMAT = 5  # 2: equal strings and tuples stored once (shared when loaded); 5: the held words' lemmas (``lemmas``)
POSES = "nvar"
UPOS = {"n": "NOUN", "v": "VERB", "a": "ADJ", "r": "ADV"}
SOURCE_FILES = tuple(f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")) + (
    "noun.exc", "verb.exc", "adj.exc", "adv.exc", "cntlist.rev")
MAGIC = b"augment-synonym-table\n"


class SynonymTable:
    """What the synonym step reads from WordNet and lemminflect, in plain dicts."""

    def __init__(self, data: dict) -> None:
        self.index: dict[str, dict[str, tuple[int, ...]]] = data["index"]
        self.exceptions: dict[str, dict[str, list[str]]] = data["exceptions"]
        self.substitutions: dict[str, list[tuple[str, str]]] = {p: [tuple(s) for s in v] for p, v in data["substitutions"].items()}
        self.names: list[tuple[str, ...]] = data["names"]
        self.counts: list[tuple[int, ...]] = data["counts"]
        self._lemminflect = _lemminflect_with(data["lemminflect"])
        self._lemmatizer = lemmatizer = self._lemminflect.Lemmatizer()  # the tables getLemma reads (its singleton's)
        self._lemma_dict, self._lemma_overrides = lemmatizer._getLemmaDict(), lemmatizer._getOverridesDict()
        self._guess = _LemmaGuesser(lemmatizer)
        self._inflections = inflections = self._lemminflect.Inflections()
        self._infl_dict, self._infl_overrides = inflections._getInflDict(), inflections._getOverridesDict()
        from lemminflect.core import LexicalUtils  # (imported with lemminflect above)

        self._lexical = LexicalUtils
        # Every answer depends only on its arguments: each is worked out once per
        # process (a word lemminflect does not list goes through its small
        # neural model). Tuples, so no caller can change a kept answer.
        self.synsets = lru_cache(maxsize=1 << 13)(self._synsets)
        self.get_lemma = lru_cache(maxsize=1 << 13)(self._get_lemma)
        self.get_inflection = lru_cache(maxsize=1 << 13)(self._get_inflection)
        #: word -> its ``lemmas_of``, for the words
        #: lemminflect's tables hold and WordNet's one-word forms
        #: (``held_lemmas``); None while building.
        self.lemmas: dict[str, tuple[str | None, ...]] | None = data.get("lemmas")

    def _morphy(self, form: str, pos: str) -> list[str]:
        """NLTK's ``_morphy``: the forms of ``form`` WordNet lists for ``pos``."""
        index = self.index[pos]
        exceptions = self.exceptions[pos]
        if form in exceptions:
            forms = exceptions[form]
        else:
            forms = [form[: -len(old)] + new for old, new in self.substitutions[pos] if form.endswith(old)]
        result: list[str] = []
        for candidate in [form, *forms]:
            if candidate in index and candidate not in result:
                result.append(candidate)
        return result

    def morphy(self, form: str, pos: str) -> str | None:
        found = self._morphy(form, pos)
        return found[0] if found else None

    def _synsets(self, lemma: str, pos: str) -> tuple[int, ...]:
        """``synsets``: the senses (numbers into ``names``/``counts``) of ``lemma`` as ``pos``, in WordNet's order."""
        index = self.index[pos]
        return tuple(sense for form in self._morphy(lemma.lower(), pos) for sense in index[form])

    def _get_lemma(self, low: str, pos: str) -> tuple[str, ...]:
        """``get_lemma``: lemminflect's ``getLemma(low, UPOS)``."""
        upos = UPOS[pos]
        found = self._listed_lemma(low, upos)
        if found is not None:
            return found
        return self._guess(low, upos)  # not listed: what getLemma does next

    def lemmas_of(self, low: str) -> tuple[str | None, ...]:
        """The dictionary form of ``low`` (lower case) as each part of speech
        (in ``POSES`` order), where WordNet knows it so: the first of
        lemminflect's lemmas (its guess for a word it does not list as that
        part of speech) and ``morphy``'s that has senses. For the words
        lemminflect's tables hold and WordNet's one-word forms, the answers
        were worked out when the table was built (``held_lemmas``): every
        process reads them there instead of working them out again (a word
        lemminflect does not list goes through its network)."""
        if self.lemmas is not None:
            found = self.lemmas.get(low)
            if found is not None:
                return found
        return tuple(self._find_lemma(low, pos) for pos in POSES)

    def _find_lemma(self, low: str, pos: str) -> str | None:
        for lemma in (*self.get_lemma(low, pos), self.morphy(low, pos)):
            if lemma and self.synsets(lemma, pos):
                return lemma
        return None

    def held_lemmas(self) -> dict[str, tuple[str | None, ...]]:
        """The ``lemmas_of`` every lower-case word lemminflect's tables hold, and
        of every one-word form WordNet lists (letters only), for each part of
        speech (in ``POSES`` order): made once, when the table is built."""
        words = {word for word in self._lemma_dict if word == word.lower()}
        words.update(word for pos in POSES for word in self.index[pos] if word.isalpha() and word == word.lower())
        return {word: tuple(self._find_lemma(word, pos) for pos in POSES) for word in sorted(words)}

    def _listed_lemma(self, word: str, upos: str) -> tuple[str, ...] | None:
        """What ``getLemma`` answers for a word its tables list under ``upos``
        (None: not listed), the way ``getAllLemmas`` finds it, without the two
        deep copies it makes of the table's entry on every call (a fifth of a
        synonym run on distinct text)."""
        key = word.lower()
        overrides = self._lemma_overrides.get(key, {})
        listed = overrides if upos in overrides else self._lemma_dict.get(key, {})
        if upos not in listed:
            return None
        return self._in_caps_of(word, listed[upos])

    def _get_inflection(self, word: str, tag: str) -> tuple[str, ...]:
        """``get_inflection``: lemminflect's ``getInflection(word, tag)``, the
        table's forms read without the deep copies it makes on every call."""
        inflections, lexical = self._inflections, self._lexical
        upos = lexical.tagToUPos(tag)
        if upos == "PROPN":
            return tuple(inflections.getInflection(word, tag))
        key = word.lower()
        forms = {**self._infl_dict.get(key, {}), **self._infl_overrides.get(key, {})}  # getAllInflections(word)
        form = inflections._extractForm(forms, tag)
        if form is None:
            for alt_tag in lexical.pennTagAlts(tag):
                form = forms.get(alt_tag, None)
                if form:
                    break
        if form is not None:
            return self._in_caps_of(word, form)
        form = inflections._extractForm(inflections.getAllInflectionsOOV(word, upos), tag)
        return () if form is None else tuple(form)

    def _in_caps_of(self, word: str, value) -> tuple[str, ...]:
        """A table's entry ``value`` as lemminflect gives it back for ``word``:
        in the word's capitals (``applyCapsStyleToDict`` on one value)."""
        style = self._lexical.getCapsStyle(word)
        apply = self._lexical.applyCapsStyle
        if isinstance(value, (list, tuple)):
            return tuple(apply(w, style) for w in value)
        return tuple(apply(value, style))  # (a bare string is returned as it is; tuple() spells it out)


class _LemmaGuesser:
    """lemminflect's guess at the lemma of a word its tables do not list
    (``getAllLemmasOOV``: a small network picks one of a few dozen suffix
    rules), worked out with the network's own numpy operations in its own
    order, so with the same floats and the same pick, without the checks,
    dispatch and copies around them on every call (half of its time)."""

    def __init__(self, lemmatizer) -> None:
        from lemminflect.core.LexicalUtils import applyCapsStyle, getCapsStyle, uposToCategory
        from lemminflect.kmodels.ModelLemmaInData import ModelLemmaInData
        from lemminflect.slexicon.SKey import SKey

        self._lemmatizer = lemmatizer
        rules = lemmatizer._getOOVLemmatizer()
        layers = [(layer["class_name"], layer["config"].get("activation")) for layer in rules.kinfer.config["layers"]]
        self.exact = layers == [("InputLayer", None), ("Flatten", None), ("Dense", "relu"), ("Dense", "softmax")]
        self._weights = rules.kinfer.weights
        self._rules = [(len(strip), add, double == "True") for strip, add, double in map(rules._csvToTuple, rules.rules)]
        self._steps, self._letters = ModelLemmaInData.WVEC_LEN, ModelLemmaInData.MAX_LETTER_IDX
        self._category = {upos: {SKey.NOUN: 0, SKey.VERB: 1, SKey.ADJ: 2, SKey.ADV: 3}[uposToCategory(upos)] for upos in UPOS.values()}
        self._caps, self._in_caps = getCapsStyle, applyCapsStyle

    def __call__(self, word: str, upos: str) -> tuple[str, ...]:
        """What ``getAllLemmasOOV(word, upos)`` gives, as a tuple (empty: no guess)."""
        if not self.exact:  # a lemminflect whose network is built otherwise: ask it
            guessed = self._lemmatizer.getAllLemmasOOV(word, upos)
            return tuple(next(iter(guessed.values()))) if guessed else ()
        import numpy as np

        steps, letters = self._steps, self._letters
        x = np.zeros(steps * letters, dtype="float32")  # ModelLemmaInData.wordToVec, flattened
        x[self._category[upos]] = 1
        for i, letter in enumerate(word.lower()[::-1][: steps - 1], 1):
            code = ord(letter)
            x[i * letters + (code - 95 if 97 <= code <= 122 else 1)] = 1
        w1, b1, w2, b2 = self._weights
        x = np.dot(x, w1) + b1
        x = x * (x > 0)  # relu
        x = np.dot(x, w2) + b2
        y = np.exp(x - x.max(-1, keepdims=True))  # softmax (the methods: the same reductions, without np.max's dispatch)
        y = y / y.sum(-1, keepdims=True)
        strip, add, double = self._rules[int(y.argmax())]
        lemma = (word[:-strip] if strip else word) + add
        if double:
            lemma = lemma[:-1]
        return (self._in_caps(lemma, self._caps(word)),)


def _lemminflect_with(tables: dict):
    """lemminflect, its lookup tables taken from ``tables`` instead of read from
    its compressed CSV files (the same dicts: ``LemmaLUCodec.load`` ... ``marshal``)."""
    import lemminflect

    lemmatizer, inflections = lemminflect.Lemmatizer(), lemminflect.Inflections()  # singletons
    for owner, attribute, key in ((lemmatizer, "lemma_dict", "lemma_dict"), (lemmatizer, "overrides_dict", "lemma_overrides"),
                                  (inflections, "infl_dict", "infl_dict"), (inflections, "overrides_dict", "infl_overrides")):
        if not hasattr(owner, attribute):  # lemminflect reads a table only when the attribute is missing
            setattr(owner, attribute, tables[key])
    return lemminflect


# -- where the table lives and how it is checked ----------------------------------


def _stat_line(folder: Path) -> str:
    parts = [str(folder.resolve())]
    for name in SOURCE_FILES:
        path = folder / name
        try:
            st = path.stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
        except OSError:
            parts.append(f"{name}:-")
    return " ".join(parts)


def checksum(folder: Path) -> str:
    """sha256 of the WordNet files the table is made from (and lemminflect's
    version). Hashing them takes a quarter of a second, so the answer is kept
    beside the table with the files' sizes and times and reused while they stay the same."""
    version = _lemminflect_version()
    stamp = f"{_stat_line(folder)} lemminflect={version}"
    memo = cache_folder() / f"wordnet-checksum-{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]}.txt"
    try:
        line, _, value = memo.read_text("utf-8").partition("\n")
        if line == stamp and len(value.strip()) == 64:
            return value.strip()
    except OSError:
        pass
    h = hashlib.sha256(f"lemminflect={version}\n".encode())
    for name in SOURCE_FILES:
        path = folder / name
        h.update(name.encode() + b"\0")
        if path.is_file():
            h.update(path.read_bytes())
    value = h.hexdigest()
    _write_atomic(memo, f"{stamp}\n{value}\n".encode())
    return value


def _lemminflect_version() -> str:
    try:
        return metadata.version("lemminflect")
    except metadata.PackageNotFoundError:
        return "none"


def table_path(folder: Path) -> Path:
    return cache_folder() / f"synonym-table-v{FORMAT}-{checksum(folder)[:20]}.marshal"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _shared(obj, seen: dict):
    """``obj`` with equal strings and equal tuples of plain values made one
    object: ``marshal`` then writes each once and ``loads`` gives them back
    shared (WordNet 3.0's table: 85 MB loaded instead of 134)."""
    if isinstance(obj, dict):
        return {_shared(k, seen): _shared(v, seen) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shared(v, seen) for v in obj]
    if isinstance(obj, tuple):
        obj = tuple(_shared(v, seen) for v in obj)
        if not all(type(v) in (str, int) for v in obj):
            return obj
        key = (obj, tuple(map(type, obj)))  # (1,) and (True,) are equal, not the same
    elif type(obj) is str:
        key = obj
    else:
        return obj
    return seen.setdefault(key, obj)


def _encode(data: dict) -> bytes:
    payload = marshal.dumps(data)
    return MAGIC + hashlib.blake2b(payload, digest_size=16).digest() + payload


def _decode(blob: bytes) -> dict | None:
    """The table in ``blob``, or None when it is damaged or not a table of this format."""
    head = len(MAGIC)
    if not blob.startswith(MAGIC) or len(blob) < head + 16:
        return None
    payload = memoryview(blob)[head + 16 :]  # not a copy: 11 MiB less at the peak of a synonym run
    if hashlib.blake2b(payload, digest_size=16).digest() != blob[head : head + 16]:
        return None
    try:
        data = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


@lru_cache(maxsize=4)
def _load(folder: str) -> SynonymTable:
    path = table_path(Path(folder))
    try:
        data = _decode(path.read_bytes())
    except OSError:
        data = None
    if data is None:
        print("synonym: building the synonym table (once) ...", file=sys.stderr, flush=True)
        from .synonym_build import build

        data = _shared(build(Path(folder)), {})
        data["format"] = FORMAT
        try:
            _write_atomic(path, _encode(data))
        except OSError as exc:
            print(f"synonym: cannot keep the synonym table in {path.parent} ({exc}); "
                  "it will be built again next time", file=sys.stderr, flush=True)
    return SynonymTable(data)


def synonym_table() -> SynonymTable:
    """The table for the WordNet of this machine (``AUGMENT_WORDNET`` or Debian's), built if needed."""
    return _load(str(wordnet_folder()))
