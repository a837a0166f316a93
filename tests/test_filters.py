"""Each filter on records built to trip it and records built to pass it."""

from __future__ import annotations

import json

from conftest import SAMPLES, read_records, run_cli

from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.engine.filters import FilterContext
from augment_plugins.pii import PersonalData
from augment_plugins.quality_filters import LengthRatio, NearDuplicates, OutOfCharacter, SameLanguage
from augment_plugins.record_filters import ExactDuplicates, MaxPerSource, RoleOrder

SOURCE = Conversation(
    [
        Turn(SYSTEM, "You are Mira, keeper of the Drowned Lantern."),
        Turn(USER, "I'll take anything with a roof. The Gull's Wing nearly lost her mast out there tonight."),
        Turn(ASSISTANT, "*sets the tankard down with a thunk* The attic's free, but the shutters rattle like a drunk's teeth."),
    ]
)


def variant(user: str | None = None, assistant: str | None = None) -> Conversation:
    conv = SOURCE.copy()
    if user is not None:
        conv.turns[1].content = user
    if assistant is not None:
        conv.turns[2].content = assistant
    return conv


def ctx(original=False, ordinal=0):
    return FilterContext(SOURCE, ordinal, original)


def started(cls, **options):
    flt = cls(**options)
    flt.start()
    return flt


def test_near_duplicates_against_the_output_and_the_sources():
    flt = started(NearDuplicates, threshold=0.8)
    assert flt.check(SOURCE, ctx(original=True)) is None
    one_typo = variant(user="I'll take anything with a roof. The Gull's Wing nearly lost her mats out there tonight.")
    assert flt.check(one_typo, ctx()).startswith("near-duplicate of an earlier record or its source (similarity 0.")
    different = variant(user="Is there any fish stew left, and how much for a bowl with bread on the side?", assistant="*ladles a bowl* Two copper, and you wash your own spoon.")
    assert flt.check(different, ctx()) is None
    assert flt.check(different.copy(), ctx(ordinal=1)) is not None  # the same text again, from another source
    # with --no-originals the source was never written, but a variant is still judged against it
    fresh = started(NearDuplicates, threshold=0.8)
    assert fresh.check(one_typo, ctx()) is not None


def test_same_language():
    flt = started(SameLanguage)
    translated = variant(user="Me quedo con cualquier cosa que tenga techo. El Gull's Wing casi pierde el mástil esta noche ahí fuera.")
    assert flt.check(translated, ctx()) == "turn 2 is in es, its source in en"
    reworded = variant(user="I will take anything that has a roof. The Gull's Wing almost lost her mast out there tonight.")
    assert flt.check(reworded, ctx()) is None
    assert flt.check(translated, ctx(original=True)) is None  # sources are not judged against themselves


def test_length_ratio():
    flt = started(LengthRatio, min=0.5, max=2.0)
    assert flt.check(variant(user="A roof, please."), ctx()).startswith("turn 2 is 0.1")
    long = variant(assistant=SOURCE.turns[2].content + " " + "And the rain comes through the ceiling. " * 4)
    assert flt.check(long, ctx()).startswith("turn 3 is 2.")
    assert flt.check(variant(user="I'll take anything with a roof. The Gull's Wing almost lost her mast out there."), ctx()) is None


def test_out_of_character():
    flt = started(OutOfCharacter)
    assert flt.check(variant(assistant="As an AI language model, I cannot pour ale."), ctx()) == "assistant turn 3: 'As an AI language model'"
    assert flt.check(variant(assistant="作为一个人工智能，我不能喝酒。"), ctx()) == "assistant turn 3: '作为一个人工智能'"
    assert flt.check(variant(user="Are you an AI?"), ctx()) is None  # the user may ask; the character answers in character
    assert flt.check(SOURCE, ctx(original=True)) is None


def test_role_order_exact_duplicates_and_cap():
    assert started(RoleOrder).check(Conversation([Turn(ASSISTANT, "*waves* Welcome!"), Turn(USER, "hi")]), ctx()).startswith("starts with an assistant turn")
    assert started(RoleOrder).check(SOURCE, ctx()) is None
    dupes = started(ExactDuplicates)
    assert dupes.check(SOURCE, ctx()) is None and dupes.check(SOURCE.copy(), ctx()) == "the same turns as an earlier record"
    cap = started(MaxPerSource, max=2)
    assert [cap.check(SOURCE, ctx(ordinal=7)) for _ in range(3)] == [None, None, "source already gave 2 records"]
    assert cap.check(SOURCE, ctx(ordinal=8)) is None


