"""Continue a conversation by N turns, the character in voice (a model)."""

from __future__ import annotations

from typing import Any

import augment
from augment import ANSWER_ROLES, ASSISTANT, LLM_OPTIONS, USER, Conversation, LLMAugmenter, Option, StepContext, Turn, VariantRejected, between, character, dialogue_json, language_name, role_list
from augment import schema_object, schema_turns_array
from augment import speakers


class DialogueExtension(LLMAugmenter):
    name = "dialogue-extension"
    summary = "continue a conversation by N turns, in the character's voice and the conversation's language (model)"
    roles = (USER, ASSISTANT)
    template = "dialogue_extension.txt"
    trims_history = True  # a long conversation is continued from its latest turns
    options = (Option("turns", int, 4, "turns to add (user and assistant alternating)", check=between(1, 40)),) + LLM_OPTIONS

    def _first(self, conversation: Conversation) -> str:
        dialogue = conversation.dialogue
        return USER if not dialogue or dialogue[-1].role in ANSWER_ROLES else ASSISTANT

    def _names(self, conversation: Conversation) -> dict[str, list[str]] | None:
        """Each role's speakers, when a role has several (a group scene): then
        every new turn says who speaks."""
        names = speakers(conversation)
        return names if any(len(v) > 1 for v in names.values()) else None

    def variables(self, conversation, context, persona) -> dict[str, Any]:
        language, _ = self.expected_languages(conversation, context)
        return {
            "character": character(conversation, persona),
            "dialogue": dialogue_json(conversation),
            "turns": str(self.values["turns"]),
            "first_role": self._first(conversation),
            "language": language_name(language),
        }

    def schema(self, conversation, context) -> dict[str, Any]:
        n, first = self.values["turns"], self._first(conversation)
        roles = [first] if n == 1 else [first, USER if first == ASSISTANT else ASSISTANT]
        names = self._names(conversation)
        everyone = [name for role in (USER, ASSISTANT) for name in (names or {}).get(role, [])]
        return schema_object({"turns": schema_turns_array(n, roles, everyone or None)})

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        pairs = role_list(answer, self.values["turns"], self._first(conversation))
        language, _ = self.expected_languages(conversation, context)
        self.check_language([text for _, text in pairs], context, language)
        last = {t.role: t.name for t in conversation.turns if t.name}
        several = self._names(conversation)
        out = conversation.copy()
        for i, ((role, text), item) in enumerate(zip(pairs, answer["turns"]), 1):
            name = last.get(role)
            if several and several.get(role):
                name = item.get("name")
                if name not in several[role]:
                    raise VariantRejected(f"turn {i} is spoken by {name!r}; a {role!r} turn is spoken by one of {', '.join(several[role])}")
            out.turns.append(Turn(role, text, name))
        return out


@augment.hookimpl
def register_augmenters(register):
    register(DialogueExtension)
