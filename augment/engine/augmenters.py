"""What an augmenter is, for the core and for plugin authors.

An augmenter is a class with a ``name``, a one-line ``summary``, the
``options`` it takes, the ``roles`` it touches by default and the
``languages`` it handles. The engine makes one instance per step with the
user's options and calls :meth:`Augmenter.augment` once per variant, each time
with a fresh, seeded random generator in the :class:`StepContext`.

Most augmenters rewrite text turn by turn: subclass :class:`TextAugmenter` and
write ``augment_text``. It is only ever given text outside protected spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from augment.conversation import ASSISTANT, USER, Conversation
from augment.errors import UsageError

if TYPE_CHECKING:
    import random

    from augment.engine.protect import Protector


@dataclass(frozen=True)
class Option:
    """One option of an augmenter; ``--name-with-dashes`` on the command line."""

    name: str
    type: Any = str
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    #: A check on the value: a callable returning an error message or None.
    check: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def between(low: float, high: float):
    """An ``Option.check`` that a number lies in ``[low, high]``."""

    def check(value: float) -> str | None:
        if not low <= value <= high:
            return f"must be between {low} and {high}, got {value}"
        return None

    return check


@dataclass
class StepContext:
    """What the engine hands an augmenter for one variant of one record."""

    rng: random.Random
    #: Roles this step may change.
    roles: tuple[str, ...]
    protector: Protector
    #: A seed derived from ``--seed``, the record and the step, for libraries
    #: that want an integer rather than a ``random.Random``.
    seed: int
    #: Indices of the turns this step may change: in ``roles`` and in a
    #: language the augmenter handles. The engine rejects a variant that
    #: changes any other turn.
    turns: frozenset[int] = frozenset()
    #: The conversation's language (ISO 639-1), when the step asked for languages.
    language: str | None = None
    #: Which of the step's ``--variants`` this is (0, 1, ...).
    variant: int = 0
    #: The character the record is linked to (a :class:`Persona`), if any.
    persona: Any = None
    #: What the step says about this variant (the passage it drew on, a
    #: score): the engine writes it into the variant's entry of the
    #: provenance chain as ``facts``.
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Resources:
    """What the run hands a step at construction: the model client (for steps
    whose :meth:`Augmenter.needs_model` says so) and the personas folder."""

    #: An :class:`augment.model.client.LLMClient`, or None.
    client: Any = None
    #: Every persona of the run's personas folder, by id.
    personas: dict[str, Any] = field(default_factory=dict)


class Configurable:
    """Something with a name, a summary and options the user sets: the base
    of augmenters and filters. ``self.values`` holds every option's value."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, resources: Resources | None = None, **values: Any) -> None:
        self.values: dict[str, Any] = self.resolve(values)
        self.resources = resources if resources is not None else Resources()

    @classmethod
    def resolve(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Every option's value (defaults filled in), checked; raise
        UsageError naming the option and what is wrong."""
        known = {o.name: o for o in cls.options}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise UsageError(f"{cls.name}: unknown option {', '.join(unknown)}")
        out: dict[str, Any] = {}
        for opt in cls.options:
            value = values.get(opt.name, opt.default)
            if value is not None and opt.check is not None:
                problem = opt.check(value)
                if problem:
                    raise UsageError(f"{cls.name} {opt.flag} {problem}")
            out[opt.name] = value
        return out

    def list_file(self, option: str) -> list[str]:
        """The items of the file an option names: one a line, blank lines and
        ``#`` comments left out (scenes, situations ...)."""
        from pathlib import Path

        path = self.values.get(option)
        if not path:
            return []
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"{self.name} --{option.replace('_', '-')} {path}: {exc.strerror}") from None
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


