"""augment generate --from-text: text cut into passages (the passages format),
each the seed of conversations a model writes (the from-passage step), every
answer checked for grounding and language through the real client path
against the scripted server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLES, read_records, run_cli
from fake_model import answer
from hypothesis import given, settings, strategies as st

from augment import RecordError, Turn, plugins
from augment.model.client import LLMClient, ModelSettings
from augment.testing import Reply, ScriptedLLM, check_augmenter, run_augmenter, variants

from augment_plugins.grounding import grounding, units

REG = plugins.load()
PASSAGES = REG.formats["passages"]
HARBOR = SAMPLES / "texts" / "saltmere-harbor.md"
INN = SAMPLES / "texts" / "tingyu-inn.zh.md"
PERSONAS = str(Path(__file__).parent.parent / "personas")


def cut(text: str, chunk: int = 1500, file: str = "t.md") -> list[tuple[str, dict]]:
    fmt = PASSAGES.configure(chunk_chars=chunk)
    return [(str(loc), rec) for loc, rec in fmt.read(io.BytesIO(text.encode("utf-8")), file)]


@pytest.fixture
def server():
    with ScriptedLLM(responder=answer) as llm:
        yield llm


def from_text(server, tmp_path, *args, source=HARBOR, out_name="out.jsonl"):
    out = tmp_path / out_name
    done = run_cli(
        "generate", "--from-text", str(source), "--model", "openai/fake-rp", "--api-base", server.url, "--personas", PERSONAS,
        "-o", str(out), *args, env={"AUGMENT_CACHE": str(tmp_path / "cache")},
    )
    return done, out


# -- cutting text into passages -----------------------------------------------------------
DOC = """# Part One

## Chapter 1

First paragraph about the harbor and its seawall, built long ago.

Second paragraph about the bell that rings at high water.

Chapter 2: The Market

The market opens at dawn. Fishmongers shout their prices.

* * *

