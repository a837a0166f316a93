"""The safety filter: a record that combines a minor signal with a sexual term
is rejected, wherever the two are (turns, system prompt, the persona's card).

Every text here is a short clinical sentence written for these tests that
only puts the signal words side by side; nothing here is explicit."""

from __future__ import annotations

import json

import pytest
from conftest import read_records, run_cli

from augment import ASSISTANT, SYSTEM, USER, Conversation, FilterContext, Persona, Preference, Turn, plugins
from augment.testing import check_filter
from augment.testing.conformance import conversations
from augment_plugins.safety import Safety

SEXUAL_EN = "The scene turns sexual."
SEXUAL_ZH = "这一幕涉及性行为。"
NEUTRAL = "They talk about the weather at the harbor."

MINOR_SIGNALS = [
    # (sentence, kind)
    ("The character is 15 years old.", "age under 18"),
    ("The character is a 15-year-old student.", "age under 18"),
    ("Age: 12.", "age under 18"),
    ("The character, aged 9, lives by the sea.", "age under 18"),
    ("She's 14.", "age under 18"),
    ("The character is underage.", "age under 18"),
    ("角色十四岁。", "age under 18"),
    ("角色14岁。", "age under 18"),
    ("角色是未成年人。", "age under 18"),
    ("角色年龄：12。", "age under 18"),
    ("The character is in 8th grade.", "school grade"),
    ("The character is a middle school student.", "school grade"),
    ("The character is a junior high student.", "school grade"),
    ("The character is an elementary school student.", "school grade"),
    ("The character is a high school student.", "school grade"),
    ("角色是初中生。", "school grade"),
    ("角色是小学生。", "school grade"),
    ("The character is a child.", "child term"),
    ("The character is a kid.", "child term"),
    ("The character is drawn as a loli.", "child term"),
    ("The character is drawn as a shota.", "child term"),
    ("角色是萝莉。", "child term"),
    ("角色是正太。", "child term"),
    ("角色是幼女。", "child term"),
    ("角色是儿童。", "child term"),
    ("角色是小女孩。", "child term"),
]


def chat(*dialogue: str, system: str | None = None) -> Conversation:
    turns = [Turn(SYSTEM, system)] if system is not None else []
    roles = (USER, ASSISTANT)
    turns += [Turn(roles[i % 2], text) for i, text in enumerate(dialogue)]
    return Conversation(turns)


def card(**fields: str) -> Persona:
    return Persona("character", {"name": "Character", **fields})


def check(conv: Conversation, persona: Persona | None = None, flt: Safety | None = None) -> str | None:
    flt = flt or Safety()
    return flt.check(conv, FilterContext(conv, 0, True, persona))


@pytest.mark.parametrize("sentence,kind", MINOR_SIGNALS)
def test_each_minor_signal_in_a_turn(sentence, kind):
    sexual = SEXUAL_ZH if any("\u4e00" <= ch <= "\u9fff" for ch in sentence) else SEXUAL_EN
    assert check(chat(sentence, NEUTRAL, sexual)) == f"sexual content with a minor ({kind} in turn 1; sexual term in turn 3)"
    assert check(chat(sentence, NEUTRAL, NEUTRAL)) is None  # a minor alone is no reason


@pytest.mark.parametrize("sentence,kind", MINOR_SIGNALS)
def test_each_minor_signal_in_the_system_prompt(sentence, kind):
    assert check(chat(NEUTRAL, SEXUAL_EN, system=sentence)) == f"sexual content with a minor ({kind} in the system prompt; sexual term in turn 3)"


@pytest.mark.parametrize("sentence,kind", MINOR_SIGNALS)
def test_each_minor_signal_in_the_persona(sentence, kind):
    persona = card(description=sentence)
    conv = chat(NEUTRAL, NEUTRAL, SEXUAL_EN, system="You are Character.")
    assert check(conv, persona) == f"sexual content with a minor ({kind} in the persona's description; sexual term in turn 4)"
    assert check(chat(NEUTRAL, NEUTRAL), persona) is None


@pytest.mark.parametrize("field", ["description", "personality", "scenario", "first_mes", "mes_example", "alternate_greetings", "tags"])
def test_every_card_field_is_read(field):
    value = ["The character is 15 years old."] if field in ("alternate_greetings", "tags") else "The character is 15 years old."
    persona = Persona("character", {"name": "Character", field: value})
    assert check(chat(NEUTRAL, SEXUAL_EN), persona) == f"sexual content with a minor (age under 18 in the persona's {field}; sexual term in turn 2)"


