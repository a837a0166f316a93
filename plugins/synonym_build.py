"""Building the synonym table (see ``synonym_table``): NLTK's WordNet reader and
lemminflect are asked once, and their answers kept as plain dicts and lists.

Takes tens of seconds (28 s on the 2-core machine, 7 of them for the held
words' lemmas); runs when the cache folder has no table for this WordNet.
"""

from __future__ import annotations

from pathlib import Path

POSES = "nvar"


def _counts(folder: Path) -> dict[str, int]:
    """``cntlist.rev``: sense key -> tagged-corpus count, what ``Lemma.count()`` looks up."""
    counts: dict[str, int] = {}
    path = folder / "cntlist.rev"
    if path.is_file():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                key, _, rest = line.partition(" ")
                if rest:
                    counts.setdefault(key, int(line.rsplit(" ", 1)[-1]))
    return counts


def _wordnet(reader, folder: Path) -> dict:
    counts = _counts(folder)
    numbers: dict[tuple[str, int], int] = {}
    names: list[tuple[str, ...]] = []
    lemma_counts: list[tuple[int, ...]] = []

    def sense(pos: str, offset: int) -> int:
        number = numbers.get((pos, offset))
        if number is None:
            synset = reader.synset_from_pos_and_offset(pos, offset)
            lemmas = synset.lemmas()
            number = numbers[(pos, offset)] = len(names)
            names.append(tuple(lemma.name() for lemma in lemmas))
            lemma_counts.append(tuple(counts.get(lemma.key(), 0) for lemma in lemmas))
        return number

    index: dict[str, dict[str, tuple[int, ...]]] = {pos: {} for pos in POSES}
    for form, by_pos in sorted(reader._lemma_pos_offset_map.items()):
        for pos in POSES:
            if pos in by_pos:
                index[pos][form] = tuple(sense(pos, offset) for offset in by_pos[pos])
    return {
        "index": index,
        "exceptions": {pos: {k: list(v) for k, v in reader._exception_map[pos].items()} for pos in POSES},
        "substitutions": {pos: [list(s) for s in reader.MORPHOLOGICAL_SUBSTITUTIONS[pos]] for pos in POSES},
        "names": names,
        "counts": lemma_counts,
    }


def _lemminflect() -> dict:
    """lemminflect's four lookup tables, as its own loaders return them."""
    from lemminflect import Inflections, Lemmatizer

    lemmatizer, inflections = Lemmatizer(), Inflections()
    return {
        "lemma_dict": lemmatizer._getLemmaDict(),
        "lemma_overrides": lemmatizer._getOverridesDict(),
        "infl_dict": inflections._getInflDict(),
        "infl_overrides": inflections._getOverridesDict(),
    }


def build(folder: Path) -> dict:
    from . import wordnet_data
    from .synonym_table import SynonymTable

    data = {**_wordnet(wordnet_data.wordnet(), folder), "lemminflect": _lemminflect()}
    data["lemmas"] = SynonymTable(data).held_lemmas()  # the tagger's lemmas of 110k words (7 s)
    return data
