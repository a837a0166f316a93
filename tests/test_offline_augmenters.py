"""synonym and backtranslate on real role-play lines: what changes and what never does.

These use Debian's WordNet 3.0 and Apertium (eng-spa), which `make setup` installs."""

from __future__ import annotations

import json
import random
import re
import stat

import pytest
from conftest import SAMPLES, read_records, run_cli
from lemminflect import getInflection

from augment.engine.augmenters import StepContext
from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.engine.fate import Kept, Skipped
from augment.engine.chain import Engine, Step
from augment.engine.protect import Protector
from augment_plugins.backtranslate import BackTranslate, pivots
from augment_plugins.synonym import CLOSED, TOKEN, Synonym

# Lines written for the samples: actions, contractions, names, numbers, dialogue punctuation.
LINES = [
    "I can't believe the tavern keeper lied to me about the dragon.",
    "We walked along the old road, and the wind howled through the broken shutters.",
    "She quickly grabbed her sword and ran toward the burning village.",
    "I'm looking for a quiet room and a hot meal, nothing fancy.",
    "The merchants argued loudly about prices while the guards watched the crowded harbor.",
    "You're dripping on my floor, so that's already one room less dry than it was.",
    "We'll sail at dawn if the storm breaks; the crew won't wait for stragglers.",
    "Her voice trembled as she whispered the old prayers over the sleeping children.",
] + [m["value"] for r in read_records(SAMPLES / "tavern.sharegpt.jsonl") for m in r["conversations"]]


@pytest.fixture(scope="module")
def synonym():
    aug = Synonym(rate=1.0)
    aug.setup()
    return aug


def skeleton(text: str) -> re.Pattern:
    """A pattern that the text matches with any content word replaced by
    anything, and every other token (closed-class words, contractions,
    punctuation, names) and all the spacing exactly as they were."""
    parts, pos = [], 0
    tokens = list(TOKEN.finditer(text))
    for i, m in enumerate(tokens):
        parts.append(re.escape(text[pos : m.start()]))
        token = m.group(0)
        starts = i == 0 or tokens[i - 1].group(0) in ".!?…\"“”'‘’:;"
        keep = not token.isalpha() or token.lower() in CLOSED or (token[0].isupper() and not starts)
        parts.append(re.escape(token) if keep else r"[^\s\W\d_][\w' -]*?")
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts), re.S)


def test_only_content_words_change_and_spacing_contractions_punctuation_stay(synonym):
    changed = 0
    for text in LINES:
        pattern = skeleton(text)
        for seed in range(4):
            out = synonym.augment_text(text, random.Random(seed))
            assert pattern.fullmatch(out), (text, out)
            changed += out != text
    assert changed > len(LINES)  # it does change text, most of the time


def test_known_bad_substitutions_from_raw_nlpaug_never_happen(synonym):
    text = "I can't consider that I lied to you, but I'm sure we'll find the dragon."
    for seed in range(20):
        out = synonym.augment_text(text, random.Random(seed))
        assert "Iodine" not in out and "can ' t" not in out and "liothyronine" not in out
        assert out.startswith("I can't ") and "I'm" in out and "we'll" in out
        assert "_" not in out


def test_replacements_keep_the_inflection_of_the_word(synonym):
    cases = {
        "The guards walked slowly past the gate.": ("walked", "VBD"),
        "Two merchants were arguing near the docks.": ("arguing", "VBG"),
        "The sailors grabbed their coats.": ("sailors", "NNS"),
        "She whispers the old prayers every night.": ("whispers", "VBZ"),
    }
    seen = 0
    for text, (word, tag) in cases.items():
        for seed in range(15):
            out = synonym.augment_text(text, random.Random(seed))
            before, after = text.split(word)
            if out.startswith(before) and out.endswith(after) and out != text:
                new = out[len(before) : len(out) - len(after)]
                head = new.split()[0] if tag.startswith("V") else new.split()[-1]
                lemma_forms = {f for lemma in _lemmas(head) for f in getInflection(lemma, tag)}
                assert head in lemma_forms, (word, new, tag)
                seen += 1
    assert seen >= 4


def _lemmas(word: str) -> set[str]:
    from lemminflect import getAllLemmas

    return {lemma for forms in getAllLemmas(word).values() for lemma in forms} | {word}


def test_capitalisation_and_multi_word_synonyms(synonym):
    outs = {synonym.augment_text("Merchants argued about prices at the tavern.", random.Random(s)) for s in range(30)}
    assert all(o[0].isupper() for o in outs)
    multi = {synonym.augment_text("We drank at the tavern until dawn.", random.Random(s)) for s in range(30)}
    # a multi-word synonym ("break of day" for "dawn") is written with spaces
    assert any(len(o.split()) > 7 for o in multi), multi
    assert not any("_" in o for o in multi)