class Augmenter(Configurable):
    #: The roles touched when the user does not say ``--roles``.
    roles: ClassVar[tuple[str, ...]] = (USER, ASSISTANT)
    #: ISO 639-1 codes handled, or None for any language.
    languages: ClassVar[frozenset[str] | None] = None
    #: True to be told the conversation's language (``context.language``)
    #: even when ``languages`` is None (model steps check their answers' language).
    wants_language: ClassVar[bool] = False
    #: True when the step may put a system prompt before a conversation that
    #: has none (when ``system`` is in its roles): the engine then checks the
    #: other turns one place on (context-extension).
    adds_system: ClassVar[bool] = False
    #: Kinds of protected span this augmenter may change (see ``protect.KINDS``;
    #: ``protect.ALL`` for one that writes new text, like new-dialogue).
    rewrites: ClassVar[frozenset[str]] = frozenset()
    #: Records the engine hands ``augment_many`` at once (a hint; larger when
    #: a batch call has a fixed cost, like starting a process).
    batch_size: ClassVar[int] = 64
    #: What the step needs on the machine that runs it, beyond the Python
    #: packages: ``wordnet``, ``apertium:eng-spa``, ``command:NAME``,
    #: ``python:MODULE``, ``file:PATH``. Checked on every node before a run on
    #: a cluster (``--executor ray``); :meth:`requirements` may depend on options.
    requires: ClassVar[tuple[str, ...]] = ()

    def requirements(self) -> tuple[str, ...]:
        """What this instance needs (its options may change it: ``--via``)."""
        return self.requires

    @classmethod
    def check_requirement(cls, requirement: str) -> str | None:
        """Why ``requirement`` is not met on this machine, or None. Knows
        ``command:``, ``python:`` and ``file:``; a step declaring other names
        overrides this for them."""
        return check_requirement(requirement)

    @classmethod
    def needs_model(cls, values: dict[str, Any]) -> bool:
        """True when this step, with these option values, asks a language
        model: the run then hands it a client in ``self.resources.client``."""
        return False

    @classmethod
    def describe_languages(cls) -> str:
        """The languages handled, for ``augment augmenters`` and ``--help``."""
        return "any language" if cls.languages is None else ", ".join(sorted(cls.languages))

    def handled_languages(self) -> frozenset[str] | None:
        """The languages this instance handles (its options may widen ``languages``)."""
        return self.languages

    def setup(self) -> None:
        """Load models or data once per process, before any record. The engine
        calls it before starting worker processes, so they share what it loads."""

    def augment(self, conversation: Conversation, context: StepContext) -> Conversation:
        """Return a new conversation; never change the one given."""
        raise NotImplementedError

    def augment_many(self, items: list[tuple[Conversation, StepContext]]) -> list[Conversation | Exception]:
        """Augment a batch; override it when one call for many is cheaper
        (one external process for a batch, say). Each item's result must
        depend on that item alone. An exception is returned in its item's
        place, to reject that record only."""
        out: list[Conversation | Exception] = []
        for conversation, context in items:
            try:
                out.append(self.augment(conversation, context))
            except Exception as exc:  # noqa: BLE001 - a plugin bug costs one record
                out.append(exc)
        return out


def check_requirement(requirement: str) -> str | None:
    """The generic requirements: ``command:NAME`` (on PATH), ``python:MODULE``
    (importable) and ``file:PATH`` (exists)."""
    import importlib.util
    import os
    import shutil

    kind, _, what = requirement.partition(":")
    if kind == "command" and what:
        return None if shutil.which(what) else f"no command {what!r} on PATH"
    if kind == "python" and what:
        try:
            found = importlib.util.find_spec(what) is not None
        except (ImportError, ValueError):
            found = False
        return None if found else f"the Python module {what!r} is not installed"
    if kind == "file" and what:
        return None if os.path.exists(what) else f"no file {what}"
    return f"unknown requirement {requirement!r} (a step that declares it must check it: override check_requirement)"


class TextAugmenter(Augmenter):
    """An augmenter that rewrites the free text of each chosen turn."""

    def augment_text(self, text: str, rng: random.Random) -> str:
        raise NotImplementedError

    def augment(self, conversation: Conversation, context: StepContext) -> Conversation:
        out = conversation.copy()
        for i in sorted(context.turns):
            out.turns[i].content = context.protector.map_free(
                out.turns[i].content, lambda text: self.augment_text(text, context.rng)
            )
        return out
