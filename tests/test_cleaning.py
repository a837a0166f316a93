"""``clean`` scrubs web-export and chat-front-end leftovers without touching
code, placeholders, actions or markdown; ``spam`` drops link dumps and ads."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import read_records, run_cli

from augment import ASSISTANT, SYSTEM, USER, Conversation, FilterContext, Preference, Turn, UsageError, plugins
from augment.testing import check_filter
from augment.testing.conformance import conversations
from augment_plugins.cleaning import Clean, Spam, clean_text

# A turn as a web export of a chat site leaves it.
EXPORTED = (
    "<p>*pushes the door open, shaking rain from her cloak*</p><p>Mira, it&#39;s pouring out there &amp; "
    "the\u200b harbor&nbsp;is flooding.<br>Got a room?</p>"
)


def chat(*dialogue: str, system: str | None = None) -> Conversation:
    turns = [Turn(SYSTEM, system)] if system is not None else []
    turns += [Turn((USER, ASSISTANT)[i % 2], text) for i, text in enumerate(dialogue)]
    return Conversation(turns)


def ctx(conv: Conversation) -> FilterContext:
    return FilterContext(conv, 0, True)


# -- clean: the text ------------------------------------------------------------


def test_a_web_export():
    text, kinds = clean_text(EXPORTED)
    assert text == (
        "*pushes the door open, shaking rain from her cloak*\n\n"
        "Mira, it's pouring out there & the harbor is flooding.\nGot a room?"
    )
    assert kinds == ["entities", "html", "zero-width"]


@pytest.mark.parametrize(
    "dirty,clean,kinds",
    [
        ("One<br>two<br/>\nthree<BR />four", "One\ntwo\nthree\nfour", ["html"]),
        ('<font color="red">Blood</font> on the <b>deck</b>, <a href="https://x.test/">see</a>.', "Blood on the deck, see.", ["html"]),
        ("<div>First</div><div>Second</div>", "First\nSecond", ["html"]),
        ("Fine.<script>track()</script><!-- export id 42 --> Really.", "Fine. Really.", ["html"]),
        ("&lt;b&gt;Bold&lt;/b&gt; &amp;amp; done", "Bold & done", ["entities", "html"]),
        ("Tom &amp; Jerry &quot;quoted&quot; &#x2014; &eacute;t&eacute;", 'Tom & Jerry "quoted" — été', ["entities"]),
        ("\ufeffHello\u200b there\u2060.", "Hello there.", ["zero-width"]),
        ("Bell\x07 and\x00 null, tab\tkept,\nline kept.", "Bell and null, tab\tkept,\nline kept.", ["control"]),
        ("Page\x0cbreak", "Page\nbreak", ["control"]),
        ("You roll {{roll:1d20}}. It is {{time}} on {{date}}; idle {{idle_duration}}.", "You roll. It is on; idle.", ["macros"]),
        ("{{random:{{char}},{{user}}}} wins. {{// a note for the bot maker }}{{noop}}", "wins.", ["macros"]),
        ("First{{newline}}Second{{getvar::mood}}", "First\nSecond", ["macros"]),
        ("Hello.<|im_end|>\n<|im_start|>assistant\nHi.", "Hello.\nHi.", ["tokens"]),
        ("[INST] Hi [/INST] Hello.</s>", "Hi Hello.", ["html", "tokens"]),
        ("Too   many    spaces.", "Too many spaces.", ["spaces"]),
        ("One.\n\n\n\n\n\nTwo.", "One.\n\n\nTwo.", ["blank lines"]),
        ("One.\r\n\r\n\r\n\r\n\r\nTwo.", "One.\r\n\r\n\r\nTwo.", ["blank lines"]),
    ],
)
def test_each_kind_of_leftover(dirty, clean, kinds):
    assert clean_text(dirty) == (clean, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "*shrugs* {{char}} pours {{user}} a drink. <BOT> and <USER> nod.",
        "**Bold** and _italic_, a [link](https://example.com), and a list:\n- one\n- two",
        "Line with a markdown break  \nnext line\n\n    indented code\n\tand a tab",
        "I <3 you. 3 < 5 and 7 > 2. <grins> <START>",
        "The party is at {{scenario}} with {{persona}}.",
        "A family emoji 👨\u200d👩\u200d👧 and می\u200cخواهم stay whole.",
        "Plain text, nothing to do.",
        "它在港口。\n\n“你好！”她说。",
        "",
    ],
)
def test_what_is_left_alone(text):
    assert clean_text(text) == (text, [])


def test_code_comes_out_byte_for_byte():
    fenced = "```html\n<p>Hi &amp; bye</p><br>\n{{random:a,b}}  <|im_end|>\u200b\n\n\n\n\nend\n```"
    inline = "`<br>  &amp;`"
    text = f"Look:<br>{inline} and\n{fenced}\nafter<br>done"
    cleaned, kinds = clean_text(text)
    assert cleaned == f"Look:\n{inline} and\n{fenced}\nafter\ndone"
    assert kinds == ["html"]
    unclosed = "Here:\n```\n<b>never closed &amp;"
    assert clean_text(unclosed) == (unclosed, [])
    assert clean_text("``a `<b>` b`` <b>x</b>") == ("``a `<b>` b`` x", ["html"])


# -- clean: the filter --------------------------------------------------------------


def test_transform_notes_each_kind_per_turn_and_leaves_the_input_alone():
    conv = chat(EXPORTED, "*slides a key across the bar*  Attic's free.", "Thanks.", system="You are Mira&#39;s tavern.")
    before = copy.deepcopy(conv)
    flt = Clean()
    flt.start()
    new, notes = flt.transform(conv, ctx(conv))
    assert conv == before
    assert [t.content for t in new.turns] == [
        "You are Mira's tavern.",
        clean_text(EXPORTED)[0],
        "*slides a key across the bar* Attic's free.",
        "Thanks.",
    ]
    assert sorted(notes) == sorted(
        ["decoded HTML entities", "decoded HTML entities", "removed HTML tags", "removed zero-width characters", "collapsed runs of spaces"]
    )
    assert flt.check(new, ctx(new)) is None


def test_nothing_to_do_gives_the_same_record_and_no_notes():
    conv = chat("*waves*", "Hello, {{user}}.")
    new, notes = Clean().transform(conv, ctx(conv))
    assert new is conv and notes == []


def test_preference_answers_are_cleaned():
    conv = chat("Which one?")
    conv.preference = Preference(Turn(ASSISTANT, "This&nbsp;one."), Turn(ASSISTANT, "That<br>one."))
    new, notes = Clean().transform(conv, ctx(conv))
    assert (new.preference.chosen.content, new.preference.rejected.content) == ("This one.", "That\none.")
    assert sorted(notes) == ["decoded HTML entities", "removed HTML tags"]


def test_a_turn_left_empty_drops_the_record():
    conv = chat("Look at this:", '<img src="https://cdn.test/cat.png">', system="You are Mira.")
    flt = Clean()
    flt.start()
    new, notes = flt.transform(conv, ctx(conv))
    assert new is conv and notes == []  # the rejects file gets the record as it was
    assert flt.check(new, ctx(new)) == "turn 3 is empty after cleaning"
    assert Clean().check(conv, ctx(conv)) == "turn 3 is empty after cleaning"  # check alone says the same
    macros_only = chat("{{random:hi,hello}}", "Hi.", system="{{// bot notes }}")
    assert Clean().check(macros_only, ctx(macros_only)) == "the system prompt is empty after cleaning"
    already_empty = chat("Hi.", "")
    assert Clean().check(already_empty, ctx(already_empty)) is None  # not made empty here: role-order's business


# -- spam ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "turn,why",
    [
        ("https://img.test/a.png https://img.test/b.png\nhttps://img.test/c.png", "is mostly links (60% or more of its text)"),
        ("Join my server! discord.gg/tavernlife", "advertises (3 or more advertising words and links)"),
        ("More bots at https://bots.test/a and https://bots.test/b, subscribe for updates!!", "advertises (2 or more links with advertising words)"),
        (
            "Hey! I post new characters every week, check https://bots.test and https://bots.test/new, "
            "and if you like them please subscribe, it helps a lot.",
            "advertises (2 or more links with advertising words)",
        ),
        ("Use promo code TAVERN for 20% off, buy now, limited time offer.", "advertises (3 or more advertising words and links)"),
        ("想要更多角色？加群123456，新人有优惠，扫码关注！", "advertises (3 or more advertising words and links)"),
        ("加微信领取福利 https://wx.test/abc 点击链接", "advertises (3 or more advertising words and links)"),
        ("Buy my potions!\n" * 4, "repeats one line 4 or more times"),
    ],
)
def test_spam_turns(turn, why):
    conv = chat("Hi there.", turn, system="You are Mira.")
    assert Spam().check(conv, ctx(conv)) == f"turn 3 {why}"


def test_spam_in_the_system_prompt():
    conv = chat("Hi.", "Hello.", system="You are Mira. Join my discord for more bots: discord.gg/tavern")
    assert Spam().check(conv, ctx(conv)) == "the system prompt advertises (3 or more advertising words and links)"


@pytest.mark.parametrize(
    "turn",
    [
        "*pins the map to the wall* The wreck lies past https://maps.test/saltmere on the old chart, two days north.",
        "Subscribe to the harbor gazette? *snorts* I'd rather read tide tables.",
        "Join my crew, Captain, and we'll sail at dawn.",
        "No.\nNo.\nNo.\nNo.\nNo.",
        "Please stop.\nPlease stop.\nPlease stop.",
        "我们去港口吧。优惠的鱼汤只有今天有。",
    ],
)
def test_role_play_that_is_not_spam(turn):
    conv = chat("Hi there.", turn)
    assert Spam().check(conv, ctx(conv)) is None


def test_spam_thresholds():
    two_lines = chat("Buy my potions!\nBuy my potions!\nfine")
    assert Spam(repeats=2).check(two_lines, ctx(two_lines)) == "turn 1 repeats one line 2 or more times"
    one_link = chat("Great bot, subscribe at https://bots.test/mira for more of the tavern.")
    assert Spam().check(one_link, ctx(one_link)) is None
    assert Spam(links=1).check(one_link, ctx(one_link)) == "turn 1 advertises (1 or more links with advertising words)"
    assert Spam(url_share=0.3).check(one_link, ctx(one_link)) == "turn 1 is mostly links (30% or more of its text)"
    with pytest.raises(UsageError, match="spam --url-share must be between"):
        Spam(url_share=0)


# -- both -------------------------------------------------------------------------------


def test_registered_and_conforming():
    reg = plugins.load()
    assert reg.filters["clean"] is Clean and reg.filters["spam"] is Spam
    dirty = [chat(EXPORTED, "Fine."), chat("Join my server! discord.gg/tavernlife", "No."), chat("<img src='x.png'>", "Hm.")]
    for cls in (Clean, Spam):
        check_filter(cls)
        check_filter(cls, convs=conversations() + dirty)
        assert [cls().check(c, ctx(c)) for c in conversations()] == [None] * len(conversations())
    flt = Clean()
    assert all(flt.transform(c, ctx(c)) == (c, []) for c in conversations())  # the test corpus is clean already


def test_through_the_cli(tmp_path):
    records = [
        {"id": "export", "system": "You are Mira, keeper of the Drowned Lantern.", "conversations": [
            {"from": "human", "value": EXPORTED},
            {"from": "gpt", "value": "*tosses a key*  Attic&#39;s free.<br>Mind the shutters."},
        ]},
        {"id": "ad", "system": "You are Mira.", "conversations": [
            {"from": "human", "value": "Join my server! discord.gg/tavernlife"},
            {"from": "gpt", "value": "*ignores the flyer*"},
        ]},
        {"id": "image", "conversations": [
            {"from": "human", "value": "Look:"},
            {"from": "gpt", "value": "<img src=\"https://cdn.test/cat.png\">"},
        ]},
        {"id": "plain", "conversations": [
            {"from": "human", "value": "`code  &amp;` stays, {{char}}."},
            {"from": "gpt", "value": "*nods* It does."},
        ]},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_cli("filter", str(src), "-o", str(out), "clean", "spam")
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr

    written = read_records(out)
    assert [r["id"] for r in written] == ["export", "plain"]
    assert written[0]["conversations"][0]["value"] == clean_text(EXPORTED)[0]
    assert written[0]["conversations"][1]["value"] == "*tosses a key* Attic's free.\nMind the shutters."
    assert written[1] == records[3]  # untouched, byte for byte

    assert "read 4, written 2, rejected 2" in stderr
    assert "clean: removed HTML tags: 2" in stderr
    assert "clean: decoded HTML entities: 2" in stderr
    assert "clean: removed zero-width characters: 1" in stderr
    assert "clean: collapsed runs of spaces: 1" in stderr
    assert "clean: filtered out 1 record(s): turn N is empty after cleaning" in stderr
    assert "spam: filtered out 1 record(s): turn N advertises (3 or more advertising words and links)" in stderr

    rejects = {r["output"]["id"]: r for r in read_records(tmp_path / "out.jsonl.rejects.jsonl")}
    assert rejects["ad"]["reason"] == "spam: turn 2 advertises (3 or more advertising words and links)"
    assert rejects["image"]["reason"] == "clean: turn 2 is empty after cleaning"
    assert rejects["image"]["output"] == records[2]  # as it was read
