"""The base of augmenters that ask a language model.

A subclass names its prompt template, says what goes into it
(``variables``), declares the JSON schema of its answer (``schema``: item
counts and role names where it knows them), checks the parsed answer
(``read``: raise VariantRejected with the reason) and returns the new
conversation. The base does the rest:

- the prompt: the persona's facts beside the record's own system prompt,
  speaker names, the schema (sent as ``response_format`` too, where the
  provider takes one); oldest history turns left out when the prompt does not
  fit the model's context and the step allows it (``trims_history``), else
  the variant is dropped without a request;
- the requests: every variant of a batch goes to the run's ``LLMClient`` at
  once, and its window of ``--concurrency`` requests stays full;
- the checks every model step shares: JSON (read leniently), empty turns,
  language (turn by turn, by script for Chinese, Japanese and Korean),
  out-of-character and refusal leaks, protected spans; a failed check is sent
  back to the model with the reason, up to ``--attempts`` times, then the
  variant is dropped with that reason.
"""

from __future__ import annotations

import inspect
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from augment.conversation import SYSTEM, Conversation
from augment.corpus.personas import Persona
from augment.engine.augmenters import Augmenter, Option, Resources, StepContext, between
from augment.engine.languages import detect, turn_languages
from augment.errors import UsageError, VariantRejected
from augment.model.answers import schema_text
from augment.model.leaks import leak
from augment.model.prompting import PromptTemplate, parse_json
from augment.model.settings import RequestRefused, estimate_tokens

if TYPE_CHECKING:  # the client (asyncio, threads) is imported by a run that asks a model, not by every plugin's import
    from augment.model.client import LLMClient

LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "es": "Spanish", "fr": "French", "de": "German", "ru": "Russian", "pt": "Portuguese", "it": "Italian"}
#: Below this many letters a language guess is not trusted.
JUDGEABLE = 40
#: Languages told by their script alone.
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
#: Below this many letters, text in another script than the expected one is
#: not judged ("OK", a name).
SCRIPT_LETTERS = 4
SCHEMA_NOTE = "\n\nAnswer with one JSON object that matches this JSON schema:\n"

COMMON_OPTIONS = (
    Option("prompt", str, None, "a prompt template file to use instead of the built-in one"),
    Option("attempts", int, 3, "answers asked for before the variant is dropped", check=between(1, 10)),
)


