"""Checks any plugin can run on itself: the promises every augmenter, format
and filter must keep. Each ``check_*`` raises AssertionError naming every
promise broken, so a plugin's own test is one line:

    def test_conforms():
        check_augmenter(MyAugmenter, {"rate": 0.3})
"""

from __future__ import annotations

import copy
import json
import pickle
from importlib import resources
from typing import Any, Iterable

from augment.engine.augmenters import Augmenter
from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Location
from augment.engine.augmenters import Resources
from augment.engine.chain import Engine, Step
from augment.engine.fate import Dropped, Failed, Fate, Kept, Restored, Skipped
from augment.errors import Unrepresentable
from augment.engine.filters import Filter, FilterContext
from augment.dataio.formats import Format
from augment.engine.protect import Protector
from augment.dataio.streams import dumps, loads


def conversations() -> list[Conversation]:
    """A small corpus for plugin tests: English role-play full of protected
    spans (actions, directions, names, numbers, e-mail, URL, placeholders),
    an assistant-first greeting, named speakers, and a Chinese conversation."""
    from augment_plugins.sharegpt import ShareGPT

    fmt = ShareGPT()
    text = resources.files("augment.testing").joinpath("data/conversations.jsonl").read_text(encoding="utf-8")
    out = []
    for line_no, line in enumerate(text.splitlines(), 1):
        conv = fmt.decode(json.loads(line))
        conv.location = Location("augment.testing/conversations.jsonl", line_no)
        out.append(conv)
    return out


def is_chinese(conv: Conversation) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for t in conv.dialogue for ch in t.content)


def run_augmenter(
    augmenter: Augmenter | type[Augmenter],
    convs: Iterable[Conversation] | None = None,
    *,
    seed: int = 0,
    variants: int = 1,
    roles: tuple[str, ...] | None = None,
    options: dict[str, Any] | None = None,
    keep_originals: bool = False,
    client: Any = None,
) -> list[list[Fate]]:
    """Run one step over conversations as ``augment run`` would: per
    conversation, the fates (:class:`Kept` variants, and what was
    :class:`Dropped`, :class:`Skipped` or :class:`Failed`, and why).
    ``client``: an ``augment.model.client.LLMClient`` for steps that ask a model."""
    if isinstance(augmenter, type):
        augmenter = augmenter(resources=Resources(client), **(options or {}))
    engine = Engine([Step(augmenter, variants, roles)], seed=seed, keep_originals=keep_originals, protector=Protector())
    engine.setup()
    items = list(convs if convs is not None else conversations())
    return engine.expand_batch([(conv, i, None) for i, conv in enumerate(items)])


def variants(row: list[Fate]) -> list[Conversation]:
    """The conversations a step kept for one record."""
    return [f.conversation for f in row if isinstance(f, Kept)]


def _texts(outcomes: list[list[Fate]]) -> list[list[Any]]:
    return [[f.conversation.text_key() if isinstance(f, Kept) else f for f in row] for row in outcomes]


