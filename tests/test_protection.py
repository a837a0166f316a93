"""Augmentation never damages what it must keep (issue #12).

Code (fenced, indented, unfenced, inline), names at the start of lines and
list items, quoted mentions, and text of another script come out of the
offline steps byte for byte, while the text around them still changes: a
step that changed nothing would pass a "kept" check and prove nothing. A turn
that loses a protected span costs that turn's change only, and mostly-Chinese
turns and short English prompts get the right language.

Every text here was written for these tests. They use Debian's WordNet 3.0
and Apertium (eng-spa), which `make setup` installs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import read_records, run_cli

from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.engine.augmenters import Augmenter
from augment.engine.chain import Engine, Step
from augment.engine.fate import Dropped, Restored, Skipped
from augment.engine.languages import detect, dominant_script, turn_languages
from augment.engine.protect import KINDS, Protector, record_names
from augment.testing import run_augmenter, variants
from augment_plugins.backtranslate import BackTranslate
from augment_plugins.synonym import Synonym
from augment_plugins.typos import Typos

# -- texts ---------------------------------------------------------------------

UNFENCED_CODE = """\
def average_speed(distances, hours):
    if not hours:
        raise ValueError("hours must not be empty")
    total_distance = sum(distances)
    return total_distance / sum(hours)

