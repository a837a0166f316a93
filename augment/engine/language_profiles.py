"""langdetect's language profiles, kept in the cache folder in a form a process
loads in milliseconds.

langdetect's ``DetectorFactory.load_profile`` reads its 55 JSON profiles and
builds a dict of 87,598 n-grams, each to a list of 55 probabilities: a quarter
of a second in every process that asks for a language, each worker of a
pool included. Only 184,129 of those 4.8 million numbers are not zero. This
module builds the same map once with langdetect's own code (its
``LangProfile`` and ``DetectorFactory.add_profile``) and keeps the n-grams and,
for each, its non-zero (language, probability) pairs; a process reads them
back and gives langdetect a map that makes an n-gram's list of
probabilities, the same floats, the first time the detector asks for it.

The languages are in the order of their profiles' sorted file names.
langdetect takes the order its folder lists them in, which depends on the
file system, and the order decides how the probabilities are summed when
they are normalised: sorted, the answers are the same on every machine.
"""

from __future__ import annotations

import marshal
import os
from array import array
from functools import lru_cache
from typing import Any

#: Changes when the file's layout does.
FORMAT = 1


class ProbabilityMap:
    """n-gram -> the list of its probabilities per language, as langdetect's
    ``word_lang_prob_map`` (the detector only asks ``gram in map`` and
    ``map[gram]``); each list is made on first use and kept."""

    __slots__ = ("_index", "_starts", "_langs", "_probs", "_size", "_rows")

    def __init__(self, grams: tuple[str, ...], starts: array, langs: array, probs: array, size: int) -> None:
        self._index = dict(zip(grams, range(len(grams))))
        self._starts, self._langs, self._probs, self._size = starts, langs, probs, size
        self._rows: dict[str, list[float]] = {}

    def __contains__(self, gram: object) -> bool:
        return gram in self._index

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self):
        return iter(self._index)

    def __getitem__(self, gram: str) -> list[float]:
        row = self._rows.get(gram)
        if row is None:
            i = self._index[gram]
            row = [0.0] * self._size
            langs, probs = self._langs, self._probs
            for j in range(self._starts[i], self._starts[i + 1]):
                row[langs[j]] = probs[j]
            self._rows[gram] = row
        return row


def _profiles_folder() -> str:
    from langdetect.detector_factory import PROFILES_DIRECTORY

    return PROFILES_DIRECTORY


def _profile_names(folder: str) -> list[str]:
    """The profiles langdetect would load (not hidden, files), sorted."""
    return sorted(n for n in os.listdir(folder) if not n.startswith(".") and os.path.isfile(os.path.join(folder, n)))


def _stamp(folder: str) -> str:
    """What the kept file was made from: the profiles' and langdetect's loading
    code's sizes and times (the package's version would need importlib.metadata: 20 ms)."""
    import langdetect.detector_factory as code

    parts = [f"format={FORMAT}", os.path.realpath(folder)]
    for path in (code.__file__, os.path.join(os.path.dirname(code.__file__), "utils", "lang_profile.py")):
        st = os.stat(path)
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    for name in _profile_names(folder):
        st = os.stat(os.path.join(folder, name))
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return " ".join(parts)


def build(folder: str) -> tuple[list[str], dict[str, list[float]]]:
    """langdetect's languages and n-gram map, made by langdetect's own code
    from the profiles in ``folder``, taken in sorted order."""
    import json

    from langdetect.detector_factory import DetectorFactory
    from langdetect.utils.lang_profile import LangProfile

    factory = DetectorFactory()
    names = _profile_names(folder)
    for index, name in enumerate(names):
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            factory.add_profile(LangProfile(**json.load(fh)), index, len(names))
    return factory.langlist, factory.word_lang_prob_map


def _pack(langlist: list[str], table: dict[str, list[float]]) -> tuple:
    grams = tuple(table)
    starts, langs, probs = array("I", [0]), array("B"), array("d")
    for gram in grams:
        for lang, p in enumerate(table[gram]):
            if p != 0.0:
                langs.append(lang)
                probs.append(p)
        starts.append(len(probs))
    return (tuple(langlist), grams, starts.tobytes(), langs.tobytes(), probs.tobytes())


def _unpack(packed: tuple) -> tuple[list[str], ProbabilityMap]:
    langlist, grams, starts, langs, probs = packed
    arrays = [array(code) for code in "IBd"]
    for arr, data in zip(arrays, (starts, langs, probs)):
        arr.frombytes(data)
    if len(arrays[0]) != len(grams) + 1 or arrays[0][-1] != len(arrays[1]) or len(arrays[1]) != len(arrays[2]):
        raise ValueError("inconsistent profile file")
    return list(langlist), ProbabilityMap(grams, *arrays, len(langlist))


def _kept(folder: str) -> tuple[list[str], Any]:
    """The languages and n-gram map: from the cache folder when its stamp
    matches, else built (and kept, when the folder can be written)."""
    from augment.engine.dictionary import cache_folder

    stamp = _stamp(folder)
    path = cache_folder() / "langdetect-profiles.marshal"
    try:
        with open(path, "rb") as fh:
            kept_stamp, packed = marshal.loads(fh.read())  # (marshal.load reads a file piece by piece: 4x slower)
        if kept_stamp == stamp:
            return _unpack(packed)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    langlist, table = build(folder)
    from augment.dataio.streams import AtomicFile

    try:
        with AtomicFile(path) as fh:
            fh.write(marshal.dumps((stamp, _pack(langlist, table))))
    except OSError:
        pass  # a cache folder that cannot be written means building it again next time
    return langlist, table


@lru_cache(maxsize=1)
def detector_factory():
    """A langdetect ``DetectorFactory`` holding every profile, seeded (0):
    ``detector_factory().create()`` gives a detector as ``langdetect.detect`` uses."""
    from langdetect.detector_factory import DetectorFactory

    factory = DetectorFactory()
    factory.langlist, factory.word_lang_prob_map = _kept(_profiles_folder())
    factory.seed = 0
    return factory
