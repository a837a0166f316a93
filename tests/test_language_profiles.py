"""langdetect's profiles as the project keeps them (augment.engine.language_profiles):
the same probabilities and the same answers as langdetect's own loader, read
back from the cache folder, rebuilt when the kept file is damaged or stale."""

from __future__ import annotations

import os

import pytest
from langdetect import DetectorFactory, LangDetectException
from langdetect.detector_factory import PROFILES_DIRECTORY

from augment.engine import language_profiles as lp

#: Written for these tests: a few lines in languages langdetect knows, short and long.
TEXTS = [
    "The lantern swung in the wind while the captain counted the coins twice.",
    "El capitán contó las monedas dos veces mientras la linterna se mecía con el viento.",
    "Le capitaine a compté les pièces deux fois pendant que la lanterne se balançait.",
    "Der Kapitän zählte die Münzen zweimal, während die Laterne im Wind schaukelte.",
    "Il capitano contò le monete due volte mentre la lanterna oscillava nel vento.",
    "O capitão contou as moedas duas vezes enquanto a lanterna balançava ao vento.",
    "De kapitein telde de munten twee keer terwijl de lantaarn in de wind schommelde.",
    "Kapten menghitung koin itu dua kali sementara lentera berayun tertiup angin.",
    "Kapitan policzył monety dwa razy, a latarnia kołysała się na wietrze.",
    "Капитан дважды пересчитал монеты, пока фонарь качался на ветру.",
    "ok",
    "*nods* sí",
    "Define entropy.",
    "12345 !!!",
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("AUGMENT_CACHE", str(folder))
    lp.detector_factory.cache_clear()
    yield folder
    lp.detector_factory.cache_clear()


def _langdetects_own() -> DetectorFactory:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    return factory


def _answer(factory, text: str) -> str:
    detector = factory.create()
    detector.append(text)
    try:
        return detector.detect()
    except LangDetectException as exc:
        return f"error: {exc}"


def test_the_kept_profiles_hold_langdetects_probabilities_in_sorted_language_order(cache):
    own = _langdetects_own()
    ours = lp.detector_factory()
    assert (cache / "langdetect-profiles.marshal").is_file()
    assert ours.langlist == sorted(own.langlist) and len(ours.langlist) == 55
    column = [own.langlist.index(lang) for lang in ours.langlist]
    assert len(ours.word_lang_prob_map) == len(own.word_lang_prob_map)
    for gram, row in own.word_lang_prob_map.items():
        assert gram in ours.word_lang_prob_map
        assert ours.word_lang_prob_map[gram] == [row[c] for c in column], gram
    assert "not an n-gram" not in ours.word_lang_prob_map


def test_read_back_from_the_cache_the_answers_are_langdetects(cache):
    built = [_answer(lp.detector_factory(), text) for text in TEXTS]
    lp.detector_factory.cache_clear()
    kept = lp.detector_factory()
    assert isinstance(kept.word_lang_prob_map, lp.ProbabilityMap)  # read back, not built again
    own = _langdetects_own()
    assert [_answer(kept, text) for text in TEXTS] == built == [_answer(own, text) for text in TEXTS]
    assert built[:7] == ["en", "es", "fr", "de", "it", "pt", "nl"]
    assert built[-1].startswith("error")


def test_a_damaged_or_stale_file_is_built_again(cache):
    lp.detector_factory()
    path = cache / "langdetect-profiles.marshal"
    good = path.read_bytes()
    for bad in (good[: len(good) // 2], b"not marshal at all", good.replace(b"format=1", b"format=0", 1)):
        path.write_bytes(bad)
        lp.detector_factory.cache_clear()
        factory = lp.detector_factory()
        assert _answer(factory, TEXTS[1]) == "es"
        assert path.read_bytes() == good  # written again, whole


def test_a_cache_folder_that_cannot_be_written_still_gives_the_answers(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AUGMENT_CACHE", str(blocker / "cache"))
    lp.detector_factory.cache_clear()
    try:
        assert [_answer(lp.detector_factory(), t) for t in TEXTS[:3]] == ["en", "es", "fr"]
    finally:
        lp.detector_factory.cache_clear()
    assert not os.path.exists(blocker / "cache")