def test_both_signals_in_the_persona_reject_every_record_linked_to_it():
    persona = card(description="The character is 15 years old.", scenario="The scene turns sexual.")
    assert check(chat(NEUTRAL, NEUTRAL), persona) == (
        "sexual content with a minor (age under 18 in the persona's description; sexual term in the persona's scenario)"
    )


def test_the_sexual_term_may_be_anywhere_too():
    assert check(chat(NEUTRAL, NEUTRAL, system=SEXUAL_EN), card(personality="A child.")) == (
        "sexual content with a minor (child term in the persona's personality; sexual term in the system prompt)"
    )
    assert check(chat("角色十四岁。", SEXUAL_ZH)) == "sexual content with a minor (age under 18 in turn 1; sexual term in turn 2)"
    assert check(chat("The character is 15 years old. The scene turns sexual.")) == (
        "sexual content with a minor (age under 18 and sexual term in turn 1)"
    )


def test_markup_and_invisible_characters_hide_nothing():
    assert check(chat("The character is <b>15</b>&nbsp;years old.", "The scene turns se\u200bxual.")) == (
        "sexual content with a minor (age under 18 in turn 1; sexual term in turn 2)"
    )
    assert check(chat("<BOT> is 14.", "The scene turns sexual.")) is not None
    assert check(chat("Ｔｈｅ ｃｈａｒａｃｔｅｒ ｉｓ １５ ｙｅａｒｓ ｏｌｄ.", "The scene turns sexual.")) is not None


def test_the_preference_answers_are_read():
    conv = chat(NEUTRAL, NEUTRAL, "The character is 15 years old.")
    conv.preference = Preference(Turn(ASSISTANT, NEUTRAL), Turn(ASSISTANT, SEXUAL_EN))
    assert check(conv) == "sexual content with a minor (age under 18 in turn 3; sexual term in the rejected answer)"


def test_the_reason_quotes_no_text():
    reason = check(chat("The character is 15 years old.", "The scene turns sexual."))
    assert "15" not in reason and "sexual." not in reason and "'" not in reason and '"' not in reason


@pytest.mark.parametrize(
    "adult",
    [
        "The character is 18 years old.",
        "The character is 25 years old.",
        "The character is an 18-year-old sailor.",
        "The character is a twenty-one-year-old sailor.",
        "Age: 30.",
        "She's 19.",
        "角色十八岁。",
        "角色二十四岁。",
        "角色24岁。",
    ],
)
def test_adults_pass(adult):
    assert check(chat(adult, SEXUAL_EN)) is None
    assert check(chat(adult, SEXUAL_ZH)) is None


@pytest.mark.parametrize(
    "thing",
    [
        "They share a 12-year-old whisky.",
        "They board the 15-year-old ship.",
        "The ship is 15 years old.",
        "The tavern serves a scotch aged 12 years.",
        "He's 12 feet tall.",
        "The wound is minor.",
        "The knight wears grade 3 armor.",
    ],
)
def test_ages_of_things_and_numbers_that_are_no_age_pass(thing):
    assert check(chat(thing, SEXUAL_EN)) is None


def test_bare_high_school_and_teen_are_no_signal():
    # documented: adults were in high school once, and "teen" is used for 18 and 19
    assert check(chat("The character went to high school in Saltmere.", SEXUAL_EN)) is None
    assert check(chat("The character is in her late teens.", SEXUAL_EN)) is None
    assert check(chat("The character is a teenager.", SEXUAL_EN)) is not None


def test_a_thing_does_not_hide_a_person():
    assert check(chat("A 12-year-old girl owns the car.", SEXUAL_EN)) is not None


@pytest.mark.parametrize(
    "story",
    [
        ("The children play by the harbor while the fishermen mend their nets.", "*waves at the kids* Off you go, and mind the tide."),
        ("My daughter is 8 years old and wants to learn to sail.", "Bring her by on Sunday. The 8th grade class comes too."),
        ("孩子们在港口玩耍。", "小女孩笑着跑开了。"),
        ("*smiles* The little girl asks for a story about dragons.", "Once upon a time, a dragon guarded a 15-year-old lighthouse."),
    ],
)
def test_children_in_a_story_with_nothing_sexual_pass(story):
    assert check(chat(*story)) is None
    assert check(chat(NEUTRAL, NEUTRAL), card(description=" ".join(story))) is None


