"""The novel format: quoted dialogue with its speaker, from English and Chinese prose."""

from __future__ import annotations

import io

import pytest
from conftest import SAMPLES, read_records, run_cli

from augment import RecordError, UsageError, plugins
from augment.dataio.reading import Reader, Source

REG = plugins.load()
NOVEL = REG.formats["novel"]


def scenes(text: str, speaker: str | None = "Mira"):
    """``(location, record, conversation)`` for every scene of ``text``."""
    fmt = NOVEL.configure(speaker=speaker) if speaker else NOVEL
    out = []
    for location, record in fmt.read(io.BytesIO(text.encode("utf-8")), "book.txt"):
        out.append((str(location), record, fmt.decode(record)))
    return out


def turns(conv) -> list[tuple[str, str | None, str]]:
    return [(t.role, t.name, t.content) for t in conv.turns]


INN = """Chapter 1: The Lantern

The storm had been battering the harbor since noon.

Rhys shouldered the door open. "Tell me you've got a dry room left," he said.

Mira did not look up from the tankard. "Dry? In Saltmere?" she asked. "You're dripping on my floor."

"I'll take anything with a roof," Rhys replied.

“Three silver,” said Mira, and tossed him a rag.

From the fire, somebody laughed. "She's got you there," he called.

"Fine."

Chapter 2

Morning came grey and still.

Rhys said, "Breakfast?"

Mira sighed. "Bread and yesterday's fish."
"""


def test_english_cues_before_and_after_a_quote_name_the_speaker():
    (loc1, rec1, first), (loc2, _, second) = scenes(INN)
    assert (loc1, loc2) == ("book.txt:1", "book.txt:17")
    assert first.extra == {"scene": "Chapter 1: The Lantern"} and second.extra == {"scene": "Chapter 2"}
    assert turns(first) == [
        ("user", "Rhys", "*Rhys shouldered the door open.* Tell me you've got a dry room left."),
        ("assistant", "Mira", "*Mira did not look up from the tankard.* Dry? In Saltmere? You're dripping on my floor."),
        ("user", "Rhys", "I'll take anything with a roof."),
        ("assistant", "Mira", "Three silver. *Mira tossed him a rag.*"),
    ]
    assert turns(second) == [
        ("user", "Rhys", "Breakfast?"),
        ("assistant", "Mira", "*Mira sighed.* Bread and yesterday's fish."),
    ]


def test_unattributed_lines_are_counted_not_guessed():
    (_, record, first), (_, _, second) = scenes(INN)
    # "he called" in a paragraph with no known name, and a bare "Fine."
    assert record["unattributed"] == [13, 15]
    assert "left out 2 unattributed quote(s)" in first.notes
    assert "left out 1 narration-only paragraph(s)" in first.notes
    assert not any("unattributed" in note for note in second.notes)
    assert not any("She's got you there" in t.content or "Fine" in t.content for t in first.turns)


def test_a_pronoun_takes_the_one_name_its_paragraph_begins_a_sentence_with():
    text = 'Mira wiped the bar. Rhys watched her. "Go home," she said.\n\nMira shrugged. "Go home," she said again.\n\nRhys laughed. "Never," said Rhys.\n'
    (_, record, conv), = scenes(text)
    # two known names begin sentences in the first paragraph: its quote is not guessed
    assert record["unattributed"] == [1]
    assert turns(conv) == [("assistant", "Mira", "*Mira shrugged.* Go home."), ("user", "Rhys", "*Rhys laughed.* Never.")]


def test_quotes_of_one_paragraph_share_its_speaker_and_a_dropped_quote_splits_turns():
    text = '"Sit," said Mira. "The soup is hot." She set down a bowl.\n\n"Thanks," Rhys muttered.\n\n"Who asked you?"\n\n"More bread?" Mira asked.\n'
    (_, _, conv), = scenes(text)
    assert turns(conv) == [
        ("assistant", "Mira", "Sit. The soup is hot. *She set down a bowl.*"),
        ("user", "Rhys", "Thanks."),
        ("assistant", "Mira", "More bread?"),
    ]


def test_long_narration_is_left_out_and_counted():
    long = " ".join(["The rain kept falling on the roofs of the harbor"] * 8) + "."
    (_, _, conv), = scenes(f'{long} "Shut the door," Mira said.\n\n"Done," said Rhys.\n')
    assert turns(conv)[0] == ("assistant", "Mira", "Shut the door.")
    assert "left out 1 long narration piece(s)" in conv.notes


ZH = """第一章　风雪

　　北风卷着雪粒拍打着窗纸。
　　沈青推门进来，问道：“掌柜的，还有空房吗？”
　　李掌柜放下算盘，上下打量了他一眼，道：“空房倒是有，只是今夜不太平。”
　　“怎么个不太平法？”沈青问。
　　李掌柜压低声音说：「黑风寨在找一个人。」
　　沈青笑了笑：“找谁？”
　　李掌柜看了看他背上的剑。他叹道：“一个背剑的少年。”
　　门外有人冷冷地说：“交人！”
　　“客官好走。”

第二章　夜半

　　赵七冷冷地说道：“把人交出来。”
　　“小店不认得什么少年。”李掌柜说。
"""


