"""Brand-new conversations for a persona, few-shot from the corpus's own
conversations, on situations listed in a file or combined from axes (mood x
place x request, enumerated or sampled), each checked for novelty against its
example (a model)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import augment
from augment import ALL_SPANS, ASSISTANT, LLM_OPTIONS, SYSTEM, USER, Conversation, LLMAugmenter, Option, StepContext, Turn, UsageError, VariantRejected, between, character, dialogue_json, language_name, role_list
from augment import schema_object, schema_turns_array

WORD = re.compile(r"\w+", re.UNICODE)


def parse_axes(spec: str) -> list[tuple[str, list[str]]]:
    """'mood=tired,cheerful; place=harbor,market' -> [(mood, [...]), (place, [...])]"""
    axes = []
    for part in spec.split(";"):
        if not part.strip():
            continue
        name, sep, values = part.partition("=")
        options = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not options:
            raise UsageError(f"new-dialogue --axes: {part.strip()!r} is not NAME=value,value,...")
        axes.append((name.strip(), options))
    return axes


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of word trigrams (characters for unspaced scripts)."""

    def grams(text: str) -> set[tuple[str, ...]]:
        words = WORD.findall(text.lower())
        if len(words) < 3 or sum(len(w) for w in words) > 3 * len(text) / 4:
            words = [ch for ch in text if not ch.isspace()]  # Chinese: character trigrams
        return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0


class NewDialogue(LLMAugmenter):
    name = "new-dialogue"
    summary = "brand-new conversations for the character on listed or combined situations, few-shot from the record (model)"
    roles = (USER, ASSISTANT)
    template = "new_dialogue.txt"
    rewrites = ALL_SPANS  # all new text: no span of the example has to survive
    trims_history = True  # a shorter example is still an example
    options = (
        Option("situations", str, None, "a file of situations, one per line"),
        Option("axes", str, None, "axes to combine: 'mood=tired,cheerful; place=harbor,market; request=a room,a loan'"),
        Option("enumerate", bool, False, "take the combinations in order (variant k gets the k-th) instead of sampling"),
        Option("turns", int, 6, "turns in each new conversation", check=between(2, 40)),
        Option("max_overlap", float, 0.3, "largest word-trigram overlap allowed with the example", check=between(0.0, 1.0)),
    ) + LLM_OPTIONS

    def __init__(self, **values):
        super().__init__(**values)
        self.situation_list: list[str] = self.list_file("situations")
        if self.values["axes"]:
            axes = parse_axes(self.values["axes"])
            for combo in itertools.product(*[values for _, values in axes]):
                self.situation_list.append("; ".join(f"{name}: {value}" for (name, _), value in zip(axes, combo)))
        if not self.situation_list:
            raise UsageError("new-dialogue needs --situations FILE or --axes 'name=a,b; other=c,d'")

    def situation(self, context: StepContext) -> str:
        if self.values["enumerate"]:
            return self.situation_list[context.variant % len(self.situation_list)]
        return self.situation_list[context.seed % len(self.situation_list)]

    def variables(self, conversation, context, persona) -> dict[str, Any]:
        language, _ = self.expected_languages(conversation, context)
        return {
            "character": character(conversation, persona),
            "example": dialogue_json(conversation),
            "situation": self.situation(context),
            "turns": str(self.values["turns"]),
            "language": language_name(language),
        }

    def schema(self, conversation, context) -> dict[str, Any]:
        return schema_object({"turns": schema_turns_array(self.values["turns"], [USER, ASSISTANT])})

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        pairs = role_list(answer, self.values["turns"], USER)
        texts = [text for _, text in pairs]
        language, _ = self.expected_languages(conversation, context)
        self.check_language(texts, context, language)
        example = "\n".join(t.content for t in conversation.dialogue)
        score = overlap("\n".join(texts), example)
        if score > self.values["max_overlap"]:
            raise VariantRejected(f"too close to its example (trigram overlap {score:.2f} > {self.values['max_overlap']})")
        names = {t.role: t.name for t in conversation.turns if t.name and t.role == ASSISTANT}
        out = conversation.copy()
        out.turns = [t for t in out.turns if t.role == SYSTEM] + [Turn(role, text, names.get(role)) for role, text in pairs]
        out.extra = {**out.extra, "situation": self.situation(context)}
        return out


@augment.hookimpl
def register_augmenters(register):
    register(NewDialogue)