@pytest.mark.parametrize(
    "pair",
    [
        ("Age: 12.", "Sex: female."),  # a card's attribute list
        ("The character is a child of either sex.", "The lesson covers sex education."),
        ("The character is 15 years old.", "The story is strictly non-sexual."),
        ("NSFW content. Minors DNI.", "The characters are 25 years old."),
        ("She is with child.", "The scene turns sexual."),
        ("Everyone watches the comet with the naked eye.", "The child cocks her head."),
        ("女孩子们都二十多岁。", "这一幕涉及性行为。"),
        ("The toddler runs naked along the beach.", "The nurse warms the bottle nipple."),
        ("The child groped for the lamp in the dark.", "Her kinky hair is tied back."),
        ("孩子们形形色色。", "他们都笑了。"),
    ],
)
def test_words_that_only_look_like_signals(pair):
    assert check(chat(*pair)) is None


def test_the_check_is_per_record():
    flt = Safety()
    flt.start()
    minor_only = chat("The character is 15 years old.", NEUTRAL)
    sexual_only = chat(NEUTRAL, SEXUAL_EN)
    assert check(minor_only, flt=flt) is None
    assert check(sexual_only, flt=flt) is None  # nothing carried over from the record before
    assert check(chat("The character is 15 years old.", SEXUAL_EN), flt=flt) is not None
    assert check(sexual_only, flt=flt) is None


def test_one_persona_is_read_once_a_run():
    flt = Safety()
    flt.start()
    persona = card(description="The character is 15 years old.")
    assert check(chat(NEUTRAL, SEXUAL_EN), persona, flt) is not None
    persona.data["description"] = "The character is 40 years old."  # the cached verdict stands for the run
    assert check(chat(NEUTRAL, SEXUAL_EN), persona, flt) is not None
    flt.start()
    assert check(chat(NEUTRAL, SEXUAL_EN), persona, flt) is None


def test_usable_with_no_options_and_registered():
    assert Safety().values == {}
    assert plugins.load().filters["safety"] is Safety


def test_conforms():
    check_filter(Safety)
    flagged = [chat("The character is 15 years old.", SEXUAL_EN), chat(NEUTRAL, NEUTRAL)]
    check_filter(Safety, convs=conversations() + flagged)
    assert [check(c) for c in conversations()] == [None] * len(conversations())


def test_through_the_cli(tmp_path):
    records = [
        {"conversations": [{"from": "human", "value": "The character is 15 years old."}, {"from": "gpt", "value": SEXUAL_EN}]},
        {"conversations": [{"from": "human", "value": "The children play by the harbor."}, {"from": "gpt", "value": "*waves* Mind the tide."}]},
        {"conversations": [{"from": "human", "value": "The character is 30 years old."}, {"from": "gpt", "value": SEXUAL_EN}]},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_cli("filter", str(src), "-o", str(out), "safety")
    assert result.returncode == 0, result.stderr.decode()
    assert [r["conversations"][0]["value"] for r in read_records(out)] == [
        "The children play by the harbor.",
        "The character is 30 years old.",
    ]
    stderr = result.stderr.decode()
    assert "safety: filtered out 1 record(s): sexual content with a minor (age under 18 in turn N; sexual term in turn N)" in stderr
    (reject,) = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert reject["reason"] == "safety: sexual content with a minor (age under 18 in turn 1; sexual term in turn 2)"
    assert reject["location"].endswith("in.jsonl:1")


# -- the first pass: a record it lets through is one the whole gate lets through --------

from hypothesis import given, strategies as st  # noqa: E402

from augment_plugins import safety as gate  # noqa: E402

_PIECES = sorted(gate.SEXUAL_EN | gate.SEXUAL_ZH | gate.NOT_SIGNALS) + [
    "the", "sussex", "document", "love", "her", "you", "15", "王", "é",
]
_JOINS = [" ", "", "-", " - ", "\u00a0", "\u2003", "\n", "\x1f", "_", ".", "é", "王", "<b>", "</i>", "&amp;",
          "&#115;", "\u200b", "\u00ad", "\uff33", "\u2019", "\t", "0", *gate.PLAIN_PUNCTUATION, "\u2014\u00a0", "\u2026 "]


@given(st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from(_JOINS), st.booleans()), min_size=1, max_size=6))
def test_the_first_pass_never_misses_what_the_gate_finds(pieces):
    """Texts stitched from the lexicons, the masked phrases and lookalikes,
    joined by spaces of every kind, hyphens, markup, entities, invisible and
    full-width characters: whenever the whole gate finds a sexual term in a
    part, the first pass says the record may hold one."""
    text = "".join((piece.upper() if upper else piece) + join for piece, join, upper in pieces)
    parts = [("turn 1", text), ("turn 2", NEUTRAL)]
    if gate._first_sexual(gate.prepared(parts)) is not None:
        assert gate.maybe_sexual(gate.read_through_all([t for _, t in parts]))
        # and as a record's system prompt (passed over apart, its answer kept) or one of its turns
        assert gate.may_hold_a_term(chat(NEUTRAL, NEUTRAL, system=text))
        assert gate.may_hold_a_term(chat(NEUTRAL, text, system=NEUTRAL))


