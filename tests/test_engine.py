"""The chain: variants, seeds, provenance, duplicates, protected spans, typos."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES, read_records, run_cli

from augment.engine.augmenters import Augmenter, TextAugmenter
from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Location, Turn
from augment.engine.fate import Dropped, Kept
from augment.engine.chain import Engine, Step
from augment.engine.protect import Protector
from augment_plugins.typos import Typos


class Swap(TextAugmenter):
    """Replaces one random letter with 'x': a tiny, seed-driven augmenter."""

    name = "swap"

    def augment_text(self, text, rng):
        letters = [i for i, c in enumerate(text) if c.isalpha()]
        if not letters:
            return text
        i = rng.choice(letters)
        return text[:i] + "x" + text[i + 1 :]


class Same(Augmenter):
    name = "same"

    def augment(self, conversation, context):
        return conversation.copy()


class Vandal(Augmenter):
    """Breaks every protected span it is given."""

    name = "vandal"

    def augment(self, conversation, context):
        out = conversation.copy()
        for turn in out.turns:
            turn.content = turn.content.replace("*", "")
        return out


def tavern() -> Conversation:
    return Conversation(
        [
            Turn(SYSTEM, "You are Mira, a tavern keeper."),
            Turn(USER, "Mira, a room for the night please, quickly now."),
            Turn(ASSISTANT, "*wipes the counter* That'll be 3 silver, Captain."),
        ],
        extra={"id": "t-1"},
        location=Location("in.jsonl", 4),
    )


def contents(conv):
    return [t.content for t in conv.turns]


def test_variants_multiply_along_the_chain_and_carry_provenance():
    engine = Engine([Step(Swap(), variants=3), Step(Swap(), variants=2)], seed=7, keep_originals=True)
    out = [o.conversation for o in engine.expand(tavern(), ordinal=0) if isinstance(o, Kept)]
    assert len(out) == 1 + 3 * 2
    assert out[0].provenance == {"source": {"file": "in.jsonl", "line": 4, "id": "t-1"}, "seed": 7, "chain": [], "model": None}
    chains = [[(c["step"], c["variant"]) for c in o.provenance["chain"]] for o in out[1:]]
    assert chains == [[("swap", a), ("swap", b)] for a in range(3) for b in range(2)]
    assert out[1].provenance["chain"][0]["roles"] == ["user", "assistant"]


def test_same_seed_same_output_and_records_do_not_depend_on_each_other():
    engine = Engine([Step(Swap(), variants=4)], seed=11)
    first = [contents(o.conversation) for o in engine.expand(tavern(), 5) if isinstance(o, Kept)]
    again = [contents(o.conversation) for o in Engine([Step(Swap(), variants=4)], seed=11).expand(tavern(), 5) if isinstance(o, Kept)]
    other_seed = [contents(o.conversation) for o in Engine([Step(Swap(), variants=4)], seed=12).expand(tavern(), 5) if isinstance(o, Kept)]
    assert first == again
    assert first != other_seed
    # the same record at the same position gives the same variants, whatever ran before
    engine.expand(tavern(), 4)
    assert [contents(o.conversation) for o in engine.expand(tavern(), 5) if isinstance(o, Kept)] == first


def test_system_prompt_is_untouched_unless_asked():
    out = [o.conversation for o in Engine([Step(Swap(), 3)], seed=1, keep_originals=False).expand(tavern(), 0) if isinstance(o, Kept)]
    assert all(c.turns[0].content == "You are Mira, a tavern keeper." for c in out)
    asked = [o.conversation for o in Engine([Step(Swap(), 3, roles=(SYSTEM,))], seed=1, keep_originals=False).expand(tavern(), 0) if isinstance(o, Kept)]
    assert asked
    assert any(c.turns[0].content != "You are Mira, a tavern keeper." for c in asked)
    assert all(contents(c)[1:] == contents(tavern())[1:] for c in asked)


def test_protected_spans_are_never_handed_to_text_augmenters():
    engine = Engine([Step(Swap(), variants=20)], seed=3, keep_originals=False, protector=Protector(["Captain"]))
    for outcome in engine.expand(tavern(), 0):
        if not isinstance(outcome, Kept):
            continue
        answer = outcome.conversation.turns[2].content
        assert answer.startswith("*wipes the counter* ")
        assert "3 silver" in answer or "3" in answer
        assert answer.endswith("Captain.")


def test_a_variant_that_breaks_a_protected_span_is_rejected_with_the_span():
    outcomes = list(Engine([Step(Vandal())], seed=0, keep_originals=False).expand(tavern(), 0))
    assert outcomes == [Dropped("vandal", "protected span '*wipes the counter*' changed")]


def test_identical_variants_are_dropped_not_counted_as_new_data():
    outcomes = list(Engine([Step(Same(), variants=3)], seed=0).expand(tavern(), 0))
    assert [isinstance(o, Kept) for o in outcomes] == [True, False, False, False]
    assert {o.reason for o in outcomes[1:]} == {"identical to its source or to another variant"}


def test_step_options_are_checked():
    with pytest.raises(Exception, match=r"typos --rate must be between 0.0 and 1.0, got 1.5"):
        Typos(rate=1.5)


def test_typos_change_only_user_words_and_keep_contractions_and_spacing():
    conv = Conversation(
        [
            Turn(USER, "I can't believe the tavern keeper lied to me  about the dragon.\nReally, truly unbelievable."),
            Turn(ASSISTANT, "*laughs* Believe it."),
        ]
    )
    step = Step(Typos(rate=0.5), variants=5)
    out = [o.conversation for o in Engine([step], seed=2, keep_originals=False).expand(conv, 0) if isinstance(o, Kept)]
    assert len(out) == 5
    for c in out:
        user = c.turns[0].content
        assert user != conv.turns[0].content
        assert c.turns[1].content == "*laughs* Believe it."
        # same words, same spacing and newlines: only letters inside words change
        assert [len(w) for w in user.split(" ")] == [len(w) for w in conv.turns[0].content.split(" ")]
        assert user.count("\n") == 1 and "  " in user
        assert user.split()[1] in ("can't",) or "'" in user.split()[1]


def test_run_is_deterministic_and_records_provenance(tmp_path):
    outs = []
    for name in ("a.jsonl", "b.jsonl"):
        out = tmp_path / name
        done = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--seed", "7", "--repair", "-q", "typos", "--rate", "0.3", "--variants", "2")
        assert done.returncode == 0, done.stderr.decode()
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    records = read_records(tmp_path / "a.jsonl")
    assert len(records) == 12 * 3
    variant = records[1]
    assert variant["provenance"]["source"] == {"file": str(SAMPLES / "tavern.sharegpt.jsonl"), "line": 1, "id": "tavern-001"}
    assert variant["provenance"]["chain"] == [
        {"step": "typos", "options": {"rate": 0.3, "max_chars": 1}, "roles": ["user"], "variants": 2, "variant": 0}
    ]
    assert variant["provenance"]["seed"] == 7
    original = records[0]
    assert original["conversations"] == read_records(SAMPLES / "tavern.sharegpt.jsonl")[0]["conversations"]
    gpt_turns = lambda r: [m["value"] for m in r["conversations"] if m["from"] == "gpt"]
    assert gpt_turns(variant) == gpt_turns(original)
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["a"]["file_name"] == "a.jsonl" and info["a"]["formatting"] == "sharegpt"


def test_no_originals_writes_only_variants(tmp_path):
    out = tmp_path / "v.jsonl"
    done = run_cli("run", str(SAMPLES / "tutor.alpaca.json"), "-o", str(out), "--no-originals", "-q", "typos", "--rate", "0.4")
    assert done.returncode == 0, done.stderr.decode()
    records = read_records(out)
    assert len(records) == 8 and all(r["provenance"]["chain"] for r in records)


def test_step_help_without_input():
    done = run_cli("run", "typos", "--help")
    assert done.returncode == 0
    text = done.stdout.decode()
    assert "--rate FLOAT" in text and "--variants" in text and "--roles TEXT" in text and "[default: user]" in text


# -- copies -----------------------------------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

from augment.conversation import Preference  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(extra=st.dictionaries(st.text(max_size=6), _JSON, max_size=4), provenance=st.none() | st.dictionaries(st.text(max_size=6), _JSON, max_size=3),
       turn_extra=st.dictionaries(st.text(max_size=6), _JSON, max_size=3), tools=st.none() | st.text(max_size=10) | st.lists(_JSON, max_size=3),
       preference=st.booleans(), label=st.none() | st.booleans())
def test_a_copy_equals_a_deep_copy_and_shares_nothing_but_its_location(extra, provenance, turn_extra, tools, preference, label):
    import copy

    conv = Conversation(
        turns=[Turn(SYSTEM, "Be Mira."), Turn(USER, "Hi", "Ann", turn_extra), Turn(ASSISTANT, "Hello.")],
        tools=tools, extra=extra, label=label, provenance=provenance, location=Location("in.jsonl", 3), notes=["a note"],
        preference=Preference(Turn(ASSISTANT, "Yes.", extra={"k": [1]}), Turn(ASSISTANT, "No.")) if preference else None,
    )
    conv.added_by_a_plugin = {"n": [1, 2]}  # an attribute no field names is copied deeply too
    clone = conv.copy()
    assert clone == copy.deepcopy(conv) and clone.notes == conv.notes and clone.added_by_a_plugin == conv.added_by_a_plugin
    assert clone.location is conv.location
    # nothing else is shared: changing every container of the copy leaves the original as it was
    before = copy.deepcopy(conv)

    def scribble(value):
        if isinstance(value, dict):
            for item in list(value.values()):
                scribble(item)
            value["scribbled"] = True
        elif isinstance(value, list):
            for item in value:
                scribble(item)
            value.append("scribbled")

    for turn in clone.turns + ([clone.preference.chosen, clone.preference.rejected] if clone.preference else []):
        scribble(turn.extra)
        turn.content += "!"
    for value in (clone.extra, clone.provenance, clone.tools, clone.notes, clone.turns, clone.added_by_a_plugin):
        scribble(value)
    assert conv == before and conv.notes == before.notes and conv.added_by_a_plugin == before.added_by_a_plugin
