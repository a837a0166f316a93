"""The test kit's conformance checks, run over every built-in plugin, and
shown to catch the faults they promise to catch."""

from __future__ import annotations

import pytest

from augment import plugins
from augment.augmenters import Augmenter, TextAugmenter
from augment.testing import check_augmenter, check_filter, check_format, run_augmenter
from augment.testing.conformance import conversations

REG = plugins.load()
BUILTIN = {p.name for p in REG.plugins if p.builtin}
OPTIONS = {"typos": {"rate": 0.5}, "synonym": {"rate": 0.5}}


def builtin(kind: str) -> list[str]:
    owners = REG._owner
    return sorted(name for (k, name), plugin in owners.items() if k == kind and plugin in BUILTIN)


@pytest.mark.parametrize("name", builtin("augmenters"))
def test_builtin_augmenters_conform(name):
    check_augmenter(REG.augmenters[name], OPTIONS.get(name))


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
    assert [o.reason for o in chinese if o.skipped_turns] == ["language zh not handled"]
