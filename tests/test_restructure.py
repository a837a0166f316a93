"""restructure: long sentences split at clause boundaries, short ones joined,
in English and Chinese role-play turns, protected spans untouched."""

from __future__ import annotations

import random

import pytest
from conftest import SAMPLES, read_records, run_cli

from augment import plugins
from augment.testing import check_augmenter, run_augmenter, variants
from augment_plugins.restructure import Restructure, sentences
from augment_plugins.sharegpt import ShareGPT

REG = plugins.load()


def conv(*turns: str, system: str = "You are Mira, keeper of the Drowned Lantern.", names: tuple[str, str] = ("Rhys", "Mira")):
    record = {"system": system, "conversations": [
        {"from": "human" if i % 2 == 0 else "gpt", "value": text, "name": names[i % 2]} for i, text in enumerate(turns)
    ]}
    return ShareGPT().decode(record)


def texts(row) -> list[list[str]]:
    return [[t.content for t in c.turns] for c in variants(row)]


def text(value: str, seed: int = 1, **options) -> str:
    return Restructure(**options).augment_text(value, random.Random(seed))


def test_it_conforms():
    check_augmenter(Restructure)
    check_augmenter(Restructure, {"max_words": 8, "join_words": 10, "rate": 1.0})
    assert REG.augmenters["restructure"] is Restructure


LONG = ("*leans over the bar* I went down to the docks at first light, and I found the old ship listing "
        "hard to port with half her rigging cut, which is not the kind of thing that happens by accident.")


def test_a_long_turn_is_split_at_a_clause_boundary_and_its_actions_kept():
    source = conv("Where's my ship?", LONG)
    (row,) = run_augmenter(Restructure, [source], seed=4, options={"max_words": 20, "rate": 1.0}, roles=("assistant",))
    (new,) = texts(row)
    assert new[0] == source.turns[0].content and new[1] == "Where's my ship?"
    assert new[2].startswith("*leans over the bar* ")
    assert new[2] == (
        "*leans over the bar* I went down to the docks at first light. I found the old ship listing hard to port "
        "with half her rigging cut. That is not the kind of thing that happens by accident."
    )


def test_a_sentence_is_measured_across_the_names_and_numbers_in_it():
    # names and numbers are protected: the step sees each as one opaque word, and they come back as they were
    turn = ("*leans over the bar* I went down to the docks at 6 this morning, and I found the Gull's Wing listing hard "
            "to port with half her rigging cut and Captain Rhys nowhere to be seen anywhere on the whole harbor front.")
    source = conv("Where's my ship?", turn)
    (row,) = run_augmenter(Restructure, [source], seed=4, options={"max_words": 20, "rate": 1.0}, roles=("assistant",))
    (new,) = texts(row)
    assert new[2] == (
        "*leans over the bar* I went down to the docks at 6 this morning. I found the Gull's Wing listing hard "
        "to port with half her rigging cut and Captain Rhys nowhere to be seen anywhere on the whole harbor front."
    )


def test_a_turn_holding_the_mask_character_is_worked_piece_by_piece():
    turn = "\ue000 I went down to the docks this morning, and I found the old ship listing hard to port with half her rigging cut."
    (row,) = run_augmenter(Restructure, [conv("Hm?", turn)], seed=1, options={"max_words": 10, "rate": 1.0}, roles=("assistant",))
    (new,) = texts(row)
    assert new[2] == "\ue000 I went down to the docks this morning. I found the old ship listing hard to port with half her rigging cut."


def test_splits_need_a_subject_and_long_enough_halves():
    assert text("She grabbed her coat from the hook by the door, and ran out into the rain without a word to anyone at all.", max_words=8, rate=1.0) \
        == "She grabbed her coat from the hook by the door, and ran out into the rain without a word to anyone at all."
    assert text("You'll come back with a beard and a limp, a scar, and a story you'll tell wrong to everyone you meet.", max_words=8, rate=1.0) \
        == "You'll come back with a beard and a limp, a scar, and a story you'll tell wrong to everyone you meet."
    assert text("You can stay the night in the attic, but you pay before you go up the stairs tonight.", max_words=8, rate=1.0) \
        == "You can stay the night in the attic. But you pay before you go up the stairs tonight."
    assert text("The rooms are all taken tonight by the crew; the last captain who slept here left by the window.", max_words=8, rate=1.0) \
        == "The rooms are all taken tonight by the crew. The last captain who slept here left by the window."


