"""Conversations in which a character speaks from a passage of text (a model).

The step works on passages (the ``passages`` format: ``augment generate
--from-text``, or ``augment run FILE --from passages --no-originals ...
from-passage``). Each variant is a new conversation of ``--turns`` turns, the
user first, in which the character (``--persona``, else the record's own
persona, else its system prompt) tells what the passage says in their own
voice. Each variant gives the user another angle (the main subject, a
practical detail, a doubt to set right ...), so the variants of a passage
differ.

Every answer is checked, on top of the checks every model step makes (JSON,
alternating roles, out-of-character text):

- **grounding**: the share of the content words of the character's turns
  (character pairs in Chinese, Japanese, Korean; see ``grounding.py``) that
  the passage holds must reach ``--min-grounding`` (default 0.3); actions
  and stage directions and the speakers' names do not count;
- **no recitation**: no turn of the character copies 30 words (50 CJK
  characters) of the passage in a row;
- **language**: every turn in the passage's language.

A failed check goes back to the model with the reason. The written record is
the system prompt (the record's own, or the persona's card: system prompt,
description, personality, scenario) and the new turns; its ``persona`` field
names the persona, and its provenance chain entry has ``facts``: the
passage's file, line, character offset and length, its heading, the user's
angle and the grounding score.
"""

from __future__ import annotations

import json
from typing import Any

import augment
from augment import (
    ALL_SPANS, ASSISTANT, LLM_OPTIONS, SYSTEM, USER, Conversation, LLMAugmenter, Option, Persona, StepContext, Turn, UsageError, VariantRejected,
    between, character, detect_language, language_name, role_list, schema_object, schema_turns_array,
)

from augment_plugins.grounding import copied, grounding, percent, units

#: What the user does in a conversation, one per variant in turn.
ANGLES = (
    "asks the character about the main subject of the passage, as someone who has only heard of it",
    "asks for a practical detail the passage gives (a name, a number, a place, a time) and then for another",
    "has something wrong and the character sets it right from what the passage says",
    "asks why or how something in the passage came to be",
    "asks what the character thinks of it, then for the facts behind that opinion",
    "is in a hurry and wants the one thing from the passage that matters most, then one more",
)
#: A turn of the character that copies this many words (CJK characters) of the passage in a row recites it.
RECITED_WORDS, RECITED_CHARS = 30, 50


def even_turns(value: int) -> str | None:
    if value < 2 or value > 20 or value % 2:
        return f"must be an even number between 2 and 20 (the user asks first, the character answers last), got {value}"
    return None


#: The labels of the personality and scenario lines, by the card's language.
LABELS = {"zh": ("{{char}}的性格：", "场景："), "en": ("{{char}}'s personality: ", "Scenario: ")}


def story(persona: Persona) -> str:
    """The persona's card as a system prompt, as SillyTavern's default story
    string builds it: its system prompt, description, personality and
    scenario, one per line ({{char}} written as its name; labels in Chinese
    for a Chinese card)."""
    name = persona.name
    personality, scenario = (persona.text(k).strip() for k in ("personality", "scenario"))
    labels = LABELS.get(detect_language(persona.text("description") + personality) or "en", LABELS["en"])
    parts = [
        persona.text("system_prompt").strip(),
        persona.text("description").strip(),
        labels[0] + personality if personality else "",
        labels[1] + scenario if scenario else "",
    ]
    text = "\n".join(p for p in parts if p) or f"You are {name}."
    return text.replace("{{char}}", name).replace("<BOT>", name)


