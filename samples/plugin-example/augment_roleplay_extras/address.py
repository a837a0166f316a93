"""An augmenter that varies how the user side addresses the character.

"Mira, is there stew left?" becomes "Hey Mira, is there stew left?" or
"Excuse me, Mira — is there stew left?": the same request, said the way
different people say it. The character's name comes from ``--name``, or from
the speaker name on the assistant turns, or from the system prompt ("You are
Mira, ...").
"""

from __future__ import annotations

import re

import augment
from augment import ASSISTANT, USER, Augmenter, Conversation, Option, StepContext, between

FORMS = ("{name}, ", "Hey {name}, ", "Excuse me, {name} — ", "Listen, {name}: ", "Oh, {name}, ")
YOU_ARE = re.compile(r"\bYou are ([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?)")


def character_name(conv: Conversation) -> str | None:
    for turn in conv.turns:
        if turn.role == ASSISTANT and turn.name:
            return turn.name
    match = YOU_ARE.search(conv.system or "")
    return match.group(1) if match else None


class Address(Augmenter):
    name = "address"
    summary = "vary how the user addresses the character (Hey Mira, / Excuse me, Mira —)"
    roles = (USER,)
    languages = frozenset({"en"})
    options = (
        Option("rate", float, 0.5, "share of user turns that get a form of address", check=between(0.0, 1.0)),
        Option("name", str, None, "the character's name (default: from the record)"),
    )

    def augment(self, conversation: Conversation, context: StepContext) -> Conversation:
        out = conversation.copy()
        name = self.values["name"] or character_name(conversation)
        if not name:
            return out  # nobody to address: the engine drops the identical variant
        for i in sorted(context.turns):
            turn = out.turns[i]
            if context.rng.random() >= self.values["rate"]:
                continue
            body = turn.content
            # an existing "Name, ..." opening is replaced, not doubled
            body = re.sub(rf"^\s*(?:hey |oh |listen, |excuse me, )?{re.escape(name)}\s*[,:—-]+\s*", "", body, flags=re.I)
            form = context.rng.choice(FORMS).format(name=name)
            if body.startswith("*"):  # keep an opening action first: "*leans in* Hey Mira, ..."
                end = body.find("*", 1) + 1
                action, rest = body[:end], body[end:].lstrip()
                turn.content = f"{action} {form}{_lower_first(rest)}" if rest else turn.content
            else:
                turn.content = form + _lower_first(body)
        return out


def _lower_first(text: str) -> str:
    """Lower-case the first letter after a new opening, but not "I" or a name."""
    if not text or text.startswith(("I ", "I'")) or not text[0].isupper():
        return text
    word = text.split(" ", 1)[0]
    return text if word[1:].lower() != word[1:] else text[0].lower() + text[1:]


@augment.hookimpl
def register_augmenters(register):
    register(Address)