def test_chinese_cues_name_the_speaker():
    (loc, record, first), (_, _, second) = scenes(ZH, "李掌柜")
    assert loc == "book.txt:1" and first.extra == {"scene": "第一章　风雪"}
    assert turns(first) == [
        ("user", "沈青", "*沈青推门进来* 掌柜的，还有空房吗？"),
        ("assistant", "李掌柜", "*李掌柜放下算盘，上下打量了他一眼* 空房倒是有，只是今夜不太平。"),
        ("user", "沈青", "怎么个不太平法？"),
        ("assistant", "李掌柜", "黑风寨在找一个人。"),
        ("user", "沈青", "找谁？"),
        ("assistant", "李掌柜", "*李掌柜看了看他背上的剑。* 一个背剑的少年。"),
    ]
    # 门外有人 is a description, not a name; the last line has no cue at all
    assert record["unattributed"] == [10, 11]
    assert "left out 2 unattributed quote(s)" in first.notes
    assert turns(second) == [("user", "赵七", "把人交出来。"), ("assistant", "李掌柜", "小店不认得什么少年。")]


def test_headings_and_scene_breaks_split_scenes():
    text = "# The Inn\n\n\"Hi,\" said Mira.\n\n* * *\n\n\"Bye,\" said Mira.\n\nCHAPTER IV\n\n\"Again,\" said Mira.\n\n第十二回 雪夜\n\n　　李四道：“好。”\n\n　　“好。”Mira说。\n"
    found = scenes(text)
    assert [r["scene"] for _, r, _ in found] == ["The Inn", "", "CHAPTER IV", "第十二回 雪夜"]
    assert turns(found[3][2]) == [("user", "李四", "好。"), ("assistant", "Mira", "好。")]


@pytest.mark.parametrize("line, heading", [
    ("Chapter 3", True), ("CHAPTER IV: The Inn", True), ("Chapter twenty-one", True), ("Book 2", True), ("Epilogue: After", True),
    ("第三章　风雪", True), ("第12回", True), ("楔子", True), ("## The Inn", True),
    ("Part of the wall had fallen.", False), ("Chapter and verse, she said.", False), ("Prologue of sorts, he thought.", False),
    ("第一回合他就输了。", False), ("尾声渐渐消失了。", False),
])
def test_headings_are_told_from_prose(line, heading):
    from augment_plugins.novel import HEADING

    assert bool(HEADING.match(line)) is heading


def test_the_assistant_must_be_named_and_must_speak():
    fmt = NOVEL
    (_, record), = list(fmt.read(io.BytesIO(b'"Hi," said Rhys.\n'), "book.txt"))
    with pytest.raises(UsageError, match=r"novel input needs --as NAME to say who the assistant is \(speakers: Rhys\)"):
        fmt.decode(record)
    with pytest.raises(RecordError, match=r"'Mira' does not speak in this scene \(speakers: Rhys\)"):
        NOVEL.configure(speaker="Mira").decode(record)


def test_the_novel_format_never_claims_a_txt_file(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text('"Hi," said Rhys.\n\n"Hello," said Mira.\n', encoding="utf-8")
    assert NOVEL.suffixes == () and not NOVEL.sniff(str(book), book.read_bytes())
    assert Reader(REG.formats, Source(str(book), None, None, {"speaker": "Mira"})).format_of(str(book)).name == "script"
    fixed = Reader(REG.formats, Source(str(book), "novel", None, {"speaker": "Mira"})).fixed
    assert fixed.name == "novel" and fixed.speaker == "Mira"


def test_convert_a_novel_through_the_command_line(tmp_path):
    out = tmp_path / "lantern.jsonl"
    done = run_cli("convert", str(SAMPLES / "novel" / "lantern.en.txt"), "--from", "novel", "--as", "Mira", "--to", "sharegpt", "-o", str(out))
    err = done.stderr.decode()
    assert done.returncode == 0, err
    records = read_records(out)
    assert len(records) == 3
    assert records[0]["conversations"][1] == {"from": "gpt", "value": "*Mira did not look up from the tankard she was polishing.* Dry? In Saltmere? You're dripping on my floor, Captain.", "name": "Mira"}
    assert "unattributed quote(s)" in err
    zh = tmp_path / "fengxue.jsonl"
    done = run_cli("convert", str(SAMPLES / "novel" / "fengxue.zh.txt"), "--from", "novel", "--as", "李掌柜", "--to", "openai", "-o", str(zh), "--repair")
    assert done.returncode == 0, done.stderr.decode()
    names = {m.get("name") for r in read_records(zh) for m in r["messages"]}
    assert {"李掌柜", "沈青", "赵七"} <= names


def test_as_without_from_says_which_formats_take_it(tmp_path):
    book = tmp_path / "book.md"
    book.write_text('"Hi," said Rhys.\n', encoding="utf-8")
    done = run_cli("convert", str(book), "--as", "Mira", "--to", "sharegpt", "-o", str(tmp_path / "o.jsonl"))
    assert done.returncode != 0
    assert "novel" in done.stderr.decode() and "--from" in done.stderr.decode()
