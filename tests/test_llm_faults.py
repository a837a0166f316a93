"""Model steps against a server that answers and fails the way vLLM,
llama.cpp, Ollama and hosted APIs do: answers wrapped in fences, prose and
reasoning, JSON with trailing commas or single quotes, answers cut at
max_tokens, context-length 400s, a server that is down or dies, several
endpoints, keys. Every run is the real CLI and the real litellm client over
HTTP to a scripted server on 127.0.0.1, run in this process (litellm is
imported once): every input record is written or rejected with its reason,
the client's request count is the server's, and the exit status is the one
a user needs."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, read_records
from fake_model import answer

from augment.cli import main
from augment.testing import Reply, ScriptedLLM
from augment.testing.llm_server import STYLES, styled, unused_url

TAVERN = SAMPLES / "tavern.sharegpt.jsonl"
WUXIA = SAMPLES / "wuxia.sharegpt.jsonl"
KEY = "sk-test-PROVIDER-DEFAULT-KEY-0987654321"


def cli(*args: str, env: dict | None = None):
    """``augment ARGS`` in this process: (exit status, stdout, stderr)."""
    full = {"OPENAI_API_KEY": KEY}
    full.update(env or {})
    result = CliRunner().invoke(main, list(args), env=full, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def model_run(tmp_path, api_base, *args, source=TAVERN, out="out.jsonl", model="openai/fake-rp", env=None):
    bases = [api_base] if isinstance(api_base, str) else list(api_base)
    flags = [x for base in bases for x in ("--api-base", base)]
    output = tmp_path / out
    code, stdout, stderr = cli("run", str(source), "-o", str(output), "--model", model, *flags, "--cache-dir", str(tmp_path / "cache"), "--seed", "5", *args, env=env)
    return code, stderr, output


def sent(stderr: str) -> int:
    """The request count the run reported."""
    return int(re.search(r"model \S+: (\d+) request\(s\)", stderr).group(1))


def first_lines(tmp_path: Path, n: int, source: Path = TAVERN, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(source.read_text().splitlines(keepends=True)[:n]))
    return path


# -- structured output and lenient reading ----------------------------------------------


@pytest.mark.parametrize("style", [s for s in STYLES if s != "plain"])
def test_every_common_answer_style_is_read_without_a_second_request(tmp_path, style):
    with ScriptedLLM(responder=answer, style=style) as llm:
        code, err, out = model_run(tmp_path, llm.url, "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 4))
        assert code == 0, err
        assert len(llm.requests) == 4 == sent(err)  # one request a record: nothing re-asked
    records = read_records(out)
    assert len(records) == 8
    for extended in records[1::2]:
        added = extended["conversations"][-2:]
        assert [m["from"] for m in added] == ["human", "gpt"]
        assert all(not re.search(r"[{}]|think>|```", m["value"]) for m in added)


def test_the_schema_goes_out_as_response_format_and_in_the_prompt(tmp_path):
    with ScriptedLLM(responder=answer) as llm:
        code, err, _ = model_run(tmp_path, llm.url, "dialogue-extension", "--turns", "3", source=first_lines(tmp_path, 1))
        assert code == 0, err
        body = llm.requests[0]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    turns = fmt["json_schema"]["schema"]["properties"]["turns"]
    assert turns["minItems"] == turns["maxItems"] == 3
    assert turns["items"]["properties"]["role"]["enum"] == ["user", "assistant"]
    assert json.dumps(fmt["json_schema"]["schema"], separators=(", ", ": ")) in body["messages"][-1]["content"]


@pytest.mark.parametrize("takes,used", [(("json_object", "text"), "json_object"), (("text",), "none")])
def test_a_server_that_refuses_json_schema_is_asked_again_with_less(tmp_path, takes, used):
    with ScriptedLLM(responder=answer, response_formats=takes) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--concurrency", "1", "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 3))
        assert code == 0, err
        assert len(llm.requests) == sent(err)
        refused = [r for r, status in zip(llm.requests, llm.statuses) if status == 400]
        assert refused and all(r["response_format"]["type"] not in takes for r in refused)
        assert f"structured output: {used} (the server refused" in err
        made = len(llm.requests)
        code, err, again = model_run(tmp_path, llm.url, "--concurrency", "1", "dialogue-extension", "--turns", "2", source=tmp_path / "in.jsonl", out="again.jsonl")
        assert code == 0 and len(llm.requests) == made  # the refusals were cached too: nothing asked
    assert len(read_records(out)) == 6
    assert again.read_bytes() == out.read_bytes()


def test_extra_body_reaches_the_server(tmp_path):
    with ScriptedLLM(responder=answer) as llm:
        code, err, _ = model_run(tmp_path, llm.url, "--extra-body", '{"chat_template_kwargs": {"enable_thinking": false}}', "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 2))
        assert code == 0, err
    assert all(r["chat_template_kwargs"] == {"enable_thinking": False} for r in llm.requests)
    code, _, err = cli("run", str(TAVERN), "-o", str(tmp_path / "x.jsonl"), "--model", "openai/x", "--extra-body", "{nope", "dialogue-extension")
    assert code == 2 and "--extra-body: not JSON" in err


def test_what_is_still_wrong_is_asked_again_with_the_reason(tmp_path):
    replies = iter([Reply('{"turns": [{"role": "user", "content": "He said \\"hi'), Reply("no JSON here at all")])

    def responder(body):
        return next(replies, None) or answer(body)

    with ScriptedLLM(responder=responder) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--concurrency", "1", "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 1))
        assert code == 0, err
        assert len(llm.requests) == 3 == sent(err)
        assert "it is cut short or a string in it is not closed" in llm.requests[1]["messages"][-1]["content"]
        assert llm.requests[2]["messages"][-1]["content"].startswith("That answer was rejected: the answer has no JSON object.")
    assert len(read_records(out)) == 2


# -- faults about one request --------------------------------------------------------------


def long_record(tmp_path: Path, turns: int = 24, name: str = "long.jsonl") -> Path:
    """Three ordinary records and, on line 4, one with a long history."""
    lines = TAVERN.read_text().splitlines()[:3]
    talk = [{"from": "human" if i % 2 == 0 else "gpt", "value": f"Turn {i}: " + "the harbour bells rang again over the grey water, and nobody moved " * 4} for i in range(turns)]
    path = tmp_path / name
    path.write_text("\n".join(lines + [json.dumps({"conversations": talk})]) + "\n")
    return path


def test_a_context_length_400_drops_that_variant_with_the_reason_and_the_run_goes_on(tmp_path):
    source = long_record(tmp_path)
    with ScriptedLLM(responder=answer, context_length=3000) as llm:
        code, err, out = model_run(tmp_path, llm.url, "dialogue-extension", "--turns", "2", source=source)  # --on-error fail
        assert code == 0, err
        assert len(llm.requests) == 4 == sent(err)  # the refused request is not retried
        assert llm.statuses.count(400) == 1
    assert len(read_records(out)) == 7  # 4 originals, 3 extensions
    assert f"dropped 1 variant(s): the server refused the request for {source}:4: 400: This model's maximum context length is 3000 tokens" in err
    assert "1 request(s) refused by the server" in err
    # with no originals, that record is rejected with file:line and the server's reason
    with ScriptedLLM(responder=answer, context_length=3000) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--no-originals", "--on-error", "skip", "--no-cache", "dialogue-extension", "--turns", "2", source=source, out="skip.jsonl")
        assert code == 0, err
    assert len(read_records(out)) == 3
    rejects = read_records(tmp_path / "skip.jsonl.rejects.jsonl")
    assert [r["location"] for r in rejects] == [f"{source}:4"]
    assert "maximum context length is 3000 tokens" in rejects[0]["reason"]
    assert f"{source}:4: no output for this record" in err


def test_a_prompt_too_long_for_max_context_is_trimmed_where_the_step_allows_else_not_sent(tmp_path):
    source = long_record(tmp_path)
    with ScriptedLLM(responder=answer, context_length=2000) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--max-context", "2000", "--max-tokens", "256", "dialogue-extension", "--turns", "2", source=source)
        assert code == 0, err
        assert set(llm.statuses) == {200} and len(llm.requests) == 4 == sent(err)
        # requests arrive in any order (several in flight): the long record's is the longest
        long_prompt = max((r["messages"][-1]["content"] for r in llm.requests), key=len)
    assert "Turn 23:" in long_prompt and "Turn 0:" not in long_prompt  # the oldest turns left out
    records = read_records(out)
    assert len(records) == 8 and len(records[7]["conversations"]) == 26  # the output keeps the whole history
    # scene-transfer rewrites every turn: it cannot leave any out, and sends nothing for that record
    with ScriptedLLM(responder=answer, context_length=2000) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--max-context", "2000", "--max-tokens", "256", "scene-transfer", "--scene", "a lighthouse", source=source, out="scene.jsonl")
        assert code == 0, err
        assert len(llm.requests) == 3 == sent(err)
    assert f"dropped 1 variant(s): the prompt for {source}:4 does not fit the model's context" in err
    assert "1 prompt(s) too long for the model's context: not sent" in err


def test_a_content_policy_refusal_drops_the_variant(tmp_path):
    def responder(body):
        if "Mira" in body["messages"][-1]["content"]:
            return Reply(status=400, raw=json.dumps({"error": {"message": "Your request was rejected as a result of our safety system.", "code": "content_policy_violation"}}).encode())
        return answer(body)

    with ScriptedLLM(responder=responder) as llm:
        code, err, out = model_run(tmp_path, llm.url, "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 6))
        assert code == 0, err
        assert len(llm.requests) == sent(err) == 6
    assert "the server refused the request for" in err and "safety system" in err


# -- cut answers, counts, cost, cache ----------------------------------------------------------


def test_a_cut_answer_is_asked_once_more_with_the_limit_counted_costed_and_cached(tmp_path):
    source = first_lines(tmp_path, 4)
    args = ("--max-tokens", "24", "--price-in", "10", "--price-out", "10", "--concurrency", "1", "dialogue-extension", "--turns", "2")
    with ScriptedLLM(responder=answer, cut_at_max_tokens=True) as llm:
        code, err, out = model_run(tmp_path, llm.url, *args, source=source)
        assert code == 0, err
        assert len(llm.requests) == 8 == sent(err)  # each record: cut, then asked with --max-tokens-limit
        assert sorted(r["max_tokens"] for r in llm.requests) == [24] * 4 + [4096] * 4
        assert "4 answer(s) cut at the token limit" in err
        cost = float(re.search(r"cost \$([0-9.]+)", err).group(1))
        assert cost == pytest.approx(8 * 20 * 10e-6 + 4 * (24 + 10) * 10e-6, abs=1e-4)  # every request costed
        again_code, again_err, again = model_run(tmp_path, llm.url, *args, source=source, out="again.jsonl")
        assert again_code == 0 and len(llm.requests) == 8  # all from the cache, the cut answers too
        assert "0 request(s), 8 answered from the cache" in again_err
    assert again.read_bytes() == out.read_bytes()
    assert len(read_records(out)) == 8


def test_an_answer_cut_even_at_the_limit_is_dropped_with_that_reason(tmp_path):
    with ScriptedLLM(responder=answer, cut_at_max_tokens=True) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--max-tokens", "16", "--max-tokens-limit", "20", "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 3))
        assert code == 0, err
        assert len(llm.requests) == 6 == sent(err)
    assert "dialogue-extension: dropped 3 variant(s): the answer was cut off at 20 tokens" in err
    assert len(read_records(out)) == 3


def test_max_cost_is_never_overrun_by_cut_answers(tmp_path):
    with ScriptedLLM(responder=answer, cut_at_max_tokens=True) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--max-tokens", "24", "--max-tokens-limit", "200", "--price-in", "10", "--price-out", "10", "--max-cost", "0.02", "--concurrency", "4", "dialogue-extension", "--turns", "2")
        assert code == 0, err
        assert len(llm.requests) == sent(err)
    cost = float(re.search(r"cost \$([0-9.]+)", err).group(1))
    assert 0 < cost <= 0.02
    assert "--max-cost $0.02 reached" in err


# -- servers that are down, die, or are several -------------------------------------------------


def test_a_server_that_is_down_stops_the_run_at_once_with_a_clear_message(tmp_path):
    base = unused_url()
    code, err, out = model_run(tmp_path, base, "dialogue-extension", "--turns", "2")
    assert code == 1
    assert f"Error: openai/fake-rp at {base} cannot be reached" in err and "is the server running, and is --api-base right?" in err
    assert not out.exists()


def test_a_server_that_dies_mid_run_stops_it_after_a_bounded_wait(tmp_path):
    count = itertools.count(1)

    def responder(body):
        if next(count) == 5:
            llm.kill()
        return answer(body)

    llm = ScriptedLLM(responder=responder).start()
    code, err, out = model_run(tmp_path, llm.url, "--server-wait", "0.5", "--concurrency", "2", "--batch-size", "4", "dialogue-extension", "--turns", "2")
    assert code == 1
    assert "stopped answering" in err and "--resume" in err
    assert not out.exists()


def test_a_missing_v1_gets_a_hint(tmp_path):
    with ScriptedLLM(responder=answer) as llm:
        base = llm.url[: -len("/v1")]
        code, err, _ = model_run(tmp_path, base, "dialogue-extension", source=first_lines(tmp_path, 2))
    assert code == 1
    assert f"try --api-base {base}/v1" in err


def test_several_endpoints_share_the_work_and_give_the_same_bytes(tmp_path):
    with ScriptedLLM(responder=answer) as one:
        code, err, single = model_run(tmp_path, one.url, "dialogue-extension", "--turns", "2", out="one.jsonl")
        assert code == 0, err
    with ScriptedLLM(responder=answer) as a, ScriptedLLM(responder=answer) as b:
        code, err, several = model_run(tmp_path, [a.url, b.url, unused_url()], "--no-cache", "dialogue-extension", "--turns", "2", out="several.jsonl")
        assert code == 0, err
        assert a.requests and b.requests and len(a.requests) + len(b.requests) == 12 == sent(err)
    # the same bytes; the dataset cards say which endpoints served each run
    assert several.read_bytes() == single.read_bytes()
    assert f"`{a.url}`, `{b.url}`" in (tmp_path / "README.md").read_text()


def test_a_router_config_names_the_endpoints_and_their_keys(tmp_path):
    with ScriptedLLM(responder=answer) as a, ScriptedLLM(responder=answer) as b:
        config = tmp_path / "router.yaml"
        config.write_text(
            "model_list:\n"
            f"  - model_name: rp\n    litellm_params: {{model: openai/fake-rp, api_base: {a.url}, api_key: os.environ/RP_KEY_A}}\n"
            f"  - model_name: rp\n    litellm_params: {{model: openai/fake-rp, api_base: {b.url}}}\n"
            "router_settings:\n  routing_strategy: simple-shuffle\n"
        )
        out = tmp_path / "out.jsonl"
        code, _, err = cli("run", str(TAVERN), "-o", str(out), "--model", "rp", "--router-config", str(config), "--no-cache", "dialogue-extension", "--turns", "2", env={"RP_KEY_A": "key-for-a-only-123456"})
        assert code == 0, err
        assert a.requests and b.requests
        assert set(a.authorizations) == {"Bearer key-for-a-only-123456"}
        assert set(b.authorizations) == {"Bearer no-key"}
    assert len(read_records(out)) == 24


# -- keys and the cache ----------------------------------------------------------------------------


def test_a_key_goes_only_to_the_endpoint_it_was_given_for(tmp_path):
    with ScriptedLLM(responder=answer) as llm:
        code, err, _ = model_run(tmp_path, llm.url, "--no-cache", "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 2))
        assert code == 0, err
        assert set(llm.authorizations) == {"Bearer no-key"}  # OPENAI_API_KEY is set, and not sent to this server
        code, err, _ = model_run(tmp_path, llm.url, "--no-cache", "--api-key-env", "RP_SERVER_KEY", "dialogue-extension", "--turns", "2", source=tmp_path / "in.jsonl", env={"RP_SERVER_KEY": "the-server-key-123456"})
        assert code == 0, err
        assert llm.authorizations[2:] == ["Bearer the-server-key-123456"] * 2
    assert KEY not in err and "the-server-key-123456" not in err


def test_the_cache_knows_localhost_and_a_trailing_slash_for_the_same_server(tmp_path):
    with ScriptedLLM(responder=answer) as llm:
        source = first_lines(tmp_path, 3)
        code, err, first = model_run(tmp_path, llm.url, "dialogue-extension", "--turns", "2", source=source)
        assert code == 0 and len(llm.requests) == 3
        code, err, again = model_run(tmp_path, llm.url.replace("127.0.0.1", "localhost") + "/", "dialogue-extension", "--turns", "2", source=source, out="again.jsonl")
        assert code == 0, err
        assert len(llm.requests) == 3 and "0 request(s), 3 answered from the cache" in err
    assert json.loads(again.read_text().splitlines()[1])["conversations"] == json.loads(first.read_text().splitlines()[1])["conversations"]


# -- the whole context in the prompt, and the language check ----------------------------------------


def test_the_record_system_prompt_stays_beside_the_persona_and_speakers_keep_their_names(tmp_path):
    record = {
        "system": "Scene: the Drowned Lantern at closing time. Rule: Mira never tells anyone where the smuggler's key is.",
        "conversations": [
            {"from": "human", "value": "Mira, the usual please.", "name": "Kai"},
            {"from": "gpt", "value": "*slides a mug over* Same as always, Kai.", "name": "Mira"},
            {"from": "human", "value": "And one for me, I'm new here.", "name": "Oren"},
            {"from": "gpt", "value": "*raises an eyebrow* New faces pay first.", "name": "Mira"},
        ],
    }
    source = tmp_path / "scene.jsonl"
    source.write_text(json.dumps(record) + "\n")

    def responder(body):
        return Reply(json.dumps({"turns": [{"role": "user", "name": "Oren", "content": "Fine, here's a coin. Who is Kai?"},
                                           {"role": "assistant", "name": "Mira", "content": "*pockets the coin* A regular. Sit."}]}))

    personas = str(Path(__file__).parent.parent / "personas")
    with ScriptedLLM(responder=responder) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--personas", personas, "dialogue-extension", "--turns", "2", source=source)
        assert code == 0, err
        prompt = llm.requests[0]["messages"][-1]["content"]
        schema = llm.requests[0]["response_format"]["json_schema"]["schema"]
    assert "Name: Mira" in prompt and "never tells anyone where the smuggler's key is" in prompt
    assert '"name": "Kai"' in prompt and '"name": "Oren"' in prompt
    assert schema["properties"]["turns"]["items"]["properties"]["name"]["enum"] == ["Kai", "Oren", "Mira"]
    added = read_records(out)[1]["conversations"][-2:]
    assert [m.get("name") for m in added] == ["Oren", "Mira"]


def test_a_short_english_answer_to_a_chinese_conversation_is_sent_back(tmp_path):
    def responder(body):
        if len(body["messages"]) == 2:
            return Reply(json.dumps({"turns": [{"role": "user", "content": "And then?"}, {"role": "assistant", "content": "We wait."}]}))
        return answer(body)

    with ScriptedLLM(responder=responder) as llm:
        code, err, out = model_run(tmp_path, llm.url, "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 1, WUXIA))
        assert code == 0, err
        assert llm.requests[1]["messages"][-1]["content"].startswith("That answer was rejected: the answer is in another language, not Chinese.")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in read_records(out)[1]["conversations"][-1]["value"])


def mixed_record(tmp_path: Path) -> Path:
    """An English character card over a Chinese chat."""
    record = {
        "system": "You are Lan, a swordswoman who runs a teahouse on the river road. She is curt, loyal and never lies to a guest.",
        "conversations": [
            {"from": "human", "value": "老板娘，今晚还有空房吗？"},
            {"from": "gpt", "value": "（擦着桌子）还有一间，靠河。"},
            {"from": "human", "value": "那就要了。"},
            {"from": "gpt", "value": "先付钱，再上楼。"},
        ],
    }
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def test_a_faithful_rewrite_of_a_mixed_language_record_is_accepted(tmp_path):
    def responder(body):
        prompt = body["messages"][1]["content"]
        if "Rewrite these turns in this style" in prompt:
            return Reply(json.dumps({"turns": ["（擦着桌子）还剩一间，靠河那间，冷得很。", "钱先付，人再上楼。"]}, ensure_ascii=False))
        return Reply(json.dumps({"system": "You are Lan, a swordswoman who runs a lighthouse inn by the sea. She is curt, loyal and never lies to a guest.",
                                 "turns": ["老板娘，今晚灯塔还有空房吗？", "（擦着灯罩）还有一间，朝海。", "那就要了。", "先付钱，再上楼。"]}, ensure_ascii=False))

    source = mixed_record(tmp_path)
    with ScriptedLLM(responder=responder) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--no-originals", "style-transfer", "--style", "cold", source=source)
        assert code == 0, err
        assert len(llm.requests) == 1 and "Write in Chinese" in llm.requests[0]["messages"][-1]["content"]
        code, err, out = model_run(tmp_path, llm.url, "--no-originals", "scene-transfer", "--scene", "a lighthouse", "--roles", "system,user,assistant", source=source, out="scene.jsonl")
        assert code == 0, err
        assert len(llm.requests) == 2
    assert read_records(out)[0]["system"].startswith("You are Lan, a swordswoman who runs a lighthouse inn")


def test_backtranslate_with_a_model_sends_a_wrong_language_answer_back(tmp_path):
    asked = []

    def responder(body):
        prompt = body["messages"][-1]["content"]
        asked.append(prompt)
        if "into English" in prompt and not any("That answer was rejected" in m["content"] for m in body["messages"]):
            texts = json.loads(prompt.split("items).", 1)[1].split("\n\nAnswer with", 1)[0])
            return Reply(json.dumps({"turns": ["我们明天再谈这件事吧，现在太晚了。"] * len(texts)}, ensure_ascii=False))
        return answer(body)

    with ScriptedLLM(responder=responder) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--no-originals", "backtranslate", "--model", "--via", "spa", source=first_lines(tmp_path, 1))
        assert code == 0, err
        assert len(llm.requests) == 3 == sent(err)
        assert "into Spanish" in asked[0]
        assert llm.requests[2]["messages"][-1]["content"].startswith("That answer was rejected: the answer is in Chinese, not English.")
    assert len(read_records(out)) == 1


# -- everything at once ------------------------------------------------------------------------------


def test_a_server_answering_every_way_at_once_accounts_for_every_record(tmp_path):
    styles = itertools.cycle(STYLES)
    source = long_record(tmp_path, turns=40, name="all.jsonl")
    lines = source.read_text().splitlines() + TAVERN.read_text().splitlines()[3:]
    source.write_text("\n".join(lines) + "\n")
    with ScriptedLLM(responder=answer, style=lambda content: styled(content, next(styles)), context_length=3000, cut_at_max_tokens=True) as llm:
        code, err, out = model_run(tmp_path, llm.url, "--no-originals", "--on-error", "skip", "--max-tokens", "40", "--max-tokens-limit", "1024", "--concurrency", "4",
                                   "dialogue-extension", "--turns", "2", source=source)
        assert code == 0, err
        assert len(llm.requests) == sent(err)
    written = read_records(out)
    rejected = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert len(written) + len(rejected) == len(lines) == 13
    assert [r["location"] for r in rejected] == [f"{source}:4"] and "maximum context length" in rejected[0]["reason"]