def check_augmenter(
    cls: type[Augmenter], options: dict[str, Any] | None = None, convs: list[Conversation] | None = None, client: Any = None
) -> None:
    """Same seed, same output; protected spans survive; provenance is there;
    roles not chosen stay untouched; languages it does not handle pass
    through; the input is never changed; it can go to a worker process.
    Give a ``client`` (an LLMClient on the ``llm_server``) for model steps."""
    options = options or {}
    corpus = convs if convs is not None else conversations()
    before = copy.deepcopy(corpus)
    failures: list[str] = []

    first = run_augmenter(cls, corpus, seed=11, variants=2, options=options, client=client)
    again = run_augmenter(cls, corpus, seed=11, variants=2, options=options, client=client)
    if _texts(first) != _texts(again):
        failures.append("the same seed gave different output")
    if [c.text_key() for c in corpus] != [c.text_key() for c in before]:
        failures.append("augment() changed the conversation it was given")

    made = [conv for row in first for conv in variants(row)]
    if not made:
        failures.append("no variant at all on the test corpus")
    for row in first:
        for o in row:
            if isinstance(o, Failed):
                failures.append(f"raised on a test conversation: {o.reason}")
            elif isinstance(o, (Dropped, Restored)) and "protected span" in o.reason:
                failures.append(f"broke a protected span: {o.reason}")
            elif isinstance(o, Dropped) and "may not touch" in o.reason:
                failures.append(f"changed a turn it was not given: {o.reason}")
    for conv in made:
        prov = conv.provenance or {}
        chain = prov.get("chain") or []
        if not prov.get("source") or prov.get("seed") != 11 or not chain or chain[-1].get("step") != cls.name:
            failures.append(f"provenance missing or wrong: {prov!r}")
            break

    only_user = run_augmenter(cls, corpus, seed=3, roles=(USER,), options=options, client=client)
    for source, row in zip(corpus, only_user):
        for conv in variants(row):
            for old, new in zip(source.turns, conv.turns):
                if old.role in (ASSISTANT, SYSTEM) and old != new:
                    failures.append(f"--roles user changed a {old.role} turn")
                    break

    languages = cls(resources=Resources(client), **options).handled_languages()  # options may widen it (backtranslate --model)
    if languages is not None and "zh" not in languages:
        for source, row in zip(corpus, first):
            if is_chinese(source):
                if variants(row):
                    failures.append("changed a Chinese conversation though it does not handle Chinese")
                if not any(isinstance(o, Skipped) for o in row):
                    failures.append("Chinese turns passed over were not counted")

    try:
        pickle.loads(pickle.dumps(cls(**options)))
    except Exception as exc:  # noqa: BLE001
        failures.append(f"cannot be sent to a worker process (pickle): {exc}")

    if failures:
        raise AssertionError(f"augmenter {cls.name!r}:\n- " + "\n- ".join(dict.fromkeys(failures)))


def check_format(fmt: Format, convs: list[Conversation] | None = None) -> None:
    """Every conversation the format can hold comes back the same through
    encode, JSON and decode; what it cannot hold is refused, not mangled."""
    failures: list[str] = []
    held = 0
    for conv in convs if convs is not None else conversations():
        try:
            record = fmt.encode(conv)
        except Unrepresentable:
            continue
        held += 1
        back = fmt.decode(loads(dumps(record)))
        if [(t.role, t.content, t.name) for t in back.turns] != [(t.role, t.content, t.name) for t in conv.turns]:
            failures.append(f"turns changed in a round trip (record {conv.location})")
        if back.extra != conv.extra:
            failures.append(f"record fields changed in a round trip: {conv.extra!r} -> {back.extra!r}")
        if fmt.encode(back) != record:
            failures.append(f"encode(decode(record)) is not the record (record {conv.location})")
    if fmt.writable and not held:
        failures.append("held none of the test conversations")
    if failures:
        raise AssertionError(f"format {fmt.name!r}:\n- " + "\n- ".join(dict.fromkeys(failures)))


def check_filter(cls: type[Filter], options: dict[str, Any] | None = None, convs: list[Conversation] | None = None) -> None:
    """The same records give the same verdicts after ``start()``, and a
    verdict is a reason (a non-empty string) or None."""
    corpus = convs if convs is not None else conversations()
    failures: list[str] = []

    def verdicts() -> list[Any]:
        flt = cls(**(options or {}))
        flt.start()
        return [flt.check(c, FilterContext(c, i, True)) for i, c in enumerate(corpus)]

    first = verdicts()
    if first != verdicts():
        failures.append("the same records gave different verdicts after start()")
    for v in first:
        if v is not None and not (isinstance(v, str) and v.strip()):
            failures.append(f"a verdict must be None or a reason, got {v!r}")
    if failures:
        raise AssertionError(f"filter {cls.name!r}:\n- " + "\n- ".join(dict.fromkeys(failures)))