class FromPassage(LLMAugmenter):
    name = "from-passage"
    summary = "new conversations in which the character speaks from a text passage (--from passages; augment generate --from-text), checked for grounding (model)"
    roles = (USER, ASSISTANT)
    template = "from_passage.txt"
    rewrites = ALL_SPANS  # all new text: nothing of the passage has to survive as written
    options = (
        Option("persona", str, None, "the character who speaks: a persona's id or name (default: the record's own persona, else its system prompt)"),
        Option("turns", int, 4, "turns in each conversation, the user first and the character last", check=even_turns),
        Option(
            "min_grounding", float, 0.3,
            "least share of the character's content words (Chinese: character pairs) found in the passage", check=between(0.0, 1.0),
        ),
    ) + LLM_OPTIONS

    def __init__(self, **values):
        super().__init__(**values)
        self.persona: Persona | None = None
        wanted = self.values["persona"]
        if wanted:
            personas = self.resources.personas
            self.persona = personas.get(wanted) or next((p for p in personas.values() if p.name.lower() == wanted.lower()), None)
            if self.persona is None:
                raise UsageError(f"no persona {wanted!r} in the personas folder (known: {', '.join(sorted(personas)) or 'none'})")

    # -- the record -------------------------------------------------------------------
    def passage(self, conversation: Conversation) -> tuple[str, dict[str, Any]]:
        """The passage's text and where it is; a record that is no passage stops the run."""
        where = conversation.extra.get("passage")
        dialogue = conversation.dialogue
        if not isinstance(where, dict) or len(dialogue) != 1 or dialogue[0].role != USER:
            at = f" ({conversation.location})" if conversation.location else ""
            raise UsageError(
                f"from-passage works on passages{at}: read text with --from passages (and --no-originals), or use augment generate --from-text"
            )
        return dialogue[0].content, where

    def speaker(self, conversation: Conversation, context: StepContext) -> Persona | None:
        persona = self.persona or context.persona
        if persona is None and conversation.system is None:
            raise UsageError("from-passage needs a character: give --persona NAME (a persona of the personas folder), or passages whose records have a system prompt")
        return persona

    def angle(self, context: StepContext) -> str:
        return ANGLES[context.variant % len(ANGLES)]

    def language(self, text: str) -> str | None:
        return detect_language(text)

    # -- the prompt -------------------------------------------------------------------
    def variables(self, conversation, context, persona) -> dict[str, Any]:
        text, where = self.passage(conversation)
        persona = self.speaker(conversation, context)
        language = self.language(text)
        return {
            "character": character(conversation, persona),
            "passage": json.dumps(text, ensure_ascii=False),
            "heading": json.dumps(where.get("heading") or "", ensure_ascii=False),
            "turns": str(self.values["turns"]),
            "angle": self.angle(context),
            "language": language_name(language) if language else "the language of the passage",
        }

    def schema(self, conversation, context) -> dict[str, Any]:
        return schema_object({"turns": schema_turns_array(self.values["turns"], [USER, ASSISTANT])})

    # -- the answer -------------------------------------------------------------------
    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        text, where = self.passage(conversation)
        persona = self.speaker(conversation, context)
        pairs = role_list(answer, self.values["turns"], USER)
        language = self.language(text)
        if language:
            self.check_language([t for _, t in pairs], context, language)
        spoken = [t for role, t in pairs if role == ASSISTANT]
        for i, turn in enumerate(spoken, 1):
            recited = copied(turn, text, RECITED_WORDS, RECITED_CHARS)
            if recited:
                raise VariantRejected(f"the character's turn {i} recites the passage word for word ({recited[:60]!r}...); let the character tell it in their own words")
        names = units(" ".join(n for n in (persona.name if persona else "", "{{char}} {{user}}") if n))
        score = grounding("\n".join(spoken), text, names)
        floor = self.values["min_grounding"]
        if score < floor:
            raise VariantRejected(
                f"the character's turns are not grounded in the passage: {percent(score)} of their content words come from it, "
                f"at least {percent(floor)} are needed; let the character speak from what the passage says"
            )
        system = conversation.system or (story(persona) if persona else None)
        out = conversation.copy()
        out.turns = ([Turn(SYSTEM, system)] if system else []) + [Turn(role, t) for role, t in pairs]
        out.extra = {k: v for k, v in conversation.extra.items() if k != "passage"}
        if persona is not None:
            out.extra["persona"] = persona.id
        context.facts.update(passage=dict(where), angle=self.angle(context), grounding=round(score, 3))
        return out


@augment.hookimpl
def register_augmenters(register):
    register(FromPassage)