def test_personal_data_placeholders_and_consistent_fakes():
    text = "Mail me at rhys.morgan@example.com or call +44 20 7946 0958; my ID is 123-45-6789. 手机 13812345678。"
    conv = variant(user=text)
    out, notes = started(PersonalData).transform(conv, ctx())
    assert out.turns[1].content == "Mail me at <EMAIL> or call <PHONE>; my ID is <ID>. 手机 <PHONE>。"
    assert sorted(notes) == ["scrubbed ID number", "scrubbed e-mail", "scrubbed phone number", "scrubbed phone number"]
    assert conv.turns[1].content == text  # the input is not changed
    fake = started(PersonalData, mode="fake")
    a, _ = fake.transform(conv, ctx())
    b, _ = fake.transform(variant(assistant="*writes down rhys.morgan@example.com*"), ctx())
    email = a.turns[1].content.split("Mail me at ")[1].split(" ")[0]
    assert "@" in email and email != "rhys.morgan@example.com"
    assert email in b.turns[2].content  # the same address gets the same fake everywhere
    clean, none = started(PersonalData).transform(SOURCE, ctx())
    assert clean is SOURCE and none == []


def test_filters_in_a_chain_with_counts_and_rejects(tmp_path):
    out = tmp_path / "out.jsonl"
    done = run_cli(
        "run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--seed", "3", "--repair", "--workers", "1",
        "typos", "--rate", "0.05", "--variants", "3", "near-duplicates", "--threshold", "0.8", "max-per-source", "--max", "3", "pii",
    )
    assert done.returncode == 0, done.stderr.decode()
    err = done.stderr.decode()
    written = read_records(out)
    rejects = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert "near-duplicates: filtered out" in err
    assert all(r["reason"].split(":")[0] in ("near-duplicates", "max-per-source") for r in rejects)
    assert all("output" in r for r in rejects)
    per_source = {}
    for r in written:
        key = r["provenance"]["source"]["line"]
        per_source[key] = per_source.get(key, 0) + 1
    assert max(per_source.values()) <= 3
    assert "crew@saltmere-harbor.example" not in out.read_text()  # the sample's e-mail address, scrubbed
    assert "pii: scrubbed e-mail:" in err


def test_filter_command_on_its_own(tmp_path):
    source = tmp_path / "in.jsonl"
    good = json.loads((SAMPLES / "tavern.sharegpt.jsonl").read_text().splitlines()[0])
    bad = {"conversations": [{"from": "human", "value": "Stay in character!"}, {"from": "gpt", "value": "I'm sorry, but as an AI language model I cannot continue."}]}
    source.write_text("\n".join(json.dumps(r) for r in (good, bad, good)) + "\n")
    out = tmp_path / "out.jsonl"
    done = run_cli("filter", str(source), "-o", str(out), "out-of-character", "exact-duplicates")
    assert done.returncode == 0, done.stderr.decode()
    assert read_records(out) == [good]
    reasons = [r["reason"] for r in read_records(tmp_path / "out.jsonl.rejects.jsonl")]
    assert reasons == ["out-of-character: assistant turn 2: 'as an AI language model'", "exact-duplicates: the same turns as an earlier record"]


def test_the_on_disk_index_finds_what_datasketchs_lsh_finds():
    """The near-duplicates index keeps its bands on disk; its candidates are
    MinHashLSH's, for records that share many, few or no word 3-grams."""
    import random

    from datasketch import MinHash, MinHashLSH

    from augment_plugins.minhash_index import MinHashIndex

    rng = random.Random(5)
    words = "the gull wing lost her mast out there tonight any fish stew left bowl bread side copper spoon".split()
    base = [rng.choice(words) for _ in range(60)]
    texts = []
    for i in range(300):
        text = list(base) if i % 3 else [rng.choice(words) for _ in range(60)]
        for _ in range(rng.randrange(0, 12)):  # a few words changed: some records stay near, some drift
            text[rng.randrange(len(text))] = rng.choice(words)
        texts.append(text)
    for threshold, num_perm in ((0.9, 128), (0.5, 64)):
        lsh, index = MinHashLSH(threshold=threshold, num_perm=num_perm), MinHashIndex(threshold, num_perm)
        stored = []
        found_some = False
        for i, text in enumerate(texts):
            m = MinHash(num_perm=num_perm, seed=1)
            m.update_batch(sorted({" ".join(text[j : j + 3]).encode() for j in range(len(text) - 2)}))
            expected = sorted(int(k) for k in lsh.query(m))
            got = [v.tobytes() for v in index.candidates(m.hashvalues)]
            assert got == [stored[k] for k in expected]
            found_some |= bool(expected) and len(expected) < i
            lsh.insert(str(i), m)
            index.insert(m.hashvalues)
            stored.append(m.hashvalues.tobytes())
        index.close()
        assert found_some  # some records had candidates, and not every earlier record
