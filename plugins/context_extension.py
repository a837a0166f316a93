"""Set the scene in the system prompt from the conversation itself (a model).

The model reads the conversation (and the character's persona, when the
record is linked to one) and writes the context the conversation happens in:
the scene, the character's situation, and who the user is to the character.
The step appends it to the system prompt, after a blank line, so everything
the system prompt said (its rules, the card) stays there byte for byte; a
conversation without a system prompt gets one holding the context. No turn
of the dialogue changes: the answer holds only the three fields, and an
answer with anything else (turns, a whole new system prompt) is sent back.

Every answer is checked, besides the checks of every model step:

- **not empty**, and at most ``--max-words`` words (a CJK character counts
  half a word);
- **language**: the system prompt's language (an English card over a
  Chinese chat gets English), else the conversation's;
- **out-of-character or refusal text**, as in turns;
- **something new**: not already in the system prompt (at least 30% of its
  content words are not there);
- **from the conversation**: at least ``--min-grounding`` of its content words
  come from the conversation, the persona or the system prompt (see
  ``grounding.py``), so it does not invent a world the turns never show;
- **no quotes**: it copies no 10 words (15 CJK characters) of a turn in a
  row; the system prompt describes, it does not replay.

The step's provenance entry has ``facts``: the grounding score and the words added.
"""

from __future__ import annotations

from typing import Any

import augment
from augment import LLM_OPTIONS, SYSTEM, Conversation, LLMAugmenter, Option, StepContext, Turn, VariantRejected, between, character, dialogue_json, language_name, leak
from augment import schema_object, schema_string

from augment_plugins.grounding import copied, grounding, percent, tokens

FIELDS = ("scene", "situation", "relationship")
#: Least share of the added content words that the system prompt does not hold already.
MIN_NEW = 0.3
#: A run of this many words (CJK characters) of one turn is a quote.
QUOTED_WORDS, QUOTED_CHARS = 10, 15


class ContextExtension(LLMAugmenter):
    name = "context-extension"
    summary = "add the scene, the character's situation and their relationship to the user to the system prompt, from the conversation; no turn changes (model)"
    roles = (SYSTEM,)
    adds_system = True  # a conversation without a system prompt gets one
    template = "context_extension.txt"
    trims_history = True  # a long conversation is read from its latest turns
    options = (
        Option("min_grounding", float, 0.2, "least share of the added content words found in the conversation, the persona or the system prompt", check=between(0.0, 1.0)),
        Option("max_words", int, 120, "longest addition, in words (a CJK character counts half)", check=between(10, 1000)),
    ) + LLM_OPTIONS

    def _may_change(self, conversation: Conversation, context: StepContext) -> None:
        if (conversation.system is not None and 0 not in context.turns) or (conversation.system is None and SYSTEM not in context.roles):
            raise VariantRejected("context-extension changes the system prompt only: keep 'system' in --roles")

    def _language(self, conversation: Conversation, context: StepContext) -> str | None:
        main, per_turn = self.expected_languages(conversation, context)
        return per_turn[0] if conversation.system is not None and per_turn else main

    def variables(self, conversation, context, persona) -> dict[str, Any]:
        self._may_change(conversation, context)
        system = conversation.system
        return {
            "character": character(conversation, persona, with_system=False),
            "system": system if system and system.strip() else "(none)",
            "dialogue": dialogue_json(conversation),
            "person": "written like the system prompt (the same person and tone)" if system else 'addressed to the character in the second person ("You are ...", "You have just ...")',
            "language": language_name(self._language(conversation, context)),
        }

    def schema(self, conversation, context) -> dict[str, Any]:
        return schema_object({name: schema_string() for name in FIELDS})

    def read(self, answer: dict[str, Any], conversation: Conversation, context: StepContext) -> Conversation:
        others = sorted(set(answer) - set(FIELDS))
        if others:
            raise VariantRejected(f"the answer has {', '.join(map(repr, others))}: answer with {', '.join(FIELDS)} only; the turns and the system prompt stay as they are")
        parts = []
        for name in FIELDS:
            value = answer.get(name)
            if not isinstance(value, str) or not value.strip():
                raise VariantRejected(f"'{name}' must be one or two sentences of text")
            parts.append(" ".join(value.split()))
        joiner = "" if all(tokens(p)[1] and not tokens(p)[0] for p in parts) else " "
        addition = joiner.join(parts)
        words, chars = tokens(addition)
        size = len(words) + len(chars) / 2
        if size > self.values["max_words"]:
            raise VariantRejected(f"the addition has {size:.0f} words; write at most {self.values['max_words']}")
        self.check_language([addition], context, self._language(conversation, context))
        found = leak(addition)
        if found:
            raise VariantRejected(f"out-of-character or refusal text: {found!r}")
        old = (conversation.system or "").strip()
        if old and (addition in old or 1 - grounding(addition, old) < MIN_NEW):
            raise VariantRejected("it repeats what the system prompt says already; add what the conversation shows about the scene, the situation and the relationship")
        for i, turn in enumerate(conversation.turns, 1):
            quoted = copied(addition, turn.content, QUOTED_WORDS, QUOTED_CHARS) if turn.role != SYSTEM else None
            if quoted:
                raise VariantRejected(f"it quotes turn {i} word for word ({quoted!r}); describe the situation instead")
        persona = context.persona
        known = "\n".join([old, *(t.content for t in conversation.dialogue), persona.facts() if persona else ""])
        score = grounding(addition, known)
        if score < self.values["min_grounding"]:
            raise VariantRejected(
                f"it says things the conversation does not show: {percent(score)} of its content words come from the conversation, "
                f"the character's facts or the system prompt, at least {percent(self.values['min_grounding'])} are needed"
            )
        out = conversation.copy()
        if conversation.system is not None:
            out.turns[0].content = f"{conversation.system.rstrip()}\n\n{addition}" if old else addition
        else:
            out.turns.insert(0, Turn(SYSTEM, addition))
        if out.dialogue != conversation.dialogue:  # the step's promise, kept by construction
            raise VariantRejected("a turn of the conversation changed")
        context.facts.update(grounding=round(score, 3), added_words=round(size))
        return out


@augment.hookimpl
def register_augmenters(register):
    register(ContextExtension)
