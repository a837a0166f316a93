"""Move a conversation into another setting, keeping roles, turn count, what
each turn does and who the character is; the system prompt's scene follows (a model)."""

from __future__ import annotations

from typing import Any

import augment
from augment import ASSISTANT, LLM_OPTIONS, SYSTEM, USER, Conversation, LLMAugmenter, Option, StepContext, VariantRejected, character, dialogue_json, language_name, string_list
from augment import schema_object, schema_string_array, schema_string


class SceneTransfer(LLMAugmenter):
    name = "scene-transfer"
    summary = "move a conversation into another setting (--scene, one drawn from --scenes FILE or the persona's scenarios), same turns and roles (model)"
    roles = (SYSTEM, USER, ASSISTANT)
    template = "scene_transfer.txt"
    # A new setting brings new actions, directions and details; names and placeholders stay.
    rewrites = frozenset({"action", "direction", "number", "url", "e-mail", "inline code"})
    options = (
        Option("scene", str, None, "the new setting, e.g. 'a rainy night market'"),
        Option("scenes", str, None, "a file of settings, one per line; each variant draws one"),
    ) + LLM_OPTIONS

    def __init__(self, **values):
        super().__init__(**values)
        self.scene_list: list[str] = self.list_file("scenes")
        if self.values["scene"]:
            self.scene_list.append(self.values["scene"])

    def scene(self, conversation: Conversation, context: StepContext) -> str:
        """The setting for this variant: from --scene/--scenes, or else from the
        record's persona's ``scenarios``."""
        choices = self.scene_list
        if not choices:
            persona = context.persona
            choices = persona.scenarios if persona else []
        if not choices:
            raise VariantRejected("no setting to move to: give --scene or --scenes, or add 'scenarios' to the persona")
        return choices[context.seed % len(choices)]

    def variables(self, conversation, context, persona) -> dict[str, Any]:
        language, _ = self.expected_languages(conversation, context)
        return {
            "character": character(conversation, persona, with_system=False),  # the system prompt has its own place
            "system": conversation.system or "(none)",
            "dialogue": dialogue_json(conversation),
            "scene": self.scene(conversation, context),
            "count": str(len(conversation.dialogue)),
            "language": language_name(language),
        }

    def schema(self, conversation, context) -> dict[str, Any]:
        turns = schema_string_array(len(conversation.dialogue))
        return schema_object({"system": schema_string(), "turns": turns}) if conversation.system is not None else schema_object({"turns": turns})

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        offset = 1 if conversation.system is not None else 0
        texts = string_list(answer, "turns", len(conversation.dialogue))
        _, per_turn = self.expected_languages(conversation, context)
        changed = [(i, text) for i, text in enumerate(texts, offset) if i in context.turns]
        system = answer.get("system")
        rewrite_system = offset and 0 in context.turns
        if rewrite_system and (not isinstance(system, str) or not system.strip()):
            raise VariantRejected("'system' must be the rewritten system prompt")
        # each rewritten turn in its own turn's language (an English card over a Chinese chat stays so)
        pairs = changed + ([(0, system.strip())] if rewrite_system else [])
        self.check_language([t for _, t in pairs], context, [per_turn[i] for i, _ in pairs])
        out = conversation.copy()
        for i, new in changed:
            self.check_spans(conversation.turns[i].content, new, context)
            out.turns[i].content = new
        if rewrite_system:
            out.turns[0].content = system.strip()
        out.extra = {**out.extra, "scene": self.scene(conversation, context)}
        return out


@augment.hookimpl
def register_augmenters(register):
    register(SceneTransfer)
