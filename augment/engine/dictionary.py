"""WordNet's files on this machine, without NLTK: where they are, where the
project keeps its caches, and WordNet's common words as a plain list (the
protector takes a capitalised word that is not a dictionary word for a name;
the language guesser knows short English prompts by their words).

WordNet 3.0 comes from Debian's ``wordnet-base`` (``/usr/share/wordnet``) or
the folder ``AUGMENT_WORDNET`` names; nothing is downloaded.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from augment.errors import AugmentError

SOURCES = ("/usr/share/wordnet",)
NEEDED = ("data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb", "index.adj", "index.adv")
INSTALL_HINT = (
    "WordNet 3.0 is not installed: run 'make setup' (it installs Debian's wordnet-base and "
    "wordnet-sense-index), or 'apt-get install wordnet-base wordnet-sense-index', or point "
    "AUGMENT_WORDNET at a WordNet 3.0 dict folder"
)


def wordnet_folder() -> Path:
    """The WordNet 3.0 dict folder; AugmentError with how to install it."""
    candidates = [os.environ.get("AUGMENT_WORDNET"), *SOURCES]
    for folder in candidates:
        if folder and all((Path(folder) / name).is_file() for name in NEEDED):
            return Path(folder)
    raise AugmentError(INSTALL_HINT)


def cache_folder() -> Path:
    """Where the project keeps what it builds once: ``$AUGMENT_CACHE``, or ``~/.cache/augment``."""
    return Path(os.environ.get("AUGMENT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "augment"))



WORDS_FILE = "wordnet-words.txt"
_POS_FILES = ("noun", "verb", "adj", "adv")
#: Inflections undone to find a word's dictionary form (WordNet's morphy rules,
#: with -ly, -er/-est on adjectives, and doubled consonants: "stopped", "bigger").
_ENDINGS = (
    ("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
    ("ies", "y"), ("ied", "y"), ("ier", "y"), ("iest", "y"), ("ily", "y"), ("es", "e"), ("es", ""),
    ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""), ("er", ""), ("est", ""), ("er", "e"), ("est", "e"),
    ("ly", ""), ("ly", "le"),
)


def _read_words(source: Path) -> set[str]:
    """Single words that WordNet writes in lower case (common words: "harry",
    "rose"; not "London" or "Luna"), and the irregular forms of its exception
    lists ("geese", "ran", "better")."""
    words: set[str] = set()
    for pos in _POS_FILES:
        with open(source / f"data.{pos}", encoding="latin-1") as fh:
            for line in fh:
                if line.startswith(" "):
                    continue  # the licence at the top
                parts = line.split(" ", 60)
                count = int(parts[3], 16)
                for word in parts[4 : 4 + 2 * count : 2]:
                    word = word.split("(")[0]  # "galore(ip)": an adjective's position marker
                    if word[:1].islower() and "_" not in word:
                        words.add(word)
    for pos in _POS_FILES:
        exc = source / f"{pos}.exc"
        if exc.is_file():
            for line in exc.read_text(encoding="latin-1").splitlines():
                forms = line.split()
                if len(forms) >= 2 and "_" not in forms[0] and any(f in words for f in forms[1:]):
                    words.add(forms[0])
    return words


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """WordNet's common single words in lower case, inflected forms of the
    exception lists included; empty when WordNet is not installed. Read from
    the data files once (under a second) and kept in ``$AUGMENT_CACHE`` (or
    ``~/.cache/augment``) as a plain list that loads in a few milliseconds.
    NLTK is not imported: the protector and the language guesser use this."""
    try:
        source = wordnet_folder()
    except AugmentError:
        return frozenset()
    stamp = f"{source.resolve()} {(source / 'data.noun').stat().st_size} {len(_ENDINGS)}"
    return kept_words(WORDS_FILE, stamp, lambda: _read_words(source))


def kept_words(name: str, stamp: str, build: Callable[[], Iterable[str]]) -> frozenset[str]:
    """A word list kept in the cache folder as ``name`` (its first line
    ``stamp``, then a word a line), so it loads in milliseconds: ``build()``
    makes it when there is none or its stamp differs. A cache folder that
    cannot be written only means building it again next time."""
    cached = cache_folder() / name
    try:
        with open(cached, encoding="utf-8") as fh:
            if fh.readline().rstrip("\n") == stamp:
                return frozenset(fh.read().splitlines())
    except OSError:
        pass
    words = frozenset(build())
    from augment.dataio.streams import AtomicFile

    try:
        with AtomicFile(cached) as fh:
            fh.write((stamp + "\n" + "".join(f"{w}\n" for w in sorted(words))).encode("utf-8"))
    except OSError:
        pass
    return words


def is_word(word: str) -> bool | None:
    """Whether ``word`` (any case) is a common English word or an inflection of
    one, by ``dictionary_words``; None when there is no word list."""
    words = dictionary_words()
    if not words:
        return None
    low = word.lower()
    if low in words:
        return True
    for ending, base in _ENDINGS:
        if low.endswith(ending) and len(low) > len(ending) + 1:
            stem = low[: len(low) - len(ending)] + base
            if stem in words:
                return True
            if not base and len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in words:
                return True  # stopped, bigger, running
    return False
