"""context-extension: the scene, the character's situation and the
relationship added to the system prompt from the conversation, no turn
changed; every answer checked, through the real client path against the
scripted server on 127.0.0.1. And the two engine rules it needs: a step may
add a system prompt only when it says so, and what a step says about a
variant (``context.facts``) lands in provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES, read_records, run_cli
from fake_model import answer

from augment import SYSTEM, USER, Augmenter, Conversation, Location, Turn, plugins
from augment.model.client import LLMClient, ModelSettings
from augment.testing import Reply, ScriptedLLM, run_augmenter, variants
from augment.engine.fate import Dropped

REG = plugins.load()
STEP = REG.augmenters["context-extension"]
TAVERN = SAMPLES / "tavern.sharegpt.jsonl"
PERSONAS = str(Path(__file__).parent.parent / "personas")


def tavern(n: int = 1) -> list[Conversation]:
    fmt = REG.formats["sharegpt"]
    out = []
    for i, line in enumerate(TAVERN.read_text(encoding="utf-8").splitlines()[:n], 1):
        conv = fmt.decode(json.loads(line))
        conv.location = Location(str(TAVERN), i)
        out.append(conv)
    return out


def ask(responder, convs, **kwargs):
    """The step over ``convs`` through the scripted server: (fates per conversation, requests)."""
    with ScriptedLLM(responder=responder) as llm:
        client = LLMClient(ModelSettings("openai/fake", llm.url, concurrency=2, cache_dir=None))
        rows = run_augmenter(STEP, convs, client=client, seed=4, **kwargs)
        return rows, llm.requests


def test_the_context_is_appended_and_no_turn_changes(tmp_path):
    lines = TAVERN.read_text(encoding="utf-8").splitlines()
    bare = json.loads(lines[0])
    del bare["system"]  # a conversation with no system prompt gets one
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines + [json.dumps(bare)]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with ScriptedLLM(responder=answer) as llm:
        done = run_cli(
            "run", str(source), "-o", str(out), "--no-originals", "--model", "openai/fake-rp", "--api-base", llm.url, "--personas", PERSONAS,
            "context-extension", env={"AUGMENT_CACHE": str(tmp_path / "cache")},
        )
        requests = llm.requests
    assert done.returncode == 0, done.stderr.decode()
    records, sources = read_records(out), read_records(source)
    assert len(records) == len(sources) == 13 and len(requests) == 13
    for old, new in zip(sources, records):
        assert new["conversations"] == old["conversations"]  # every turn as it was
        facts = new["provenance"]["chain"][0]["facts"]
        assert facts["grounding"] >= 0.2 and 0 < facts["added_words"] <= 120
        if "system" in old:
            assert new["system"].startswith(old["system"].rstrip() + "\n\n")  # the old prompt, byte for byte, then the context
            assert new["system"][len(old["system"].rstrip()) + 2 :].strip()
        else:
            assert new["system"] and "\n\n" not in new["system"]
    prompts = [r["messages"][-1]["content"] for r in requests]
    assert sum('(none)' in p and 'second person ("You are ...' in p for p in prompts) == 1
    assert sum("Name: Mira" in p for p in prompts) == 12  # the persona, linked through the system prompt (the bare record has none)


def good(body) -> Reply:
    return answer(body)


BAD = {
    "turns": ({"scene": "The common room.", "situation": "Mira is busy.", "relationship": "A regular.", "turns": ["Hi"]},
              "the answer has 'turns': answer with scene, situation, relationship only; the turns and the system prompt stay as they are"),
    "empty": ({"scene": "The common room of the inn.", "situation": " ", "relationship": "A regular."}, "'situation' must be one or two sentences of text"),
    "ungrounded": ({"scene": "Dragons circle a volcano.", "situation": "Wizards duel above glaciers.", "relationship": "Sworn enemies since childhood."},
                   "it says things the conversation does not show: 0% of its content words come from the conversation, the character's facts or the system prompt, at least 20% are needed"),
    "language": ({"scene": "深夜的酒馆里，风雨交加。", "situation": "她正在擦拭酒杯。", "relationship": "老主顾。"}, "the answer is in Chinese, not English"),
    "leak": ({"scene": "As an AI language model, I imagine the tavern.", "situation": "Mira polishes tankards.", "relationship": "Rhys owes her."},
             "out-of-character or refusal text: 'As an AI language model'"),
    "long": ({"scene": "The storm rattles the tavern shutters. " * 20, "situation": "Mira polishes.", "relationship": "Rhys owes her."},
             "the addition has 125 words; write at most 120"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_answer_goes_back_with_the_reason(case):
    first, reason = BAD[case]

    def responder(body):
        return Reply(json.dumps(first, ensure_ascii=False)) if len(body["messages"]) == 2 else good(body)

    rows, requests = ask(responder, tavern())
    assert len(requests) == 2
    assert requests[1]["messages"][-1]["content"] == f"That answer was rejected: {reason}. Answer again, with the JSON object only."
    (kept,) = variants(rows[0])
    assert kept.dialogue == tavern()[0].dialogue


def test_repeating_the_system_prompt_or_quoting_a_turn_is_sent_back():
    conv = tavern()[0]
    system = conv.system.split()
    turn = next((i, t.content) for i, t in enumerate(conv.turns, 1) if t.role != SYSTEM and len(t.content.split()) >= 12)
    answers = iter([
        {"scene": " ".join(system[:12]), "situation": " ".join(system[12:24]), "relationship": " ".join(system[24:36])},
        {"scene": " ".join(turn[1].split()[:11]), "situation": "A kettle whistles behind the counter.", "relationship": "Old friends who bicker."},
    ])

    def responder(body):
        return Reply(json.dumps(next(answers))) if len(body["messages"]) < 6 else good(body)

    rows, requests = ask(responder, [conv])
    reasons = [r["messages"][-1]["content"] for r in requests[1:]]
    assert reasons[0].startswith("That answer was rejected: it repeats what the system prompt says already")
    assert reasons[1].startswith(f"That answer was rejected: it quotes turn {turn[0]} word for word")
    assert len(variants(rows[0])) == 1


def test_a_chinese_conversation_gets_chinese_context():
    fmt = REG.formats["sharegpt"]
    conv = fmt.decode(json.loads((SAMPLES / "wuxia.sharegpt.jsonl").read_text(encoding="utf-8").splitlines()[0]))
    rows, requests = ask(answer, [conv])
    (kept,) = variants(rows[0])
    added = kept.system[len(conv.system.rstrip()) + 2 :]
    assert "in Chinese" in requests[0]["messages"][-1]["content"]
    assert added and " " not in added and kept.dialogue == conv.dialogue


def test_without_the_system_role_nothing_is_asked():
    rows, requests = ask(answer, tavern(), roles=(USER,))
    assert requests == []
    assert [f.reason for f in rows[0] if isinstance(f, Dropped)] == ["context-extension changes the system prompt only: keep 'system' in --roles"]


# -- the engine's rules behind it ------------------------------------------------------------------
class Prepend(Augmenter):
    """Puts a system prompt before the conversation; optionally changes the first turn too."""

    name = "prepend"
    roles = (SYSTEM,)
    touch_first = False

    def augment(self, conversation, context):
        out = conversation.copy()
        out.turns.insert(0, Turn(SYSTEM, "A quiet night at the inn."))
        if self.touch_first:
            out.turns[1].content += " (changed)"
        context.facts["said"] = "a quiet night"
        return out


class Allowed(Prepend):
    adds_system = True


class Greedy(Allowed):
    touch_first = True


def bare() -> list[Conversation]:
    return [Conversation([Turn(USER, "A room, please."), Turn("assistant", "Three silver.")], location=Location("t.jsonl", 1))]


def test_only_a_step_that_says_so_may_add_a_system_prompt():
    (row,) = run_augmenter(Prepend, bare())
    assert [f.reason for f in row if isinstance(f, Dropped)] == ["no turn this step may change"]
    (row,) = run_augmenter(Allowed, bare())
    (kept,) = variants(row)
    assert kept.system == "A quiet night at the inn." and kept.dialogue == bare()[0].dialogue
    assert kept.provenance["chain"][0]["facts"] == {"said": "a quiet night"}  # what the step said, in provenance
    (row,) = run_augmenter(Greedy, bare())
    assert [f.reason for f in row if isinstance(f, Dropped)] == ["changed turn 1, which this step may not touch"]
    (row,) = run_augmenter(Allowed, [Conversation([Turn(SYSTEM, "Old."), *bare()[0].turns])])
    assert [f.reason for f in row if isinstance(f, Dropped)] == ["changed turn 2, which this step may not touch"]  # a prompt there: only it may change
