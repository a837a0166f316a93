"""The synonym table: built once from WordNet into the cache folder, then only
read (NLTK not even importable); a damaged file is built again; another
WordNet folder gets its own table. One build here takes tens of seconds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from augment import wordnet_folder
from augment_plugins import synonym_table as st

SOURCE = Path("/usr/share/wordnet")
pytestmark = pytest.mark.skipif(not (SOURCE / "data.noun").is_file(), reason="WordNet 3.0 (make setup) is not installed")

# Run the step in a fresh process where `import nltk` fails, and tell what happened.
PROBE = """
import sys
sys.modules["nltk"] = None  # any import of NLTK raises ImportError
import random
from augment_plugins.synonym import Synonym
from augment_plugins.synonym_table import synonym_table, table_path
from augment import wordnet_folder
step = Synonym(rate=1.0)
print(step.augment_text("We walked along the old road and the wind howled.", random.Random(1)))
print(synonym_table().morphy("foobarred", "v"))
print(table_path(wordnet_folder()))
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A WordNet folder that knows one more verb form ("foobarred" -> "walk") and an empty cache."""
    folder = tmp_path_factory.mktemp("wordnet")
    for item in SOURCE.iterdir():
        if item.is_file():
            shutil.copyfile(item, folder / item.name)
    with open(folder / "verb.exc", "a", encoding="ascii") as fh:
        fh.write("foobarred walk\n")
    cache = tmp_path_factory.mktemp("cache")
    return {**os.environ, "AUGMENT_WORDNET": str(folder), "AUGMENT_CACHE": str(cache)}


def probe(env: dict) -> tuple[list[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), done.stderr


@pytest.fixture(scope="module")
def built(env):
    """The table of that folder, built by a first run (NLTK allowed)."""
    done = subprocess.run([sys.executable, "-c", PROBE.replace('sys.modules["nltk"] = None', "")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "building the synonym table (once)" in done.stderr
    lines = done.stdout.splitlines()
    return lines, Path(lines[2])


def test_the_table_is_built_once_then_read_without_nltk(env, built):
    first, path = built
    assert path.is_file() and path.parent == Path(env["AUGMENT_CACHE"])
    before = path.stat()
    again, stderr = probe(env)
    assert "building" not in stderr
    assert again == first  # the same synonyms for the same seed, and the folder's own exception
    assert again[1] == "walk" and again[0] != "We walked along the old road and the wind howled."
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)


def test_another_wordnet_folder_gets_its_own_table(env, built, monkeypatch):
    _, path = built
    monkeypatch.setenv("AUGMENT_CACHE", env["AUGMENT_CACHE"])
    monkeypatch.delenv("AUGMENT_WORDNET", raising=False)
    default = st.table_path(wordnet_folder())
    assert default != path and default.name.startswith(f"synonym-table-v{st.FORMAT}-")
    monkeypatch.setenv("AUGMENT_WORDNET", env["AUGMENT_WORDNET"])
    assert st.table_path(wordnet_folder()) == path


def test_a_damaged_table_is_noticed_and_built_again(env, built, tmp_path):
    _, path = built
    good = path.read_bytes()
    middle = len(good) // 2
    assert st._decode(good) is not None
    assert st._decode(good[:middle] + bytes([good[middle] ^ 1]) + good[middle + 1 :]) is None  # one bit flipped
    cache = tmp_path / "cache"
    cache.mkdir()
    for memo in Path(env["AUGMENT_CACHE"]).glob("wordnet-checksum-*"):
        shutil.copy(memo, cache)
    copy = cache / path.name
    copy.write_bytes(good[:middle])  # truncated, as by a full disk
    assert st._decode(copy.read_bytes()) is None
    done = subprocess.run([sys.executable, "-c", PROBE.replace('sys.modules["nltk"] = None', "")],
                          env={**env, "AUGMENT_CACHE": str(cache)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "building the synonym table (once)" in done.stderr
    assert done.stdout.splitlines()[:2] == built[0][:2]
    assert st._decode(copy.read_bytes()) is not None  # built again, whole


def test_the_table_stores_equal_strings_and_tuples_once_and_reads_back_equal(env, built, monkeypatch):
    """Shared objects make the loaded table ~35% smaller; the values are the
    build's own (compared with a fresh, unshared build of the same folder)."""
    from augment_plugins import synonym_build, synonym_table as st

    _, path = built
    for name in ("AUGMENT_WORDNET", "AUGMENT_CACHE"):
        monkeypatch.setenv(name, env[name])
    loaded = st._decode(path.read_bytes())
    fresh = synonym_build.build(Path(env["AUGMENT_WORDNET"]))
    fresh["format"] = st.FORMAT
    assert loaded == fresh
    counts = loaded["counts"]
    assert len({id(c) for c in counts}) < len(counts) / 10  # the same counts tuple, once
    names = [name for senses in loaded["names"] for name in senses]
    assert len({id(n) for n in names}) == len(set(names))  # each lemma name string once
    assert st._shared([(1,), (True,), ("a", 1)], {}) == [(1,), (True,), ("a", 1)]
    assert type(st._shared([(1,), (True,)], {})[1][0]) is bool  # equal is not the same


