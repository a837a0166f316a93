"""Continue a conversation by N turns, the character in voice (a model)."""

from __future__ import annotations

from typing import Any

import augment
from augment import ANSWER_ROLES, ASSISTANT, LLM_OPTIONS, USER, Conversation, LLMAugmenter, Option, StepContext, Turn, between, character, dialogue_json, language_name, role_list


class DialogueExtension(LLMAugmenter):
    name = "dialogue-extension"
    summary = "continue a conversation by N turns, in the character's voice and the conversation's language (model)"
    roles = (USER, ASSISTANT)
    template = "dialogue_extension.txt"
    options = (Option("turns", int, 4, "turns to add (user and assistant alternating)", check=between(1, 40)),) + LLM_OPTIONS

    def _first(self, conversation: Conversation) -> str:
        dialogue = conversation.dialogue
        return USER if not dialogue or dialogue[-1].role in ANSWER_ROLES else ASSISTANT

    def variables(self, conversation, context, persona) -> dict[str, Any]:
        return {
            "character": character(conversation, persona),
            "dialogue": dialogue_json(conversation),
            "turns": str(self.values["turns"]),
            "first_role": self._first(conversation),
            "language": language_name(context.language),
        }

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        pairs = role_list(answer, self.values["turns"], self._first(conversation))
        self.check_language([text for _, text in pairs], context)
        names = {t.role: t.name for t in conversation.turns if t.name}
        out = conversation.copy()
        out.turns += [Turn(role, text, names.get(role)) for role, text in pairs]
        return out


@augment.hookimpl
def register_augmenters(register):
    register(DialogueExtension)
