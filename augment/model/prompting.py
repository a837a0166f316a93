"""Prompt templates, and reading a model's JSON answer.

A template is a text file with a ``[system]`` and a ``[user]`` section;
``$name`` placeholders are filled from the augmenter's variables (``$$`` is a
dollar sign). Record text is put in as JSON, so nothing a record says can
change the shape of a prompt or of an answer: answers are parsed and checked
like any untrusted input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template
from typing import Any

from augment.errors import AugmentError, VariantRejected
from augment.model.answers import read_json

SECTION = re.compile(r"^\[(system|user)\]\s*$", re.M)


class PromptTemplate:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AugmentError(f"cannot read prompt template {path}: {exc.strerror}") from None
        parts = SECTION.split(text)
        sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
        if "user" not in sections:
            raise AugmentError(f"{path}: a prompt template needs a [user] section (and may have a [system] one)")
        self.system = Template(sections.get("system", ""))
        self.user = Template(sections["user"])
        self.text = text

    def render(self, **values: Any) -> list[dict[str, str]]:
        strings = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, indent=1) for k, v in values.items()}
        try:
            messages = []
            system = self.system.substitute(strings)
            if system:
                messages.append({"role": "system", "content": system})
            messages.append({"role": "user", "content": self.user.substitute(strings)})
        except KeyError as exc:
            raise AugmentError(f"{self.path}: unknown placeholder ${exc.args[0]} (known: {', '.join(sorted(values))})") from None
        return messages


def parse_json(text: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON object in a model's answer, read leniently (code fences, prose
    and reasoning around it, trailing commas, single quotes: see
    :func:`augment.model.answers.read_json`); with ``schema``, the object that
    has its required keys."""
    return read_json(text, schema)


def string_list(answer: dict[str, Any], key: str, count: int | None = None) -> list[str]:
    """``answer[key]`` as a list of non-empty strings (of ``count`` items)."""
    value = answer.get(key)
    if not isinstance(value, list):
        raise VariantRejected(f"'{key}' must be a list")
    out = []
    for i, item in enumerate(value, 1):
        if isinstance(item, dict):
            item = item.get("content")
        if not isinstance(item, str) or not item.strip():
            raise VariantRejected(f"'{key}' item {i} is empty or not text")
        out.append(item.strip())
    if count is not None and len(out) != count:
        raise VariantRejected(f"'{key}' has {len(out)} items; {count} were asked for")
    return out


def role_list(answer: dict[str, Any], count: int, first: str) -> list[tuple[str, str]]:
    """``answer["turns"]`` as ``count`` (role, content) pairs alternating from ``first``."""
    value = answer.get("turns")
    if not isinstance(value, list):
        raise VariantRejected("'turns' must be a list")
    if len(value) != count:
        raise VariantRejected(f"'turns' has {len(value)} turns; {count} were asked for")
    other = {"user": "assistant", "assistant": "user"}
    expected = first
    out = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not isinstance(item.get("content"), str) or not item["content"].strip():
            raise VariantRejected(f"turn {i} must be {{\"role\", \"content\"}} with text")
        if item.get("role") != expected:
            raise VariantRejected(f"turn {i} has role {item.get('role')!r}; {expected!r} was expected (roles alternate)")
        out.append((expected, item["content"].strip()))
        expected = other[expected]
    return out