def test_lemmas_and_inflections_are_lemminflects_own_answers():
    """The table reads lemminflect's entries without its deep copies; every
    answer must be ``getLemma``'s / ``getInflection``'s, listed words and
    guessed ones, in any capitals."""
    import lemminflect

    table = st.synonym_table()
    listed = sorted(table._lemma_dict)[::37] + sorted(table._lemma_overrides) + sorted(table._infl_overrides)
    lemmas = sorted(table._infl_dict)[::37]
    unlisted = ["glorbing", "snarfles", "blickest", "xyzzy", "Quuxed", "FROBBED", "zorbly", "o'clock", "café", "x", ""]
    words = [w for word in listed + unlisted for w in (word, word.capitalize(), word.upper())]
    for word in words:
        for pos, upos in st.UPOS.items():
            assert table._get_lemma(word, pos) == tuple(lemminflect.getLemma(word, upos)), (word, upos)
    tags = ("VB", "VBD", "VBN", "VBG", "VBZ", "NN", "NNS", "JJ", "JJR", "JJS", "RB", "RBR", "RBS", "NNP", "NNPS")
    for word in lemmas + unlisted[:-1] + [w.capitalize() for w in lemmas[::5]]:  # ("" breaks lemminflect's rules)
        for tag in tags:
            assert table._get_inflection(word, tag) == tuple(lemminflect.getInflection(word, tag)), (word, tag)


def test_guessed_lemmas_are_lemminflects_own_guesses():
    """A word lemminflect does not list gets its network's guess; the table
    works it out with the same numpy operations, and must pick the same rule
    for every word: WordNet's forms, lemminflect's own words, in any capitals,
    and odd strings (digits, hyphens, accents, letters that lower-case to two)."""
    import lemminflect

    table = st.synonym_table()
    assert table._guess.exact  # the network is the one the lean path knows
    words = sorted(table.index["n"])[::23] + sorted(table.index["v"])[::7] + sorted(table._lemma_dict)[::29]
    words += ["b4", "a-b", "über-cool", "straße", "İstanbul", "o'clock", "", "naïve", "x", "zzzzzzzzzzzzing"]
    checked = 0
    for word in words:
        for form in (word, word.capitalize(), word.upper()):
            for upos in st.UPOS.values():
                guessed = lemminflect.Lemmatizer().getAllLemmasOOV(form, upos)
                assert table._guess(form, upos) == (tuple(next(iter(guessed.values()))) if guessed else ()), (form, upos)
                checked += 1
    assert checked > 50_000


def test_the_lemmas_kept_in_the_table_are_the_ones_worked_out_at_run_time():
    """The table keeps the tagger's lemma of every lower-case word
    lemminflect's tables hold and of WordNet's one-word forms, for each part of speech, worked out when it was
    built (lemminflect's listed lemma or its network's guess, then morphy,
    the first with senses); at run time the tagger reads those. Each kept
    answer (a sample of a tenth) is the one worked out now, and a word the
    table does not hold is worked out as before."""
    table = st.synonym_table()
    assert table.lemmas is not None
    held = sorted(table.lemmas)
    assert len(held) > 100_000 and all(w == w.lower() for w in held)
    assert all(w in table._lemma_dict or any(w in table.index[pos] for pos in st.POSES) for w in held[::97])
    kinds = set()
    for word in held[::10]:
        for pos, got in zip(st.POSES, table.lemmas_of(word)):
            assert got == table._find_lemma(word, pos), (word, pos)
            listed = table._listed_lemma(word, st.UPOS[pos])
            kinds.add("none" if got is None else "listed" if listed and got == listed[0] else "guessed or morphy")
    assert kinds == {"none", "listed", "guessed or morphy"}
    others = ["glorbing", "snarfles", "blickest", "xyzzy", "zorbly", "frobbed", "unfrobbable", "b4", "x-ed", ""]
    assert not any(w in table.lemmas for w in others)
    assert [table.lemmas_of(w) for w in others] == [tuple(table._find_lemma(w, pos) for pos in st.POSES) for w in others]