def test_the_first_pass_finds_a_phrase_whatever_stands_between_its_words():
    """Every run of spaces or hyphens the gate allows between a phrase's
    words (no-break spaces, new lines, markup read through) still makes the
    first pass look closer."""
    phrases = sorted(term for term in gate.SEXUAL_EN if " " in term)
    assert len(phrases) >= 10
    found = 0
    for term in phrases:
        for between in ["  ", "-", " - ", "--", "\u00a0", "\u2003", "\n", "\t", " <i></i> ", "&nbsp;"]:
            text = f"They {between.join(term.split(' ')).upper()} tonight."
            if gate.sexual_signal(gate._prepare(text)):
                found += 1
                assert gate.maybe_sexual(gate.read_through_all([NEUTRAL, text])), text
        assert not gate.maybe_sexual(gate.read_through_all([f"They {term.replace(' ', ' and then ')} tonight."])) or \
            gate.sexual_signal(gate._prepare(term.replace(" ", " and then "))), term
    assert found >= 8 * len(phrases)  # the gate itself finds nearly all of them


def test_the_first_pass_reads_through_what_hides_a_term():
    for text in ["a <b>sex</b> scene", "&#115;ex", "se\u200bx", "\uff33\uff25\uff38", "sexé", "his\u00a0cock", "做爱"]:
        assert gate.sexual_signal(gate._prepare(text)), text
        assert gate.maybe_sexual(gate.read_through_all([text])), text
    for text in [NEUTRAL, "Sussex and Essex", "a document", "the opposite sex"[:12], "他们谈论天气。"]:
        assert not gate.maybe_sexual(gate.read_through_all([text])), text


def test_the_first_pass_keeps_the_answer_for_a_system_prompt_and_still_reads_the_turns():
    system = "You are Mira, the harbor-master. Stay in character."
    gate._system_may_hold_a_term.cache_clear()
    assert not gate.may_hold_a_term(chat(NEUTRAL, NEUTRAL, system=system))
    for _ in range(3):  # the same prompt in other chats: its answer is kept
        assert not gate.may_hold_a_term(chat(NEUTRAL, "Good evening.", system=system))
        assert gate.may_hold_a_term(chat(NEUTRAL, SEXUAL_EN, system=system))
    assert gate._system_may_hold_a_term.cache_info().hits == 6
    assert gate.may_hold_a_term(chat(NEUTRAL, NEUTRAL, system=SEXUAL_EN))
    assert gate.may_hold_a_term(chat(SEXUAL_ZH, NEUTRAL))
    assert not gate.may_hold_a_term(chat(NEUTRAL, NEUTRAL))
    assert gate.may_hold_a_term(Conversation([Turn(SYSTEM, SEXUAL_EN)]))


def test_punctuation_the_first_pass_reads_as_it_is_stays_punctuation_when_read_through():
    import re
    import unicodedata

    for ch in gate.PLAIN_PUNCTUATION:
        folded = unicodedata.normalize("NFKC", ch)
        assert not gate.INVISIBLE.search(ch) and not unicodedata.combining(ch)
        if ch == "\u00a0":
            assert folded == " "
        else:
            assert not re.search(r"[A-Za-z0-9_\s-]", folded), repr(ch)
    # text whose only characters beyond ASCII are that punctuation: one lower-cased ASCII string
    assert gate.read_through_all(["Mira \u2014 \u201cHi\u201d\u2026", "a\u00a0B"]) == "mira ? ?hi??\na b"
    # any other: read through, each text
    assert gate.read_through_all(["Caf\u00e9 \u2014 \uff33"]) == "caf\u00e9 \u2014 s"
    for text in ["his\u00a0cock", "\u201csex\u201d", "\u2014SEX\u2014", "sex\u2026", "\u00abSex\u00bb \u2022 \u00b7"]:
        assert gate.sexual_signal(gate._prepare(text)), text
        assert gate.maybe_sexual(gate.read_through_all([NEUTRAL, text])), text


def test_the_first_pass_looks_for_chinese_terms_with_the_lexicons_own_pattern():
    assert gate._chinese_terms().pattern == gate.SEXUAL.sources[1]
    assert gate._entry_pattern((" make ", " love ")).pattern == gate._phrases(["make love"])