def test_rate_and_seed(synonym):
    low, high = Synonym(rate=0.05), Synonym(rate=0.6)
    low.setup()
    high.setup()
    text = LINES[4]

    def changed_words(aug, seed):
        out = aug.augment_text(text, random.Random(seed))
        return sum(a != b for a, b in zip(text.split(), out.split()))

    assert sum(changed_words(low, s) for s in range(20)) < sum(changed_words(high, s) for s in range(20))
    assert high.augment_text(text, random.Random(5)) == high.augment_text(text, random.Random(5))


def mixed_conversation() -> Conversation:
    return Conversation(
        [
            Turn(SYSTEM, "You are Lin Shuang, a reserved swordswoman who runs an inn."),
            Turn(USER, "The merchants argued loudly about prices while the guards watched the crowded harbor."),
            Turn(ASSISTANT, "（轻轻放下茶杯）客官远道而来，先喝口热茶吧。今日江上风大，渡船怕是要停了。"),
            Turn(USER, "She quickly grabbed her sword and ran toward the burning village before the soldiers came."),
            Turn(ASSISTANT, "*nods slowly* Then we ride at dawn, before the river floods the only road south."),
        ]
    )


def test_turns_in_languages_a_step_does_not_handle_pass_through_and_are_counted():
    engine = Engine([Step(Synonym(rate=0.8), variants=3)], seed=1, keep_originals=False)
    outcomes = engine.expand(mixed_conversation(), 0)
    skipped = [o for o in outcomes if isinstance(o, Skipped)]
    assert skipped == [Skipped("synonym", "language zh not handled", 1)]
    variants = [o.conversation for o in outcomes if isinstance(o, Kept)]
    assert variants
    for conv in variants:
        assert conv.turns[2].content == mixed_conversation().turns[2].content
        assert conv.turns[0].content == mixed_conversation().turns[0].content
    assert any(conv.turns[1].content != mixed_conversation().turns[1].content for conv in variants)


def test_chinese_samples_come_out_of_english_steps_untouched(tmp_path):
    out = tmp_path / "wuxia.jsonl"
    done = run_cli("run", str(SAMPLES / "wuxia.sharegpt.jsonl"), "-o", str(out), "--seed", "3", "typos", "synonym", "backtranslate")
    assert done.returncode == 0, done.stderr.decode()
    source = read_records(SAMPLES / "wuxia.sharegpt.jsonl")
    written = read_records(out)
    assert [r["conversations"] for r in written] == [r["conversations"] for r in source]
    summary = done.stderr.decode()
    assert "typos: left" in summary and "language zh not handled" in summary


def test_a_chain_of_typos_synonym_backtranslate_is_the_same_with_one_or_two_workers(tmp_path):
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.jsonl"
        done = run_cli(
            "run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--seed", "7", "--repair", "--protect", "Mira",
            "--workers", workers, "--batch-size", "3", "-q", "typos", "synonym", "--variants", "2", "backtranslate",
        )
        assert done.returncode == 0, done.stderr.decode()
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    records = [json.loads(line) for line in outputs[0].splitlines()]
    chains = {tuple(step["step"] for step in r["provenance"]["chain"]) for r in records}
    assert chains == {(), ("typos", "synonym", "backtranslate")}
    for record in records:
        for message in record["conversations"]:
            if "Mira" in message["value"]:
                assert "Mira" in message["value"]


def test_backtranslation_keeps_protected_spans_and_changes_the_wording():
    aug = BackTranslate(via="spa")
    conv = Conversation(
        [
            Turn(USER, "*shoves the door open* Mira, I need a dry room for 3 nights."),
            Turn(ASSISTANT, "*wipes the counter* The attic is free, but the shutters rattle in the wind.\nPay first, Captain Rhys."),
        ]
    )
    protector = Protector(["Mira", "Captain Rhys"])
    ctx = StepContext(random.Random(0), (USER, ASSISTANT), protector, 0, frozenset({0, 1}), "en")
    out = aug.augment(conv, ctx)
    for before, after in zip(conv.turns, out.turns):
        assert protector.missing(before.content, after.content) == []
        assert after.content != before.content
        assert after.content.count("\n") == before.content.count("\n")
    assert out.turns[0].content.startswith("*shoves the door open* Mira,")


def test_many_turns_go_through_one_apertium_process_per_direction(tmp_path):
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "bin" / "apertium"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec /usr/bin/apertium "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    import os

    out = tmp_path / "out.jsonl"
    done = run_cli(
        "run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--workers", "1", "-q", "backtranslate",
        env={"PATH": f"{wrapper.parent}:{os.environ['PATH']}"},
    )
    assert done.returncode == 0, done.stderr.decode()
    assert log.read_text().splitlines() == ["-u eng-spa", "-u spa-eng"]
    assert len(read_records(out)) == 24  # 12 originals and 12 back-translations


def test_pivots_are_the_installed_pairs():
    assert "spa" in pivots()
    with pytest.raises(Exception, match=r"backtranslate --via 'xyz' is not an installed pivot \(installed: .*spa"):
        BackTranslate(via="xyz")
