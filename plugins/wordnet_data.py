"""Princeton WordNet 3.0 from Debian's packages, as NLTK's reader wants it.

Debian's ``wordnet-base`` and ``wordnet-sense-index`` put the database in
``/usr/share/wordnet`` but ship no ``lexnames`` file, and NLTK 3.9+ reads a
corpus only from an ``nltk_data`` folder that no other user can write. So the
files are copied once (a few MB, in well under a second) into a private folder
with ``lexnames`` added: ``$AUGMENT_CACHE`` or ``~/.cache/augment``. Nothing is
downloaded. ``AUGMENT_WORDNET`` points at another WordNet 3.0 folder.

The core's plain word list (``augment.is_word``) reads the same files without NLTK.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

from augment import AugmentError, cache_folder, wordnet_folder

SOURCES = ("/usr/share/wordnet",)  # Debian's, as augment.engine.dictionary looks for it

# The 45 lexicographer files, in the order of WordNet's lexnames(5WN): name, part of speech number.
LEXNAMES = (
    ("adj.all", 3), ("adj.pert", 3), ("adv.all", 4), ("noun.Tops", 1), ("noun.act", 1),
    ("noun.animal", 1), ("noun.artifact", 1), ("noun.attribute", 1), ("noun.body", 1),
    ("noun.cognition", 1), ("noun.communication", 1), ("noun.event", 1), ("noun.feeling", 1),
    ("noun.food", 1), ("noun.group", 1), ("noun.location", 1), ("noun.motive", 1),
    ("noun.object", 1), ("noun.person", 1), ("noun.phenomenon", 1), ("noun.plant", 1),
    ("noun.possession", 1), ("noun.process", 1), ("noun.quantity", 1), ("noun.relation", 1),
    ("noun.shape", 1), ("noun.state", 1), ("noun.substance", 1), ("noun.time", 1),
    ("verb.body", 2), ("verb.change", 2), ("verb.cognition", 2), ("verb.communication", 2),
    ("verb.competition", 2), ("verb.consumption", 2), ("verb.contact", 2), ("verb.creation", 2),
    ("verb.emotion", 2), ("verb.motion", 2), ("verb.perception", 2), ("verb.possession", 2),
    ("verb.social", 2), ("verb.stative", 2), ("verb.weather", 2), ("adj.ppl", 3),
)
def _source() -> Path:
    return wordnet_folder()


def missing() -> str | None:
    """Why WordNet 3.0 cannot be read on this machine, or None."""
    try:
        _source()
    except AugmentError as exc:
        return str(exc)
    return None


def _cache(source: Path) -> Path:
    """``nltk_data`` for Debian's WordNet; another folder (``AUGMENT_WORDNET``) gets its own copy."""
    if str(source) in SOURCES:
        return cache_folder() / "nltk_data"
    key = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return cache_folder() / f"nltk_data-{key}"


def prepared() -> tuple[Path, Path]:
    """``(nltk_data root, wordnet folder)``, making the private copy if needed."""
    source = _source()
    root = _cache(source)
    target = root / "corpora" / "wordnet"
    stamp = target / "lexnames"
    if not stamp.is_file():
        (root / "corpora").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".wordnet.", dir=root / "corpora"))
        for item in source.iterdir():
            if item.is_file():
                shutil.copyfile(item, tmp / item.name)
        with open(tmp / "lexnames", "w", encoding="ascii") as fh:
            for number, (name, pos) in enumerate(LEXNAMES):
                fh.write(f"{number:02d}\t{name}\t{pos}\n")
        for path in (tmp, *tmp.iterdir()):
            path.chmod(path.stat().st_mode & ~0o022)
        try:
            tmp.rename(target)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    for folder in (root.parent, root, root / "corpora"):
        folder.chmod(folder.stat().st_mode & ~0o022)
    return root, target


def wordnet():
    """NLTK's WordNet reader over the private copy of this machine's WordNet
    (seconds to load; once per process and folder). The synonym step reads
    ``synonym_table`` instead; this builds that table, and serves other users."""
    return _reader(str(_source()))


@lru_cache(maxsize=2)
def _reader(source: str):
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    root, folder = prepared()
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": not used
        reader = WordNetCorpusReader(str(folder), None)
    # NLTK keeps the data files open and seeks in them. A worker process forked
    # from this one would share those open files, and their read positions, with
    # its siblings: each child must open its own.
    os.register_at_fork(after_in_child=lambda: reader._data_file_map.clear())
    return reader