class LLMAugmenter(Augmenter):
    options: ClassVar[tuple[Option, ...]] = COMMON_OPTIONS
    #: The built-in template, a file in the ``prompts/`` folder beside the subclass's module.
    template: ClassVar[str] = ""
    batch_size: ClassVar[int] = 256
    #: The engine is not asked for languages: the step finds them itself
    #: (:meth:`expected_languages`), on the client's loop, while requests
    #: for other records are in flight, instead of before any is sent.
    wants_language: ClassVar[bool] = False
    #: The oldest dialogue turns may be left out of the prompt when it does
    #: not fit the model's context (they are context, not what is rewritten).
    trims_history: ClassVar[bool] = False
    #: Dialogue turns always kept in the prompt.
    kept_history: ClassVar[int] = 2
    #: The turns a step rewrites (``context.turns``) never leave the prompt.
    trim_keeps_given_turns: ClassVar[bool] = False

    def __init__(self, resources: Resources | None = None, **values: Any) -> None:
        super().__init__(resources, **values)
        self._template: PromptTemplate | None = None
        self._languages_memo: dict[int, tuple[Conversation, tuple[str | None, list[str | None]]]] = {}
        if self.client is not None:
            # Large batches keep the client's window full: a batch ends with
            # its slowest request, so it holds many rounds of --concurrency.
            self.batch_size = max(type(self).batch_size, 32 * self.client.settings.concurrency)

    def __getstate__(self):
        return {**self.__dict__, "resources": Resources(None, self.resources.personas), "_template": None, "_languages_memo": {}}

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

    def schema(self, conversation: Conversation, context: StepContext) -> dict[str, Any] | None:
        """The JSON schema of the answer (None: any JSON object)."""
        return None

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
        if type(self)._one is not LLMAugmenter._one:  # a step written with plain functions: threads
            return self.client.map(lambda item: self._one(*item), items)
        return self.client.gather([self.run_one(conversation, context) for conversation, context in items])

    def messages(self, conversation: Conversation, context: StepContext) -> list[dict[str, str]]:
        """The prompt: the template filled in, and the answer's schema."""
        values = self.variables(conversation, context, context.persona)
        schema = self.schema(conversation, context)
        template = self.prompt()
        if schema is not None:
            values.setdefault("schema", schema_text(schema))
        messages = template.render(**values)
        if schema is not None and "$schema" not in template.text:
            messages[-1] = {**messages[-1], "content": messages[-1]["content"] + SCHEMA_NOTE + schema_text(schema)}
        return messages

    def estimate(self, conversation: Conversation, context: StepContext) -> tuple[int, int]:
        """(requests, prompt tokens) one variant needs at least, for --dry-run."""
        return 1, sum(estimate_tokens(m["content"]) for m in self.messages(conversation, context))

    def fit(self, conversation: Conversation, context: StepContext) -> list[dict[str, str]]:
        """The prompt's messages, the oldest history turns left out while they
        do not fit the model's context (when the step allows it); a prompt that
        cannot fit drops the variant, and nothing is sent."""
        assert self.client is not None
        conv, ctx, left_out = conversation, context, 0
        while True:
            messages = self.messages(conv, ctx)
            over = self.client.overflow(messages)
            if over is None:
                return messages
            smaller = self.trim(conv, ctx)
            if smaller is None:
                with self.client._lock:
                    self.client.usage.too_long += 1
                after = f" even with its {left_out} oldest turn(s) left out" if left_out else ""
                raise RequestRefused(
                    f"the prompt{_for(conversation)} does not fit the model's context{after}: {over[0]} tokens with "
                    f"--max-tokens {self.client.settings.max_tokens}, the context holds {over[1]}; not sent"
                )
            conv, ctx = smaller
            left_out += 1

    def trim(self, conversation: Conversation, context: StepContext) -> tuple[Conversation, StepContext] | None:
        """The conversation without its oldest dialogue turn, for the prompt
        (None: nothing more may go). Turns the step rewrites stay."""
        if not self.trims_history:
            return None
        dialogue = [i for i, t in enumerate(conversation.turns) if t.role != SYSTEM]
        if len(dialogue) <= self.kept_history:
            return None
        first = dialogue[0]
        if first in context.turns and self.trim_keeps_given_turns:
            return None
        out = conversation.copy()
        del out.turns[first]
        turns = frozenset(i - (i > first) for i in context.turns if i != first)
        return out, replace(context, turns=turns)

    async def run_one(self, conversation: Conversation, context: StepContext) -> Conversation:
        """One variant: the prompt, the requests, the checks."""

        if context.language is None:  # found here, while other records' requests are in flight
            language = self.expected_languages(conversation, context)[0]
            if language:
                context = replace(context, language=language)

        def reader(answer: dict[str, Any]) -> Conversation:
            result = self.read(answer, conversation, context)
            self._check_leaks(result, conversation, context)
            return result

        messages = self.fit(conversation, context)
        try:
            return await self.ask_async(messages, context.seed, reader, self.schema(conversation, context))
        except RequestRefused as exc:
            if conversation.location is not None and str(conversation.location) not in str(exc):
                raise RequestRefused(str(exc).replace("the request:", f"the request for {conversation.location}:", 1)) from None
            raise

    def _one(self, conversation: Conversation, context: StepContext) -> Conversation:
        assert self.client is not None
        return self.client.run(self.run_one(conversation, context))

    async def ask_async(self, messages: list[dict[str, str]], seed: int, reader: Callable[[dict[str, Any]], Any], schema: dict[str, Any] | None = None) -> Any:
        """``reader(parsed answer)``; a rejected answer is asked again with the
        reason, up to ``--attempts`` times, then the variant is dropped. A
        refused request, an answer cut even at --max-tokens-limit or the
        budget spent drop the variant at once."""
        assert self.client is not None
        reason = "no answer"
        for attempt in range(self.values["attempts"]):
            text = (await self.client.acomplete(messages, seed + attempt, schema)).text
            try:
                return reader(parse_json(text, schema))
            except VariantRejected as exc:
                reason = str(exc)
            messages = messages + [
                {"role": "assistant", "content": text},
                {"role": "user", "content": f"That answer was rejected: {reason}. Answer again, with the JSON object only."},
            ]
        raise VariantRejected(f"the model's answer was rejected {self.values['attempts']} times; last: {reason}")

    def ask(self, messages: list[dict[str, str]], seed: int, reader, schema: dict[str, Any] | None = None):
        """:meth:`ask_async` for steps written with plain functions (not from the client's loop)."""
        assert self.client is not None
        return self.client.run(self.ask_async(messages, seed, reader, schema))

    # -- checks every model step shares ---------------------------------------------
    def _check_leaks(self, new: Conversation, old: Conversation, context: StepContext) -> None:
        old_texts = {t.content for t in old.turns}
        for turn in new.turns:
            if turn.content in old_texts or turn.role == SYSTEM:
                continue
            found = leak(turn.content)
            if found:
                raise VariantRejected(f"out-of-character or refusal text: {found!r}")

    def expected_languages(self, conversation: Conversation, context: StepContext) -> tuple[str | None, list[str | None]]:
        """(the dialogue's language, each turn's language). A record whose
        system prompt is in another language than its dialogue (an English
        card over a Chinese chat) is judged turn by turn."""
        memo = self._languages_memo.get(id(conversation))
        if memo is not None and memo[0] is conversation:
            return memo[1]
        if len(self._languages_memo) > 4096:
            self._languages_memo.clear()
        found = self._find_languages(conversation, context)
        self._languages_memo[id(conversation)] = (conversation, found)
        return found

    def _find_languages(self, conversation: Conversation, context: StepContext) -> tuple[str | None, list[str | None]]:
        """The dialogue's language from its two longest turns (turns are what
        :func:`detect` caches: variants and later steps find them there), or,
        when they disagree or are too short to judge, from every turn."""
        main = context.language
        if not main:
            spoken = [t.content for t in conversation.turns if t.role != SYSTEM]
            longest = [text for text in sorted(spoken, key=len, reverse=True)[:2] if len(_LETTER.findall(text)) >= JUDGEABLE]
            votes = {detect(text) for text in longest} - {None}
            main = votes.pop() if len(votes) == 1 else None
            if main is None and spoken:
                return self._turn_by_turn(conversation, None)
        system = conversation.system
        if not main or system is None or detect(system) in (None, main):
            return main, [main] * len(conversation.turns)
        return self._turn_by_turn(conversation, main)

    def _turn_by_turn(self, conversation: Conversation, main: str | None) -> tuple[str | None, list[str | None]]:
        per_turn = turn_languages(conversation)
        said = [lang for t, lang in zip(conversation.turns, per_turn) if t.role != SYSTEM and lang]
        main = Counter(said).most_common(1)[0][0] if said else main
        return main, [lang or main for lang in per_turn]

    def check_language(self, texts: list[str], context: StepContext, expected: list[str | None] | str | None = None) -> None:
        """Each new text is in its expected language (one per text, or one for
        all; default: the conversation's). Chinese, Japanese and Korean are
        told by their script, so short turns count; other languages are
        judged on all the texts expected in them together, when there are
        enough letters to judge."""
        if expected is None or isinstance(expected, str):
            expected = [expected or context.language] * len(texts)
        pooled: dict[str, list[str]] = {}
        for text, want in zip(texts, expected):
            if not want:
                continue
            cjk, letters = len(_CJK.findall(text)), len(_LETTER.findall(text))
            if want in CJK_LANGUAGES:
                if cjk == 0 and letters >= SCRIPT_LETTERS:
                    found = detect(text) if letters >= JUDGEABLE else None
                    raise VariantRejected(f"the answer is in {language_name(found) if found and found != want else 'another language'}, not {language_name(want)}")
                if cjk >= 2:
                    found = detect(text)
                    if found in CJK_LANGUAGES and found != want:
                        raise VariantRejected(f"the answer is in {language_name(found)}, not {language_name(want)}")
                continue
            if cjk >= 2 and cjk * 2 >= letters:
                raise VariantRejected(f"the answer is in {language_name(detect(text))}, not {language_name(want)}")
            pooled.setdefault(want, []).append(text)
        for want, group in pooled.items():
            joined = "\n".join(group)
            if len(_LETTER.findall(joined)) < JUDGEABLE:
                continue
            found = detect(joined)
            if found and found != want:
                raise VariantRejected(f"the answer is in {language_name(found)}, not {language_name(want)}")

    def check_spans(self, before: str, after: str, context: StepContext) -> None:
        lost = context.protector.missing(before, after, self.rewrites)
        if lost:
            raise VariantRejected(f"protected span {lost[0]!r} is missing; keep it exactly as written")