def test_questions_quotes_and_inner_which_clauses_stay_whole():
    for whole in (
        "Did you see the ship in the harbor this morning, and did the captain say anything about the cargo?",
        'He told me "the tide turns at dawn, and we sail with it whether you like it or not" and walked off.',
        "The sword, which was older than the harbor itself and twice as rusty, broke on the first blow he struck.",
    ):
        assert text(whole, max_words=8, rate=1.0) == whole


def test_short_sentences_are_joined_with_and():
    assert text("The fire is warm. It is late. Sit down.", rate=1.0) == "The fire is warm, and it is late. Sit down."
    assert text("The tide is out. I can wait here.", rate=1.0) == "The tide is out, and I can wait here."
    # a name or another capitalised word is never lowercased; a question is never joined
    for kept in ("The tide is out. Mira can wait here.", "The tide is out. Can you wait here?", "Mr. Hale is here. He left."):
        assert text(kept, rate=1.0) == kept


def test_chinese_is_split_at_commas_and_joined_with_a_comma():
    long = "我今天一早就去了码头，但是船已经开走了，所以只好回到客栈等下一班，掌柜说明天中午之前应该还有一艘去南边的货船。"
    split = text(long, rate=1.0)
    assert split.count("。") == 2 and split.replace("。", "，", 1) == long
    assert text("我累了。我想睡觉。你呢？", rate=1.0) == "我累了，我想睡觉。你呢？"
    assert text("我累了。你呢？", rate=1.0) == "我累了。你呢？"


def test_chinese_role_play_keeps_its_directions():
    source = conv("（推门而入）掌柜的，还有空房吗？", "（抬眼看了他一下，又低头拨着算盘）东厢还有一间。三十文一晚，热水另算。",
                  system="你是林霜，听雨客栈的掌柜。", names=("陆远", "林霜"))
    (row,) = run_augmenter(Restructure, [source], seed=2, options={"rate": 1.0})
    (new,) = texts(row)
    assert new[2] == "（抬眼看了他一下，又低头拨着算盘）东厢还有一间，三十文一晚，热水另算。"


def test_the_same_seed_gives_the_same_text_and_seeds_differ():
    source = conv("The fire is warm. It is late. The tide is out. We sail at dawn.", LONG)
    first = run_augmenter(Restructure, [source], seed=5, variants=3, options={"rate": 0.5})
    again = run_augmenter(Restructure, [source], seed=5, variants=3, options={"rate": 0.5})
    assert texts(first[0]) == texts(again[0])
    outputs = {tuple(t) for seed in range(8) for t in texts(run_augmenter(Restructure, [source], seed=seed, variants=2, options={"rate": 0.5})[0])}
    assert len(outputs) > 2


def test_rate_zero_changes_nothing():
    source = conv("The fire is warm. It is late.", LONG)
    (row,) = run_augmenter(Restructure, [source], options={"rate": 0.0})
    assert not variants(row)


def test_sentences_join_back_into_the_line():
    line = "Mr. Hale went home.  Did he? Yes!我累了。你呢？ Fine…"
    parts = sentences(line)
    assert "".join(body + tail for body, tail in parts) == line
    assert [body for body, _ in parts] == ["Mr. Hale went home.", "Did he?", "Yes!我累了。", "你呢？", "Fine…"]


def test_restructure_through_the_command_line(tmp_path):
    out = tmp_path / "out.jsonl"
    done = run_cli("run", str(SAMPLES / "wuxia.sharegpt.jsonl"), "-o", str(out), "--seed", "3", "--workers", "1", "restructure", "--rate", "1")
    assert done.returncode == 0, done.stderr.decode()
    made = [r for r in read_records(out) if r["provenance"]["chain"]]
    assert made and all(r["provenance"]["chain"][0]["step"] == "restructure" for r in made)
    bad = run_cli("run", str(SAMPLES / "wuxia.sharegpt.jsonl"), "-o", str(out), "restructure", "--max-words", "3")
    assert bad.returncode == 2
    assert "restructure --max-words must be between 8 and 200, got 3" in bad.stderr.decode()


@pytest.mark.parametrize("option", ["max_words", "join_words", "rate"])
def test_options_are_declared(option):
    assert option in {o.name for o in Restructure.options}