After the break, the stalls close one by one.
# Notes at the end
"""


def test_headings_start_sections_and_passages_never_span_two():
    found = cut(DOC)
    assert [(loc, rec["heading"]) for loc, rec in found] == [("t.md:5", "Part One / Chapter 1"), ("t.md:11", "Chapter 2: The Market")]
    first, second = found[0][1], found[1][1]
    assert first["text"] == "First paragraph about the harbor and its seawall, built long ago.\n\nSecond paragraph about the bell that rings at high water."
    assert second["text"].startswith("The market opens at dawn.") and second["text"].endswith("the stalls close one by one.")
    assert "Chapter" not in first["text"] + second["text"]  # headings are not text
    conv = PASSAGES.decode(second)
    assert conv.notes == ["left out 1 heading(s) with no text after them"]  # the last heading, counted
    assert [(t.role, t.content) for t in conv.turns] == [("user", second["text"])]
    assert conv.extra == {"passage": {"file": "t.md", "line": 11, "offset": second["offset"], "chars": second["chars"], "heading": "Chapter 2: The Market"}}


def test_paragraphs_merge_up_to_the_limit_and_a_long_one_is_cut_at_sentence_ends():
    para = "The tide bell rings three times at high water. " * 3
    long = "Fog came in. " + "It lay over the harbor for a week and the boats stayed in. " * 4
    text = f"{para.strip()}\n\n{para.strip()}\n\n{long.strip()}\n"
    found = [rec for _, rec in cut(text, chunk=200)]
    assert [len(r["text"]) <= 200 for r in found] == [True] * len(found)
    assert found[0]["text"] == para.strip()  # two paragraphs of 140 do not fit in 200: not merged, not cut
    assert found[1]["text"] == para.strip()
    pieces = [r["text"] for r in found[2:]]
    assert len(pieces) >= 2 and all(p.endswith(".") for p in pieces)  # cut at sentence ends only
    assert " ".join(pieces) == long.strip()
    huge = "word " * 100  # one sentence, no end: cut at spaces
    assert all(len(r["text"]) <= 200 and not r["text"].endswith(" ") for _, r in cut(huge, chunk=200))


def test_chinese_lines_are_paragraphs_and_sentences_end_at_the_full_stop():
    found = [rec for _, rec in cut(INN.read_text(encoding="utf-8"), chunk=200, file="inn.md")]
    assert {r["heading"] for r in found} == {"听雨客栈 / 客栈的来历", "听雨客栈 / 镇上的规矩"}
    assert all(len(r["text"]) <= 200 for r in found)
    whole = INN.read_text(encoding="utf-8")
    for r in found:
        assert whole[r["offset"] : r["offset"] + r["chars"]] == r["text"]
        assert r["text"].endswith("。")


def test_offsets_point_into_the_file_after_a_bom_and_with_crlf():
    text = "# T\r\n\r\nLine one of the first paragraph.\r\nLine two of it.\r\n\r\nAnother paragraph here, long enough.\r\n"
    found = PASSAGES.configure(chunk_chars=40).read(io.BytesIO(b"\xef\xbb\xbf" + text.encode()), "crlf.md")
    for loc, rec in found:
        assert text[rec["offset"] : rec["offset"] + rec["chars"]] == rec["text"]
        assert not rec["text"].endswith("\r") and str(loc) == f"crlf.md:{text[: rec['offset']].count(chr(10)) + 1}"


def test_a_short_passage_and_an_empty_file_are_reported():
    (_, short), = cut("# A\n\nThe End.\n")
    with pytest.raises(RecordError, match=r"a passage of 6 letter\(s\) is too short to ground a conversation \(at least 20\)"):
        PASSAGES.decode(short)
    with pytest.raises(RecordError, match=r"no text to cut into passages"):
        cut("# Only\n## Headings\n\n")


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(
        st.one_of(
            st.tuples(st.just("heading"), st.sampled_from(["# Tides", "## Berths", "Chapter 4", "第二章 码头"])),
            st.tuples(st.just("para"), st.lists(st.lists(st.sampled_from("harbor bell tide fog market quay stone rope".split()), min_size=1, max_size=14), min_size=1, max_size=8)),
        ),
        min_size=1,
        max_size=12,
    ),
    limit=st.integers(200, 600),
)
def test_every_word_of_the_text_is_in_exactly_one_passage_within_the_limit(blocks, limit):
    lines, heading_lines = [], set()
    for kind, value in blocks:
        if kind == "heading":
            heading_lines.add(len(lines))
            lines += [value, ""]
        else:
            lines += [" ".join(s).capitalize() + "." for s in value] + [""]
    text = "\n".join(lines)
    try:
        found = [rec for _, rec in cut(text, chunk=limit)]
    except RecordError:
        assert not any(kind == "para" for kind, _ in blocks)
        return
    covered = [0] * len(text)
    for rec in found:
        assert rec["chars"] <= limit and text[rec["offset"] : rec["offset"] + rec["chars"]] == rec["text"]
        for i in range(rec["offset"], rec["offset"] + rec["chars"]):
            covered[i] += 1
    position = 0
    for number, line in enumerate(text.split("\n")):
        for i, ch in enumerate(line):
            if not ch.isspace():
                assert covered[position + i] == (0 if number in heading_lines else 1), (number, line)
        position += len(line) + 1
    assert [r["offset"] for r in found] == sorted(r["offset"] for r in found)


# -- the grounding measure ----------------------------------------------------------------
def test_grounding_counts_content_words_and_chinese_pairs():
    passage = "The harbor's seawall was raised in 1702 after the Great Flood took the old fish market."
    assert grounding("*leans on the bar* The seawall? Raised after the great flood, that was.", passage) == 1.0
    assert grounding("I would rather talk about dragons and wizards tonight.", passage) == 0.0
    assert 0.3 < grounding("The seawall went up after the flood, and my cousin sold apples there.", passage) < 0.7
    assert units("harbors stored sailing") == units("harbor store sailed")  # light stemming meets forms
    # 客栈 栈有 有六 六间 间客 客房: all but 栈有 are in the passage; the direction is not counted
    assert grounding("（点点头）客栈有六间客房。", "客栈楼上有六间客房，最里间临河。") == 5 / 6
    assert grounding("我们今晚去看龙。", "客栈楼上有六间客房。") == 0.0


# -- the step through the scripted server -----------------------------------------------------
def test_generate_from_text_writes_grounded_conversations_with_provenance(server, tmp_path):
    done, out = from_text(server, tmp_path, "--persona", "mira", "--per-passage", "2", "--seed", "7")
    err = done.stderr.decode()
    assert done.returncode == 0, err
    records = read_records(out)
    whole = HARBOR.read_text(encoding="utf-8")
    passages = [rec for _, rec in cut(whole, file=str(HARBOR))]
    assert len(server.requests) == 2 * len(passages)
    dropped = sum(int(n) for n in re.findall(r"dropped (\d+) variant", err))
    assert len(records) == 2 * len(passages) - dropped and records  # no seed record is written
    mira = json.loads(Path(PERSONAS, "mira.json").read_text())["data"]
    for record in records:
        assert record["system"].startswith(mira["description"].replace("{{char}}", "Mira"))
        assert [m["from"] for m in record["conversations"]] == ["human", "gpt", "human", "gpt"]
        assert record["persona"] == "mira" and "passage" not in record
        prov = record["provenance"]
        (entry,) = prov["chain"]
        facts = entry["facts"]
        where = facts["passage"]
        assert where["file"] == str(HARBOR) and prov["source"] == {"file": str(HARBOR), "line": where["line"]}
        passage = whole[where["offset"] : where["offset"] + where["chars"]]
        assert passage in [p["text"] for p in passages]
        said = " ".join(m["value"] for m in record["conversations"] if m["from"] == "gpt")
        assert facts["grounding"] == round(grounding(said, passage, units("Mira {{char}} {{user}}")), 3) >= 0.3
        assert entry["step"] == "from-passage" and entry["options"]["min_grounding"] == 0.3 and entry["variants"] == 2
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "Name: Mira" in prompt and "Write in English" in prompt
    assert any(json.dumps(p["text"], ensure_ascii=False) in prompt for p in passages)
    assert (tmp_path / "dataset_info.json").exists() and "from-passage" in (tmp_path / "README.md").read_text()


def test_an_ungrounded_answer_goes_back_with_the_reason(tmp_path):
    off_topic = {"turns": [{"role": "user", "content": "Tell me a story."}, {"role": "assistant", "content": "Dragons once ruled the northern mountains, breathing violet fire."}]}

    def responder(body):
        return Reply(json.dumps(off_topic)) if len(body["messages"]) == 2 else answer(body)

    source = tmp_path / "bell.md"
    source.write_text("# The Bell\n\nThe Tide Bell hangs at the end of the breakwater. The watch rings it three times at high water.\n")
    with ScriptedLLM(responder=responder) as llm:
        done, out = from_text(llm, tmp_path, "--persona", "mira", "--per-passage", "1", "--turns", "2", source=source)
    assert done.returncode == 0, done.stderr.decode()
    retry = llm.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": json.dumps(off_topic)}
    assert retry[-1]["content"].startswith(
        "That answer was rejected: the character's turns are not grounded in the passage: 0% of their content words come from it, at least 30% are needed"
    )
    (record,) = read_records(out)
    assert record["provenance"]["chain"][0]["facts"]["grounding"] >= 0.3


def test_a_passage_with_no_good_answer_is_rejected_with_its_location_and_the_reason(tmp_path):
    def responder(body):
        said = "*yawns* Wizards and dragons ruled the northern mountains, breathing violet fire under the moonlight."
        return Reply(json.dumps({"turns": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": said}]}))

    with ScriptedLLM(responder=responder) as llm:
        done, out = from_text(llm, tmp_path, "--persona", "mira", "--per-passage", "1", "--turns", "2", "--on-error", "skip", source=INN, out_name="inn.jsonl")
    assert done.returncode == 1  # nothing written
    rejects = read_records(tmp_path / "inn.jsonl.rejects.jsonl")
    assert [r["location"] for r in rejects] == [f"{INN}:5", f"{INN}:13"]
    assert all("the answer is in English, not Chinese" in r["reason"] for r in rejects)  # judged in the passage's language first
    assert len(llm.requests) == 2 * 3


def test_recitation_and_a_wrong_language_are_sent_back(tmp_path):
    passage = "Visiting ships tie up at the Long Quay, east of the fish market. A berth costs four silver a night for a ship with one mast and seven silver for a ship with two or more masts, paid before sunset."
    recited = {"turns": [{"role": "user", "content": "What does a berth cost?"}, {"role": "assistant", "content": passage}]}
    spanish = {"turns": [{"role": "user", "content": "¿Cuánto cuesta un amarre?"}, {"role": "assistant", "content": "Un amarre en el muelle largo cuesta cuatro monedas de plata por noche para un barco de un mástil."}]}
    answers = iter([recited, spanish])

    def responder(body):
        return Reply(json.dumps(next(answers))) if len(body["messages"]) < 6 else answer(body)

    source = tmp_path / "fees.md"
    source.write_text(f"## Fees\n\n{passage}\n")
    with ScriptedLLM(responder=responder) as llm:
        done, out = from_text(llm, tmp_path, "--persona", "mira", "--per-passage", "1", "--turns", "2", source=source)
    assert done.returncode == 0, done.stderr.decode()
    reasons = [r["messages"][-1]["content"] for r in llm.requests[1:]]
    assert "the character's turn 1 recites the passage word for word" in reasons[0]
    assert "the answer is in Spanish, not English" in reasons[1]
    assert len(read_records(out)) == 1


def test_variants_take_different_angles_and_the_same_seed_gives_the_same_bytes(server, tmp_path):
    first, out1 = from_text(server, tmp_path, "--persona", "林霜", "--per-passage", "3", "--seed", "3", "--no-cache", source=INN, out_name="a.jsonl")
    second, out2 = from_text(server, tmp_path, "--persona", "林霜", "--per-passage", "3", "--seed", "3", "--no-cache", source=INN, out_name="b.jsonl")
    assert first.returncode == 0 and second.returncode == 0, first.stderr.decode() + second.stderr.decode()
    assert out1.read_bytes() == out2.read_bytes()
    angles = {r["provenance"]["chain"][0]["facts"]["angle"] for r in read_records(out1)}
    assert len(angles) == 3
    prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert len(prompts) == 12 and all("Write in Chinese" in p for p in prompts) and len(set(prompts)) == 6  # 2 passages x 3 angles, twice
    assert read_records(out1)[0]["system"].splitlines()[1].startswith("林霜的性格：")


def test_from_passage_runs_in_a_chain_too(server, tmp_path):
    out = tmp_path / "chain.jsonl"
    done = run_cli(
        "run", str(HARBOR), "--from", "passages", "--to", "sharegpt", "--no-originals", "-o", str(out), "--model", "openai/fake-rp", "--api-base", server.url,
        "--personas", PERSONAS, "from-passage", "--persona", "Mira", "--turns", "2", "context-extension",
        env={"AUGMENT_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr.decode()
    records = read_records(out)
    assert records and all([e["step"] for e in r["provenance"]["chain"]] == ["from-passage", "context-extension"] for r in records)
    assert all(len(r["conversations"]) == 2 and "\n\n" in r["system"] for r in records)


def test_the_step_keeps_the_promises_of_every_step_on_passages(server):
    text = HARBOR.read_text(encoding="utf-8")
    convs = []
    for loc, rec in PASSAGES.read(io.BytesIO(text.encode()), "harbor.md"):
        conv = PASSAGES.decode(rec)
        conv.turns.insert(0, Turn("system", "You are Mira, keeper of the Drowned Lantern in Saltmere."))
        conv.location = loc
        convs.append(conv)
    client = LLMClient(ModelSettings("openai/fake", server.url, concurrency=4))
    check_augmenter(REG.augmenters["from-passage"], {"turns": 2}, convs=convs, client=client)
    rows = run_augmenter(REG.augmenters["from-passage"], convs, client=client, options={"turns": 2})
    assert all(v.system == "You are Mira, keeper of the Drowned Lantern in Saltmere." for row in rows for v in variants(row))


# -- what cannot work is said before anything is asked -------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--from-text needs the character who speaks: add --persona NAME"),
        (["--persona", "nobody"], "no persona 'nobody' in the personas folder (known: juniper, lin-shuang, mira, okafor)"),
        (["--persona", "mira", "--n", "3"], "--n goes with a TEMPLATE, not with --from-text"),
        (["--persona", "mira", "--turns", "3"], "--turns must be even"),
    ],
    ids=["no-persona", "unknown-persona", "template-option", "odd-turns"],
)
def test_what_cannot_work_stops_before_any_request(server, tmp_path, args, message):
    done, out = from_text(server, tmp_path, *args)
    assert done.returncode in (1, 2) and message in done.stderr.decode(), done.stderr.decode()
    assert server.requests == [] and not out.exists()


def test_the_command_line_says_what_is_missing(tmp_path):
    no_model = run_cli("generate", "--from-text", str(HARBOR), "--persona", "mira", "-o", str(tmp_path / "o.jsonl"))
    assert no_model.returncode == 2 and "--from-text has a model write the conversations: add --model MODEL" in no_model.stderr.decode()
    nothing = run_cli("generate", "-o", str(tmp_path / "o.jsonl"))
    assert nothing.returncode == 2 and "give a TEMPLATE to render, or --from-text FILE_OR_FOLDER" in nothing.stderr.decode()
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("# A\n\nSome text about the harbor and its bell, long enough.\n")
    (tmp_path / "book" / "cover.png").write_bytes(b"\x89PNG")
    folder = run_cli("generate", "--from-text", str(tmp_path / "book"), "--persona", "mira", "--model", "openai/x", "-o", str(tmp_path / "o.jsonl"))
    assert folder.returncode == 2 and f"and these are not: {tmp_path / 'book' / 'cover.png'}; name the files with a glob" in folder.stderr.decode()
    wrong = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(tmp_path / "w.jsonl"), "--model", "openai/x", "--api-base", "http://127.0.0.1:9/v1", "from-passage", "--turns", "2")
    assert wrong.returncode == 1
    assert f"Error: from-passage works on passages ({SAMPLES / 'tavern.sharegpt.jsonl'}:1): read text with --from passages" in wrong.stderr.decode()


def test_dry_run_counts_the_requests(server, tmp_path):
    done, out = from_text(server, tmp_path, "--persona", "mira", "--per-passage", "3", "--dry-run")
    assert done.returncode == 0, done.stderr.decode()
    n = len(cut(HARBOR.read_text(encoding="utf-8")))
    assert f"dry run: {n} record(s), {3 * n} request(s) to openai/fake-rp at least" in done.stdout.decode()
    assert server.requests == [] and not out.exists()