def _for(conversation: Conversation) -> str:
    return f" for {conversation.location}" if conversation.location is not None else ""


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code or "", code or "the conversation's language")


def dialogue_json(conversation: Conversation) -> str:
    """The dialogue as JSON for a prompt: role, speaker name (when the record
    has one) and text per turn."""
    return json.dumps(
        [{"role": t.role, **({"name": t.name} if t.name else {}), "content": t.content} for t in conversation.turns if t.role != SYSTEM],
        ensure_ascii=False,
        indent=1,
    )


def speakers(conversation: Conversation) -> dict[str, list[str]]:
    """Each role's speaker names, in order of appearance."""
    out: dict[str, list[str]] = {}
    for turn in conversation.turns:
        if turn.name and turn.role != SYSTEM and turn.name not in out.setdefault(turn.role, []):
            out[turn.role].append(turn.name)
    return out


def character(conversation: Conversation, persona: Persona | None, with_system: bool = True) -> str:
    """What the prompt says about the character: the persona's facts, with the
    record's own system prompt beside them (its scene notes and rules still
    apply); without a persona, the system prompt."""
    if persona is not None:
        facts = persona.facts()
        examples = persona.examples()
        if examples:
            facts += "\nExample dialogue:\n" + persona.expand(examples[0])
        system = (conversation.system or "").strip()
        if with_system and system and system not in facts:
            facts += "\n\nThis conversation's own system prompt (its scene and rules apply too):\n" + system
        return facts
    return conversation.system or "(no description: infer the character from the dialogue)"
