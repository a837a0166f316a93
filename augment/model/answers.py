"""What a model step asks for, and how its answer is read.

A step declares the JSON schema of its answer (exact item counts, the role
names it expects); the client sends it as ``response_format`` where the
provider takes one, and the prompt carries it either way.

Answers are read leniently before they are judged, because real models and
servers deviate in a few common ways: code fences, prose before or after the
JSON (with braces of its own), reasoning blocks (``<think>...</think>``, or
one never closed), trailing commas, single quotes, a bare array where an
object was asked for. Strict JSON is tried first, each top-level value in the
text; then the `json_repair` library. What is still wrong (no JSON, a string
never closed, an answer cut short) is a :class:`VariantRejected` with the
reason, which the step sends back to the model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from augment.errors import VariantRejected

#: A reasoning block, closed.
REASONING = re.compile(r"<(think|thinking|reasoning|reflection)>.*?</\1\s*>", re.S | re.I)
#: A closing tag whose opening one the chat template wrote (the answer follows it).
CLOSING = re.compile(r"</(?:think|thinking|reasoning|reflection)\s*>", re.I)
FENCED = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)```", re.S)
START = re.compile(r"[\[{]")
#: What json_repair says when it had to invent the end of a string or of a
#: structure: the answer was cut short, or a quote inside it closed it early.
UNSAFE_REPAIR = ("missed the closing", "misplaced quote")
#: Top-level values tried per answer (a long chatty answer has many braces).
MAX_CANDIDATES = 64


# -- schemas -----------------------------------------------------------------------


def obj(properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON object with exactly these properties, all required (what
    OpenAI's strict structured output wants)."""
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def text() -> dict[str, Any]:
    """A string (that it is not empty is the step's check: OpenAI's strict mode takes no minLength)."""
    return {"type": "string"}


def string_array(count: int | None) -> dict[str, Any]:
    """A list of non-empty strings (``count`` of them when given)."""
    out: dict[str, Any] = {"type": "array", "items": text()}
    if count is not None:
        out["minItems"] = out["maxItems"] = count
    return out


def turns_array(count: int, roles: list[str], names: list[str] | None = None) -> dict[str, Any]:
    """``count`` turns ``{"role", "content"}`` with roles among ``roles`` (and
    a ``name`` among ``names`` in scenes with several speakers)."""
    item: dict[str, Any] = {"role": {"type": "string", "enum": roles}, "content": text()}
    if names:
        item = {"role": item["role"], "name": {"type": "string", "enum": names}, "content": item["content"]}
    return {"type": "array", "items": obj(item), "minItems": count, "maxItems": count}


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as the prompt gives it."""
    return json.dumps(schema, ensure_ascii=False, separators=(", ", ": "))


# -- reading an answer ---------------------------------------------------------------


def read_json(answer: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON object in a model's answer. With ``schema``, the object that
    has the schema's required keys (a bare array stands for the one array the
    schema asks for); without, the first object."""
    body = REASONING.sub(" ", answer)
    closing = None
    for closing in CLOSING.finditer(body):
        pass
    if closing is not None:
        body = body[closing.end():]
    places = [m.group(1) for m in FENCED.finditer(body)][::-1] + [body]
    reasons: list[str] = []
    for place in places:
        value = _strict(place, schema, reasons)
        if value is not None:
            return value
    for place in places:
        value = _repaired(place, schema, reasons)
        if value is not None:
            return value
    if not START.search(body):
        raise VariantRejected("the answer has no JSON object")
    raise VariantRejected(reasons[0] if reasons else "the answer has no JSON object")


def _candidates(place: str) -> list[tuple[int, Any]]:
    """Each top-level JSON value in ``place`` that parses strictly, with where it starts."""
    decoder = json.JSONDecoder()
    out = []
    position = 0
    tried = 0
    while tried < MAX_CANDIDATES:
        match = START.search(place, position)
        if match is None:
            break
        tried += 1
        try:
            value, end = decoder.raw_decode(place, match.start())
        except json.JSONDecodeError:
            position = match.start() + 1
            continue
        out.append((match.start(), value))
        position = end
    return out


def _strict(place: str, schema: dict[str, Any] | None, reasons: list[str]) -> dict[str, Any] | None:
    objects, arrays = [], []
    for _, value in _candidates(place):
        fitted = _fit(value, schema, reasons)
        if fitted is not None:
            (arrays if isinstance(value, list) else objects).append(fitted)
    fitting = objects or arrays  # a bracketed aside in prose is no answer when an object is there
    if not fitting:
        return None
    return fitting[0] if schema is None else fitting[-1]  # after reasoning, the answer comes last


def _repaired(place: str, schema: dict[str, Any] | None, reasons: list[str]) -> dict[str, Any] | None:
    from json_repair import repair_json

    starts = [m.start() for m in START.finditer(place)][:MAX_CANDIDATES]
    for start in starts[:8] + starts[8:][-8:]:
        try:
            value, log = repair_json(place[start:], return_objects=True, logging=True)
        except Exception:  # noqa: BLE001 - a repair library giving up is a bad answer
            continue
        values = value if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value) and not _is_bare(value, schema) else [value]
        for candidate in values:
            fitted = _fit(candidate, schema, reasons)
            if fitted is None:
                continue
            unsafe = [entry.get("text", "") for entry in log if any(word in entry.get("text", "") for word in UNSAFE_REPAIR)]
            if unsafe:
                reasons.insert(0, "the answer is not valid JSON: it is cut short or a string in it is not closed (escape quotes inside strings)")
                return None
            return fitted
    if starts and not reasons:
        reasons.append("the answer is not valid JSON")
    return None


def _array_key(schema: dict[str, Any] | None) -> str | None:
    """The key of the one array a schema requires (where a bare array goes)."""
    if not schema or schema.get("type") != "object":
        return None
    arrays = [k for k in schema.get("required", []) if (schema.get("properties", {}).get(k) or {}).get("type") == "array"]
    return arrays[0] if len(arrays) == 1 and len(schema.get("required", [])) == 1 else None


def _is_bare(value: Any, schema: dict[str, Any] | None) -> bool:
    return isinstance(value, list) and _array_key(schema) is not None and not any(isinstance(v, dict) and _array_key(schema) in v for v in value)


def _fit(value: Any, schema: dict[str, Any] | None, reasons: list[str]) -> dict[str, Any] | None:
    """``value`` as the answer object the schema describes, or None (with why in ``reasons``)."""
    if isinstance(value, list):
        key = _array_key(schema)
        if key is None:
            reasons.append("the answer is not a JSON object")
            return None
        value = {key: value}
    if not isinstance(value, dict):
        return None
    if schema is None:
        return value
    missing = [k for k in schema.get("required", []) if k not in value]
    if missing:
        reasons.append(f"the answer's JSON has no {missing[0]!r}")
        return None
    return value