print(average_speed([12, 30], [1, 2]))"""

ANSWER_WITH_UNFENCED_CODE = (
    "Here is a careful helper that the quartermaster could use to check the caravan's pace:\n\n"
    + UNFENCED_CODE
    + "\n\nThe helper refuses an empty list of hours and then divides the whole distance travelled by the whole time spent on the road."
)

FENCED_CODE = """```js
const greeting = (name) => {
  return `Welcome aboard, ${name}!`;
};
```"""

INDENTED_CODE = """    for crate in manifest:
        weigh(crate)"""

ANSWER_WITH_FENCED_AND_INDENTED_CODE = (
    "The dockmaster wrote a tiny greeting for the harbor kiosk, and it works well for every arriving sailor:\n"
    + FENCED_CODE
    + "\nBefore the ship leaves, the clerk weighs every crate like this:\n\n"
    + INDENTED_CODE
    + "\n\nCall `load_cargo()` only after the scales have settled, and remember that parseInt returns a number."
)

CREW_LIST = (
    "The crew of the Silver Heron, as the old harbor records tell it:\n"
    "1. Rose Calder\n"
    "2. Will Harrow\n"
    "- Mark Tennant: the navigator who charts every hidden reef\n"
    "- Hazel Quill\n"
    "Each sailor on this list has weathered many terrible storms together."
)
CREW_NAMES = ["Silver Heron", "Rose Calder", "Will Harrow", "Mark Tennant", "Hazel Quill"]

MENTION_PROMPTS = {
    'What are some good synonyms of "bright" for a story about a lighthouse keeper?': ['"bright"'],
    'Write one sentence that uses the words "swift" and "eager" about a messenger crossing the hills.': ['"swift"', '"eager"'],
    'What does the idiom "break the ice" mean when strangers meet at a tavern?': ['"break the ice"'],
}
CHINESE_WITH_ENGLISH = {
    "请解释习语“spill the beans”是什么意思，并举一个例子。": ["“spill the beans”"],
    "“quiet”和“calm”这两个词有什么区别？": ["“quiet”", "“calm”"],
    "请用Python写一个函数，计算列表里所有数字的和。": ["Python"],
    "解释习语“once in a blue moon”的意思": ["“once in a blue moon”"],  # more Latin letters than Han, still Chinese
}
ENGLISH_WITH_CHINESE = "The innkeeper bows low, says 欢迎光临 with a warm smile, and then leads the weary travellers up the creaking stairs."
SPEECH = '"I never thought the harbor would freeze this early in the season, not once in all my years," Mira said quietly.'

#: Short English prompts langdetect misread before (fi, no, ro, fr, af, ca, pl, da): see the module notes of languages.py.
SHORT_ENGLISH = [
    "Write a haiku about autumn rain.",
    "Convert 5 kilometers to miles.",
    "Pretend you are a pirate captain.",
    "Critique this melody.",
    "Define entropy.",
    "Tell me a fun fact about octopuses.",
    "Suggest a costume for a masquerade ball in Venice.",
    "Pour me another drink, barkeep.",
    "Guess my favourite colour.",
    "Narrate a duel at dawn.",
    "Mimic a grumpy wizard.",
    "Answer in one word.",
    "Name three primary colors.",
    "Summarize photosynthesis in one sentence.",
    "Introduce yourself, traveler.",
    "Recite a sailor's prayer.",
]
SHORT_OTHER = {
    "Décris un coucher de soleil sur la mer.": "fr",
    "Escribe un poema sobre la amistad.": "es",
    "Scrivi una poesia sull'autunno.": "it",
    "Escreva um poema sobre a amizade.": "pt",
    "Schreibe ein Gedicht über den Herbst.": "de",
    "Das Kind hat die Hand im Wasser.": "de",
    "Racconta una storia di pirati.": "it",
    "Cuenta una historia de piratas.": "es",
}


def chat(*turns: tuple[str, str]) -> Conversation:
    return Conversation([Turn(role, text) for role, text in turns])


def outside(text: str, spans: list[str]) -> str:
    """``text`` with ``spans`` cut out: what a step may change."""
    for span in spans:
        text = text.replace(span, "\0")
    return text


def assert_spans_kept_and_text_changed(source: Conversation, rows: list, spans: dict[int, list[str]]) -> None:
    """Every variant holds each span of ``spans`` (turn index -> spans) byte
    for byte in its turn, and some variant changed each of those turns
    outside the spans."""
    made = variants(rows)
    assert made, rows
    for conv in made:
        for i, wanted in spans.items():
            for span in wanted:
                assert source.turns[i].content.count(span) == 1, span  # the test text holds it once
                assert span in conv.turns[i].content, (span, conv.turns[i].content)
    for i, wanted in spans.items():
        before = outside(source.turns[i].content, wanted)
        assert any(outside(conv.turns[i].content, wanted) != before for conv in made), f"turn {i} never changed"
    assert not [f for f in rows if isinstance(f, (Dropped, Restored)) and "protected span" in f.reason]


STEPS = [
    pytest.param(Synonym, {"rate": 0.5}, id="synonym"),
    pytest.param(BackTranslate, {"via": "spa"}, id="backtranslate"),
]


# -- code ------------------------------------------------------------------------


@pytest.mark.parametrize("step, options", STEPS)
def test_code_without_fences_survives_and_the_prose_around_it_changes(step, options):
    source = chat((USER, "Show me how to compute the average speed of a caravan from its daily distances and hours."), (ASSISTANT, ANSWER_WITH_UNFENCED_CODE))
    rows = run_augmenter(step, [source], seed=5, variants=3, options=options)[0]
    lines = [line.strip() for line in UNFENCED_CODE.splitlines() if line.strip()]
    assert_spans_kept_and_text_changed(source, rows, {1: [UNFENCED_CODE]})
    for conv in variants(rows):
        assert all(line in conv.turns[1].content for line in lines)


@pytest.mark.parametrize("step, options", STEPS)
def test_fenced_indented_and_inline_code_survive(step, options):
    source = chat((USER, "How does the harbor kiosk greet sailors, and how are crates weighed?"), (ASSISTANT, ANSWER_WITH_FENCED_AND_INDENTED_CODE))
    rows = run_augmenter(step, [source], seed=2, variants=3, options=options)[0]
    assert_spans_kept_and_text_changed(source, rows, {1: [FENCED_CODE, INDENTED_CODE, "`load_cargo()`", "parseInt"]})


def test_code_lines_are_found_by_how_they_read():
    protector = Protector()
    kinds = protector.kinds(ANSWER_WITH_UNFENCED_CODE)
    assert ("code", UNFENCED_CODE) in kinds
    assert [k for k, _ in protector.kinds(ANSWER_WITH_FENCED_AND_INDENTED_CODE)][:1] == ["code block"]
    assert ("code", INDENTED_CODE.strip()) in protector.kinds(ANSWER_WITH_FENCED_AND_INDENTED_CODE)
    for line in ("SELECT name FROM sailors WHERE rank = 'captain';", "import numpy as np", "}", "x += 1"):
        assert protector.kinds(f"The clerk muttered.\n{line}\nThat was all.") == [("code", line)]
    # prose that mentions code is prose; the identifiers in it are kept
    sentence = "Use the calculate_total() helper or the parseInt function from main.py to read the value."
    assert protector.kinds(sentence) == [("code", "calculate_total()"), ("code", "parseInt"), ("code", "main.py")]
    # role-play is not code: actions, directions, speech, lists
    roleplay = "*leans on the counter* (quietly) If you want a room:\n    - the attic\n    - the cellar\nPick one, and be quick about it."
    assert [k for k, _ in protector.kinds(roleplay)] == ["action", "direction"]


def test_a_fenced_block_across_lines_comes_back_whole_from_backtranslation():
    # Back-translation used to mask spans line by line, so a fenced block's
    # inner lines went to Apertium and the whole variant was lost.
    source = chat((USER, "Print a greeting for every sailor who boards the ship at dawn."), (ASSISTANT, "The purser keeps this little script by the gangway:\n" + FENCED_CODE + "\nIt greets every sailor by name as they climb aboard the ship."))
    rows = run_augmenter(BackTranslate, [source], options={"via": "spa"})[0]
    assert_spans_kept_and_text_changed(source, rows, {1: [FENCED_CODE]})


def test_typos_leave_code_names_and_mentions_in_user_turns_alone():
    text = 'Please explain why calculate_total(items) fails when Rose Calder passes the word "empty" instead of a proper list of crates.'
    source = chat((USER, text), (ASSISTANT, "*frowns at the ledger* Because the helper expects a list, not a word."))
    rows = run_augmenter(Typos, [source], seed=1, variants=4, options={"rate": 0.6})[0]
    assert_spans_kept_and_text_changed(source, rows, {0: ["calculate_total(items)", "Rose Calder", '"empty"']})


# -- names -----------------------------------------------------------------------


@pytest.mark.parametrize("step, options", STEPS)
def test_names_at_line_and_list_item_starts_survive(step, options):
    source = chat((USER, "Who sails on the merchant ship in this story, and what does each sailor do?"), (ASSISTANT, CREW_LIST))
    rows = run_augmenter(step, [source], seed=3, variants=3, options=options)[0]
    assert_spans_kept_and_text_changed(source, rows, {1: CREW_NAMES})


def test_names_are_told_from_words():
    protector = Protector()
    names = [span for kind, span in protector.kinds(CREW_LIST) if kind == "name"]
    assert names == CREW_NAMES
    text = "Ugh. Then Mira nods. Tell Captain Vell the attic is free. Painting the fence is slow work."
    assert [span for kind, span in protector.kinds(text) if kind == "name"] == ["Mira", "Captain Vell"]  # "Ugh" is no name
    # a dictionary word that the record writes as a name elsewhere is a name at a sentence start too
    record = ["Harbor smoke drifts over the quay.", "Nobody sails from Harbor Point tonight."]
    assert "Harbor" in record_names(record)
    assert ("name", "Harbor") in Protector().with_words(record_names(record)).kinds(record[0])
    # capitals in another Latin-script language are not names
    assert not [k for k, _ in protector.kinds("Der Kapitän und die Mannschaft warten auf das Schiff im Hafen.") if k == "name"]
    # a closed-class word alone is never a name, at a sentence start or alone on its line; a name beside it is
    text = "The Harbor Master waits. You know Mira. I'm sure Vell left.\nThe\nMira\nIt's late, Ma'am."
    assert [span for kind, span in protector.kinds(text) if kind == "name"] == ["Harbor Master", "Mira", "Vell", "Mira", "Ma'am"]


# -- quoted mentions ---------------------------------------------------------------


@pytest.mark.parametrize("step, options", STEPS)
def test_quoted_mentions_survive_and_the_question_around_them_changes(step, options):
    for prompt, spans in MENTION_PROMPTS.items():
        source = chat((USER, prompt), (ASSISTANT, "*taps the bar* Now that is a question worth a second round of ale, friend."))
        rows = run_augmenter(step, [source], seed=4, variants=3, options=options)[0]
        assert_spans_kept_and_text_changed(source, rows, {0: spans})


def test_role_play_speech_is_not_a_mention_and_still_changes():
    protector = Protector()
    assert [k for k, _ in protector.kinds(SPEECH)] == ["name"]  # Mira; the speech itself is free
    source = chat((USER, "*stamps the snow off his boots* Cold enough for you?"), (ASSISTANT, SPEECH))
    rows = run_augmenter(Synonym, [source], seed=6, variants=4, options={"rate": 0.5})[0]
    speech = SPEECH.split('"')[1]
    assert any(speech not in conv.turns[1].content for conv in variants(rows))
    assert all("Mira" in conv.turns[1].content for conv in variants(rows))


def test_mentions_in_english_and_chinese_and_the_rule_for_short_quotes():
    protector = Protector()
    for prompt, spans in {**MENTION_PROMPTS, **CHINESE_WITH_ENGLISH}.items():
        kept = protector.spans(prompt)
        assert all(any(span in k for k in kept) for span in spans), (prompt, kept)
    assert ("mention", '"yes,"') in protector.kinds('Answer only with "yes," "no," or "maybe" and nothing else at all.')
    # speech that ends in punctuation, or runs past four words, is free
    for free in ('"Stay back!" she hissed.', '"You will pay for the room tonight, Captain," she said.'):
        assert "mention" not in [k for k, _ in protector.kinds(free)]


# -- other scripts and languages ----------------------------------------------------


def test_mostly_chinese_turns_with_english_inside_are_left_to_chinese_steps():
    source = chat(
        (USER, "Could you explain a few English idioms and words that my students keep asking me about after class?"),
        *[(USER if i % 2 else ASSISTANT, text) for i, text in enumerate(CHINESE_WITH_ENGLISH, 1)],
    )
    assert turn_languages(source)[1:] == ["zh"] * len(CHINESE_WITH_ENGLISH)
    for step, options in ((Synonym, {"rate": 0.5}), (BackTranslate, {"via": "spa"}), (Typos, {"rate": 0.5})):
        rows = run_augmenter(step, [source], seed=1, variants=2, options=options)[0]
        for conv in variants(rows):
            assert [t.content for t in conv.turns[1:]] == [t.content for t in source.turns[1:]]
        assert any(isinstance(f, Skipped) and f.reason == "language zh not handled" for f in rows)


@pytest.mark.parametrize("step, options", STEPS)
def test_chinese_inside_an_english_turn_survives(step, options):
    source = chat((USER, "*pushes open the door, shaking rain from a heavy cloak* Is there a room for two tired pilgrims?"), (ASSISTANT, ENGLISH_WITH_CHINESE))
    assert turn_languages(source) == ["en", "en"]
    rows = run_augmenter(step, [source], seed=2, variants=3, options=options)[0]
    assert_spans_kept_and_text_changed(source, rows, {1: ["欢迎光临"]})


from hypothesis import given, strategies as st  # noqa: E402

_SCRIPTS = st.text(alphabet=st.sampled_from("aZé ß1_.,!\n\u3001\u30fb\u309b\u4e00\uac00\u1100\u3041\uff21\u0301\u00bd"), max_size=60)


def _letters(text):
    """The full count: every letter, and three more for each CJK character."""
    from augment.engine.languages import _CJK, _LETTERS

    return len(_LETTERS.findall(text)) + 3 * len(_CJK.findall(text))


@given(text=_SCRIPTS | st.text(max_size=60), n=st.integers(1, 45))
def test_a_turn_is_judged_long_by_counting_only_as_far_as_it_takes(text, n):
    """Letters counted, CJK characters four (kana marks and the middle dot
    that are no letters three): stopping at ``n`` answers as the full count."""
    from augment.engine.languages import _has_letters

    assert _has_letters(text, n) == (_letters(text) >= n)
    assert _has_letters(text * 20, 40) == (_letters(text * 20) >= 40)


@given(text=_SCRIPTS | st.text(max_size=60))
def test_latin_letters_are_counted_only_until_they_hold_half(text):
    from augment.engine.languages import _LD_HIGH, _LD_LATIN, _latin_holds_half

    for sample in (text, text * 7, "a" + text, text + "\u4e00\u4e00\u4e00"):
        assert _latin_holds_half(sample) == (2 * len(_LD_LATIN.findall(sample)) >= len(_LD_HIGH.findall(sample))), sample


def test_each_kind_of_character_counts_as_in_the_full_count():
    from augment.engine.languages import _has_letters

    for ch in "aZé ß1_.,!\n\u3001\u30fb\u309b\u4e00\uac00\u1100\u3041\uff21\u0301\u00bd":
        for text in (ch, ch * 2, "a" + ch, ch + "\u4e00"):
            for n in range(1, 14):
                assert _has_letters(text, n) == (_letters(text) >= n), (text, n)


def test_script_decides_a_turns_language_and_other_scripts_are_protected():
    assert dominant_script("解释成语“Painting the town red”的意思") == "cjk"
    assert detect("请解释习语“spill the beans”是什么意思，并举一个例子。") == "zh"
    assert detect(ENGLISH_WITH_CHINESE) == "en"
    protector = Protector()
    assert ("other script", "欢迎光临") in protector.kinds(ENGLISH_WITH_CHINESE)
    assert ("other script", "Python") in protector.kinds("请用Python写一个函数，计算列表里所有数字的和。")
    # a short Chinese turn in an English conversation is Chinese, not the conversation's English
    conv = chat((USER, "Tell me how the innkeeper answers a guest who thanks her for the warm soup."), (ASSISTANT, "不客气。"))
    assert turn_languages(conv) == ["en", "zh"]


def test_short_english_prompts_are_english():
    misread = [p for p in SHORT_ENGLISH if detect(p) != "en"]
    assert misread == []
    for prompt in SHORT_ENGLISH:
        assert turn_languages(chat((USER, prompt), (ASSISTANT, "Sure."))) == ["en", "en"], prompt
    assert {p: detect(p) for p in SHORT_OTHER} == SHORT_OTHER


def test_short_english_prompts_are_augmented_not_skipped():
    convs = [chat((USER, p), (ASSISTANT, "Gladly.")) for p in SHORT_ENGLISH[:6]]
    rows = run_augmenter(BackTranslate, convs, options={"via": "spa"})
    assert not [f for row in rows for f in row if isinstance(f, Skipped)]
    assert sum(conv.turns[0].content != src.turns[0].content for src, row in zip(convs, rows) for conv in variants(row)) >= 4


# -- a lost span costs one turn ----------------------------------------------------------


class Careless(Augmenter):
    """Changes every turn it may: the first legitimately, the others by
    dropping their actions (a protected span)."""

    name = "careless"
    languages = None

    def augment(self, conversation, context):
        out = conversation.copy()
        for n, i in enumerate(sorted(context.turns)):
            text = out.turns[i].content
            out.turns[i].content = text + " Truly." if n == 0 else text.replace("*", "")
        return out


def tavern() -> Conversation:
    return chat(
        (SYSTEM, "You are Mira, keeper of a harbor tavern."),
        (USER, "I need a dry room for the night."),
        (ASSISTANT, "*wipes the counter* The attic is free."),
        (USER, "*drops a coin on the bar* Then the attic it is."),
    )


def test_a_turn_that_lost_a_span_is_restored_and_the_variant_kept():
    rows = Engine([Step(Careless())], seed=0, keep_originals=False).expand(tavern(), 0)
    kept = variants(rows)
    assert len(kept) == 1
    conv = kept[0]
    assert conv.turns[1].content == "I need a dry room for the night. Truly."
    assert [t.content for t in conv.turns[2:]] == [t.content for t in tavern().turns[2:]]
    restored = [f for f in rows if isinstance(f, Restored)]
    assert restored == [
        Restored("careless", "turn 3 restored: protected span '*wipes the counter*' changed"),
        Restored("careless", "turn 4 restored: protected span '*drops a coin on the bar*' changed"),
    ]
    assert all(isinstance(f, Skipped) and f.turns == 1 for f in restored)  # counted with the turns left unchanged


class Vandal(Augmenter):
    """Drops the actions of every turn it may change, and changes nothing else."""

    name = "vandal"

    def augment(self, conversation, context):
        out = conversation.copy()
        for i in context.turns:
            out.turns[i].content = out.turns[i].content.replace("*", "")
        return out


def test_a_variant_is_dropped_only_when_no_change_is_left():
    rows = Engine([Step(Vandal())], seed=0, keep_originals=False).expand(tavern(), 0)
    assert rows == [Dropped("vandal", "protected span '*wipes the counter*' changed")]  # the first span lost is named
    # a turn without actions keeps nothing to restore: the variant is "identical", as before
    rows = Engine([Step(Vandal(), roles=(USER,))], seed=0, keep_originals=False).expand(chat((USER, "Evening."), (ASSISTANT, "*nods*")), 0)
    assert rows == [Dropped("vandal", "identical to its source or to another variant")]


def test_reasons_quote_at_most_sixty_characters_of_a_span():
    long_action = "*" + "slowly " * 20 + "turns*"
    conv = chat((USER, "A room, please."), (ASSISTANT, long_action + " Fine."))
    rows = Engine([Step(Careless())], seed=0, keep_originals=False).expand(conv, 0)
    (restored,) = [f for f in rows if isinstance(f, Restored)]
    quoted = restored.reason.split("protected span ", 1)[1].rsplit(" changed", 1)[0]
    assert quoted.endswith("…'") and len(quoted) <= 62


# -- the Protector's API ---------------------------------------------------------------


def test_the_protector_keeps_its_api():
    assert {"code", "mention", "other script", "name", "action", "code block", "inline code"} <= set(KINDS)
    protector = Protector(["Vell"], [r"#\d+"])
    text = "*grins* Captain Vell paid for crate #12 with calculate_total(items)."
    assert protector.with_words([]) is protector
    assert protector.with_words(["crate"]).kinds(text).count(("name", "crate")) == 1
    assert protector.map_free(text, str.upper) == "*grins* Captain Vell PAID FOR CRATE #12 WITH calculate_total(items)."
    assert protector.missing(text, text.replace("Vell", "Bell")) == ["Captain Vell"]
    assert protector.missing(text, text.replace("*grins*", "grins"), frozenset({"action"})) == []
    assert "".join(piece for piece, _ in protector.segments(text)) == text


def test_the_protector_does_not_import_nltk():
    code = (
        "import sys\n"
        "from augment.engine.protect import Protector\n"
        "assert 'nltk' not in sys.modules\n"
        "Protector().kinds('Harry smiled. Rose Calder laughed at the word \"close\".')\n"
        "assert 'nltk' not in sys.modules, 'nltk imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# -- through the command line -----------------------------------------------------------


def test_a_run_keeps_every_span_and_still_changes_the_text(tmp_path):
    records = [
        {"instruction": "Show me how to compute the average speed of a caravan from its daily distances and hours.", "input": "", "output": ANSWER_WITH_UNFENCED_CODE},
        {"instruction": "Who sails on the merchant ship in this story, and what does each sailor do?", "input": "", "output": CREW_LIST},
        {"instruction": list(MENTION_PROMPTS)[0], "input": "", "output": "Try " + '"radiant", "gleaming" and "luminous"' + ", depending on whether the lamp is burning or merely reflecting the moon."},
        {"instruction": list(CHINESE_WITH_ENGLISH)[0], "input": "", "output": "这个英语习语的意思是泄露秘密，通常指不小心把本该保密的事情说了出来。"},
        {"instruction": "Define entropy.", "input": "", "output": "Entropy measures how spread out the energy of a system is; in everyday terms, it describes the drift from order toward disorder."},
    ]
    source = tmp_path / "prompts.json"
    source.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.json"
    done = run_cli("run", str(source), "-o", str(out), "--seed", "3", "synonym", "--rate", "0.5", "backtranslate", "--via", "spa")
    summary = done.stderr.decode()
    assert done.returncode == 0, summary
    assert "protected span" not in summary
    written = read_records(out)
    # each record is written as it was, then its variant (none for the Chinese one)
    assert [r["provenance"]["chain"] != [] for r in written] == [False, True, False, True, False, True, False, False, True]
    originals = [r for r in written if not r["provenance"]["chain"]]
    assert [r["instruction"] for r in originals] == [r["instruction"] for r in records]
    made = dict(zip([0, 1, 2, 4], [r for r in written if r["provenance"]["chain"]]))
    spans = {0: [UNFENCED_CODE], 1: CREW_NAMES, 2: ['"bright"', '"radiant"', '"gleaming"', '"luminous"'], 4: []}
    for n, variant in made.items():
        for span in spans[n]:
            assert span in variant["instruction"] + variant["output"], (span, variant)
        text = outside(variant["instruction"] + variant["output"], spans[n])
        assert text != outside(records[n]["instruction"] + records[n]["output"], spans[n])
    assert made[4]["instruction"] != "Define entropy."  # short English is augmented, not skipped
    assert sum(v["instruction"] != records[n]["instruction"] for n, v in made.items()) >= 3
