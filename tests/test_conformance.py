"""The test kit's conformance checks, run over every built-in plugin, and
shown to catch the faults they promise to catch."""

from __future__ import annotations

import pytest
from fake_model import answer

from augment import plugins
from augment.engine.augmenters import Augmenter, TextAugmenter
from augment.model.client import LLMClient, ModelSettings
from augment.engine.fate import Skipped
from augment.testing import ScriptedLLM, check_augmenter, check_filter, check_format, run_augmenter
from augment.testing.conformance import conversations

REG = plugins.load()
BUILTIN = {p.name for p in REG.plugins if p.builtin}
OPTIONS = {"typos": {"rate": 0.5}, "synonym": {"rate": 0.5}}


def builtin(kind: str) -> list[str]:
    owners = REG._owner
    return sorted(name for (k, name), plugin in owners.items() if k == kind and plugin in BUILTIN)


MODEL_OPTIONS = {
    "dialogue-extension": {"turns": 2},
    "style-transfer": {"style": "terse noir detective"},
    "scene-transfer": {"scene": "a rainy night market"},
    "new-dialogue": {"axes": "mood=tired,cheerful; place=harbor,market", "turns": 4},
    "context-extension": {},
    "backtranslate-model": {"model": True, "via": "Spanish"},
}


#: Steps checked elsewhere: from-passage works on passages, not on the kit's
#: conversations (tests/test_from_text.py runs check_augmenter on passages).
ELSEWHERE = {"from-passage"}


@pytest.mark.parametrize("name", [n for n in builtin("augmenters") if n not in MODEL_OPTIONS and n not in ELSEWHERE])
def test_builtin_augmenters_conform(name):
    check_augmenter(REG.augmenters[name], OPTIONS.get(name))


@pytest.mark.parametrize("name", sorted(MODEL_OPTIONS))
def test_builtin_model_augmenters_conform_through_the_scripted_server(name):
    with ScriptedLLM(responder=answer) as server:
        client = LLMClient(ModelSettings("openai/fake", server.url, concurrency=4))
        check_augmenter(REG.augmenters[name.replace("-model", "")], MODEL_OPTIONS[name], client=client)
        assert server.requests and all(r["model"] == "fake" for r in server.requests)


def test_every_builtin_augmenter_is_checked():
    model_steps = {n.replace("-model", "") for n in MODEL_OPTIONS}
    assert set(builtin("augmenters")) <= model_steps | ELSEWHERE | {"typos", "synonym", "backtranslate", "restructure"}
    assert {"dialogue-extension", "scene-transfer", "style-transfer", "new-dialogue"} <= set(builtin("augmenters"))


@pytest.mark.parametrize("name", [n for n in builtin("formats") if REG.formats[n].writable])
def test_builtin_formats_conform(name):
    # script, the one input-only format, is read in test_validate_cli
    check_format(REG.formats[name])


@pytest.mark.parametrize("name", builtin("filters"))
def test_builtin_filters_conform(name):
    check_filter(REG.filters[name])


class Leaky(TextAugmenter):
    """Breaks the promises on purpose."""

    name = "leaky"
    calls = 0

    def augment_text(self, text, rng):
        Leaky.calls += 1
        return text.upper() + str(Leaky.calls)  # depends on call order, not the seed


class Greedy(Augmenter):
    name = "greedy"

    def augment(self, conversation, context):
        out = conversation.copy()
        for turn in out.turns:  # ignores context.turns: touches every role
            turn.content = turn.content.replace("*", "") + " indeed"
        return out


def test_the_check_catches_nondeterminism_and_languages():
    with pytest.raises(AssertionError) as err:
        check_augmenter(Leaky)
    assert "the same seed gave different output" in str(err.value)
    assert "changed a Chinese conversation" not in str(err.value)  # languages None: it may


def test_the_check_catches_spans_and_roles():
    with pytest.raises(AssertionError) as err:
        check_augmenter(Greedy)
    text = str(err.value)
    assert "changed a turn it was not given" in text or "broke a protected span" in text


def test_run_augmenter_reports_per_conversation():
    rows = run_augmenter(REG.augmenters["typos"], seed=1, options={"rate": 0.5})
    assert len(rows) == len(conversations())
    chinese = rows[4]
    assert [o.reason for o in chinese if isinstance(o, Skipped)] == ["language zh not handled"]
