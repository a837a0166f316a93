"""The base of augmenters that ask a language model.

A subclass names its prompt template, says what goes into it
(``variables``), checks the parsed answer (``read``: raise VariantRejected
with the reason) and returns the new conversation. The base does the rest:
the persona's facts in the prompt, concurrent requests through the run's
``LLMClient``, the answer checks every model step shares (JSON, empty turns,
language, out-of-character and refusal leaks, protected spans), and one retry
per failed check with the reason told to the model, then the variant is
dropped with that reason.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, ClassVar

from augment.engine.augmenters import Augmenter, Option, Resources, StepContext, between
from augment.conversation import SYSTEM, Conversation
from augment.errors import UsageError, VariantRejected
from augment.engine.languages import detect
from augment.model.leaks import leak
from augment.model.client import LLMClient, estimate_tokens
from augment.corpus.personas import Persona
from augment.model.prompting import PromptTemplate, parse_json

LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "es": "Spanish", "fr": "French", "de": "German", "ru": "Russian", "pt": "Portuguese", "it": "Italian"}
#: Below this many letters a language guess is not trusted.
JUDGEABLE = 40

COMMON_OPTIONS = (
    Option("prompt", str, None, "a prompt template file to use instead of the built-in one"),
    Option("attempts", int, 3, "answers asked for before the variant is dropped", check=between(1, 10)),
)


class LLMAugmenter(Augmenter):
    options: ClassVar[tuple[Option, ...]] = COMMON_OPTIONS
    #: The built-in template, a file in the ``prompts/`` folder beside the subclass's module.
    template: ClassVar[str] = ""
    batch_size: ClassVar[int] = 256
    wants_language: ClassVar[bool] = True

    def __init__(self, resources: Resources | None = None, **values: Any) -> None:
        super().__init__(resources, **values)
        self._template: PromptTemplate | None = None

    def __getstate__(self):
        return {**self.__dict__, "resources": Resources(None, self.resources.personas), "_template": None}

    @classmethod
    def needs_model(cls, values: dict[str, Any]) -> bool:
        return True

    @property
    def client(self) -> LLMClient | None:
        return self.resources.client

    def prompt(self) -> PromptTemplate:
        if self._template is None:
            path = self.values.get("prompt")
            if not path:
                path = Path(inspect.getfile(type(self))).parent / "prompts" / self.template
            self._template = PromptTemplate(Path(path))
        return self._template

    # -- what subclasses write --------------------------------------------------
    def variables(self, conversation: Conversation, context: StepContext, persona: Persona | None) -> dict[str, Any]:
        raise NotImplementedError

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        """The new conversation from a parsed answer; raise VariantRejected with the reason."""
        raise NotImplementedError

    # -- the engine's calls -------------------------------------------------------
    def augment(self, conversation: Conversation, context: StepContext) -> Conversation:
        result = self.augment_many([(conversation, context)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def augment_many(self, items: list[tuple[Conversation, StepContext]]) -> list[Conversation | Exception]:
        if self.client is None:
            raise UsageError(f"{self.name} needs a model: add --model (and --api-base for a local server)")
        return self.client.map(lambda item: self._one(*item), items)

    def messages(self, conversation: Conversation, context: StepContext) -> list[dict[str, str]]:
        values = self.variables(conversation, context, context.persona)
        return self.prompt().render(**values)

    def estimate(self, conversation: Conversation, context: StepContext) -> tuple[int, int]:
        """(requests, prompt tokens) one variant needs at least, for --dry-run."""
        return 1, sum(estimate_tokens(m["content"]) for m in self.messages(conversation, context))

    def _one(self, conversation: Conversation, context: StepContext) -> Conversation:
        def reader(answer: dict[str, Any]) -> Conversation:
            result = self.read(answer, conversation, context)
            self._check_leaks(result, conversation, context)
            return result

        return self.ask(self.messages(conversation, context), context.seed, reader)

    def ask(self, messages: list[dict[str, str]], seed: int, reader):
        """``reader(parsed answer)``; a rejected answer is asked again with the
        reason, up to ``--attempts`` times, then the variant is dropped."""
        assert self.client is not None
        reason = "no answer"
        for attempt in range(self.values["attempts"]):
            text = self.client.complete(messages, seed=seed + attempt)
            try:
                return reader(parse_json(text))
            except VariantRejected as exc:
                reason = str(exc)
            messages = messages + [
                {"role": "assistant", "content": text},
                {"role": "user", "content": f"That answer was rejected: {reason}. Answer again, with the JSON object only."},
            ]
        raise VariantRejected(f"the model's answer was rejected {self.values['attempts']} times; last: {reason}")

    # -- checks every model step shares ---------------------------------------------
    def _check_leaks(self, new: Conversation, old: Conversation, context: StepContext) -> None:
        old_texts = {t.content for t in old.turns}
        for turn in new.turns:
            if turn.content in old_texts or turn.role == SYSTEM:
                continue
            found = leak(turn.content)
            if found:
                raise VariantRejected(f"out-of-character or refusal text: {found!r}")

    def check_language(self, texts: list[str], context: StepContext) -> None:
        """The new text is in the conversation's language."""
        expected = context.language
        joined = "\n".join(texts)
        if not expected or sum(c.isalpha() for c in joined) < JUDGEABLE:
            return
        found = detect(joined)
        if found and found != expected:
            raise VariantRejected(f"the answer is in {language_name(found)}, not {language_name(expected)}")

    def check_spans(self, before: str, after: str, context: StepContext) -> None:
        lost = context.protector.missing(before, after, self.rewrites)
        if lost:
            raise VariantRejected(f"protected span {lost[0]!r} is missing; keep it exactly as written")


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code or "", code or "the conversation's language")


def dialogue_json(conversation: Conversation) -> str:
    """The dialogue as JSON for a prompt: role and text per turn."""
    return json.dumps(
        [{"role": t.role, "content": t.content} for t in conversation.turns if t.role != SYSTEM],
        ensure_ascii=False,
        indent=1,
    )


def character(conversation: Conversation, persona: Persona | None) -> str:
    """What the prompt says about the character: the persona's facts, or the system prompt."""
    if persona is not None:
        facts = persona.facts()
        examples = persona.examples()
        if examples:
            facts += "\nExample dialogue:\n" + persona.expand(examples[0])
        return facts
    return conversation.system or "(no description: infer the character from the dialogue)"
