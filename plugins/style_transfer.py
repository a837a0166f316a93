"""Rewrite the chosen roles' turns in a target style or register, keeping
meaning, persona facts, language and protected spans (a model)."""

from __future__ import annotations

import json
from typing import Any

import augment
from augment import ASSISTANT, LLM_OPTIONS, Conversation, LLMAugmenter, Option, StepContext, UsageError, character, dialogue_json, language_name, string_list
from augment import schema_object, schema_string_array


class StyleTransfer(LLMAugmenter):
    name = "style-transfer"
    summary = "rewrite the chosen roles' turns in a style (--style 'terse noir detective'), meaning and spans kept (model)"
    roles = (ASSISTANT,)
    template = "style_transfer.txt"
    options = (Option("style", str, None, "the target style or register"),) + LLM_OPTIONS
    # Turns shown only as context may leave a prompt too long for the model; the ones rewritten stay.
    trims_history = True
    trim_keeps_given_turns = True

    def __init__(self, **values):
        super().__init__(**values)
        if not self.values["style"]:
            raise UsageError("style-transfer needs --style TEXT")

    def variables(self, conversation, context, persona) -> dict[str, Any]:
        targets = [{"turn": i, "role": conversation.turns[i].role, **({"name": conversation.turns[i].name} if conversation.turns[i].name else {}),
                    "content": conversation.turns[i].content} for i in sorted(context.turns)]
        language, _ = self.expected_languages(conversation, context)
        return {
            "character": character(conversation, persona),
            "dialogue": dialogue_json(conversation),
            "style": self.values["style"],
            "targets": json.dumps(targets, ensure_ascii=False, indent=1),
            "count": str(len(targets)),
            "language": language_name(language),
        }

    def schema(self, conversation, context) -> dict[str, Any]:
        return schema_object({"turns": schema_string_array(len(context.turns))})

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        indices = sorted(context.turns)
        texts = string_list(answer, "turns", len(indices))
        _, per_turn = self.expected_languages(conversation, context)
        self.check_language(texts, context, [per_turn[i] for i in indices])  # each turn in its own language
        out = conversation.copy()
        for i, text in zip(indices, texts):
            self.check_spans(conversation.turns[i].content, text, context)
            out.turns[i].content = text
        return out


@augment.hookimpl
def register_augmenters(register):
    register(StyleTransfer)
