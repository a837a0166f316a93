"""Personal data scrubbing for corpora exported from real chats: e-mail
addresses, phone numbers and ID numbers become placeholders (``<EMAIL>``) or
consistent fake values (the same real value gets the same fake one everywhere,
so a conversation still hangs together)."""

from __future__ import annotations

import hashlib
import re

import augment
from augment import Conversation, Filter, FilterContext, Option

PATTERNS = (
    ("e-mail", "<EMAIL>", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    # national ID numbers: US SSN, Chinese resident ID (18), long card-like digit runs
    ("ID number", "<ID>", re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{17}[\dXx]\b|\b(?:\d[ -]?){13,16}\d\b")),
    ("phone number", "<PHONE>", re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}[ .-]?\d{3,4}(?!\w)|\b1[3-9]\d{9}\b")),
)


class PersonalData(Filter):
    name = "pii"
    summary = "replace e-mail addresses, phone numbers and ID numbers with placeholders or consistent fake values"
    options = (Option("mode", str, "placeholder", "placeholder (<EMAIL>, <PHONE>, <ID>) or fake (consistent fake values)", choices=("placeholder", "fake")),)

    def start(self) -> None:
        self.fakes: dict[str, str] = {}

    def _fake(self, kind: str, value: str) -> str:
        if value not in self.fakes:
            from faker import Faker

            fake = Faker()
            fake.seed_instance(int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big"))
            self.fakes[value] = {"e-mail": fake.email, "phone number": fake.phone_number, "ID number": fake.ssn}[kind]()
        return self.fakes[value]

    def transform(self, conversation: Conversation, context: FilterContext) -> tuple[Conversation, list[str]]:
        notes: list[str] = []
        out = None
        for i, turn in enumerate(conversation.turns):
            text = turn.content
            for kind, placeholder, pattern in PATTERNS:
                def swap(match, kind=kind, placeholder=placeholder):
                    notes.append(f"scrubbed {kind}")
                    return placeholder if self.values["mode"] == "placeholder" else self._fake(kind, match.group(0))

                text = pattern.sub(swap, text)
            if text != turn.content:
                out = out or conversation.copy()
                out.turns[i].content = text
        return (out or conversation), notes


@augment.hookimpl
def register_filters(register):
    register(PersonalData)
