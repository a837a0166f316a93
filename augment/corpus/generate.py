"""Conversations from a template: the engine of ``augment generate``.

A template is a Jinja2 file that renders one conversation per record, either as
a named-speaker script (``Name: line``, the script format; a first line
``System: ...`` is the system prompt) or as one JSON record of any registered
format. It is data, not code: it renders in Jinja2's immutable sandbox with
strict undefined names and no loader, so it reaches only what it is given:

- the slots of the vars file (``slots:``): one value each per record, drawn at
  random (a mapping of value to weight is drawn by weight) or, with
  ``--enumerate``, every combination in turn; and its ``lists:``, whole;
- ``fake`` (the template's locale, en_US unless it says ``{# locale: ... #}``)
  and ``fake_zh``, ``fake_ja``, ... (see LOCALES): Faker's data methods only;
- ``pick(list)``, ``sample(list, k)``, ``weighted(mapping or pairs)`` and the
  ``random`` filter, and ``record``, the record's number (1, 2, ...).

Every random choice comes from generators seeded by ``(seed, record number,
purpose)``, so a record does not depend on the others. The template is wrapped
in a :class:`TemplateFormat`, a whole-file format the reader reads like any
other, so the run (repairs, filters, rejects, dataset card) is the usual one.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import random
import re
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import orjson

from augment.conversation import SYSTEM, USER, Conversation, Location, Turn
from augment.dataio.formats import Format
from augment.dataio.reading import detect
from augment.errors import RecordError, UsageError

#: The name the template is read under (never a registered format's).
TEMPLATE = "template"
#: ``fake_<key>`` in a template is a Faker of that locale.
LOCALES = {"en": "en_US", "zh": "zh_CN", "tw": "zh_TW", "ja": "ja_JP", "ko": "ko_KR", "fr": "fr_FR",
           "de": "de_DE", "es": "es_ES", "it": "it_IT", "pt": "pt_BR", "ru": "ru_RU"}
#: A declaration at the top of a template: ``{# as: Garrick #}``.
DECLARATION = re.compile(r"\{#-?\s*(\w+)\s*:\s*(.*?)\s*-?#\}")
DECLARED = ("as", "format", "locale", "vars")
#: The speaker of a rendered script's first line that makes it the system prompt.
SYSTEM_SPEAKERS = ("System", "system", "SYSTEM", "系统")
#: Faker methods a template may not call: they take format strings that call
#: any generator method by name (a reseed breaks reproducibility) or make files.
NOT_FOR_TEMPLATES = frozenset({"binary", "image", "tar", "zip", "json", "json_bytes", "xml", "fixed_width",
                               "dsv", "csv", "tsv", "psv", "pystr_format", "enum"})
HELPERS = ("pick", "sample", "weighted", "record", "fake", *(f"fake_{k}" for k in LOCALES))


class RecordLocation(Location):
    """``template.jinja:record 12``: where a rendered record came from."""

    def __str__(self) -> str:
        return f"{self.file}:record {self.line}"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def derive(seed: int, record: int, purpose: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}/{record}/{purpose}".encode(), digest_size=8).digest(), "big")


def declarations(source: str) -> dict[str, str]:
    """The ``{# key: value #}`` lines at the top of a template (blank lines and
    other comments may stand among them); the first other line ends them."""
    out: dict[str, str] = {}
    for line in source.splitlines():
        text = line.strip()
        if not text:
            continue
        if not (text.startswith("{#") and text.endswith("#}")):
            break
        match = DECLARATION.fullmatch(text)
        if match and match.group(1) in DECLARED:
            out[match.group(1)] = match.group(2)
    return out


@dataclass
class Vars:
    """A vars file: ``slots`` (one value per record) and ``lists`` (whole)."""

    slots: dict[str, Any]
    lists: dict[str, Any]
    file: str | None = None
    sha256: str | None = None

    @classmethod
    def load(cls, path: str | None) -> "Vars":
        if path is None:
            return cls({}, {})
        import yaml

        try:
            data = Path(path).read_bytes()
            value = yaml.safe_load(data) or {}
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise UsageError(f"{path}: invalid YAML: {exc}") from None
        if not isinstance(value, dict) or set(value) - {"slots", "lists"}:
            raise UsageError(f"{path}: a vars file is a mapping with 'slots' and 'lists' (got {sorted(value) if isinstance(value, dict) else type(value).__name__})")
        sections = {}
        for section in ("slots", "lists"):
            items = value.get(section) or {}
            if not isinstance(items, dict):
                raise UsageError(f"{path}: '{section}' must map names to lists")
            for name, items_ in items.items():
                if not isinstance(name, str) or not name.isidentifier() or name in HELPERS:
                    raise UsageError(f"{path}: {section}: {name!r} cannot be a name in a template (a Python identifier, not one of {', '.join(HELPERS[:5])}, fake_..)")
                if not isinstance(items_, (list, dict)) or not items_:
                    raise UsageError(f"{path}: {section}: {name} must be a non-empty list (or a mapping of value to weight)")
                if isinstance(items_, dict) and section == "slots":
                    try:
                        _weights(items_, f"{path}: slots: {name}")
                    except ValueError as exc:
                        raise UsageError(str(exc)) from None
            sections[section] = items
        both = set(sections["slots"]) & set(sections["lists"])
        if both:
            raise UsageError(f"{path}: {', '.join(sorted(both))} is both a slot and a list")
        return cls(sections["slots"], sections["lists"], path, digest(data))


def _weights(mapping_or_pairs: Any, what: str) -> tuple[list[Any], list[float]]:
    pairs = list(mapping_or_pairs.items()) if isinstance(mapping_or_pairs, dict) else list(mapping_or_pairs)
    if not pairs or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
        raise ValueError(f"{what}: give a mapping of value to weight, or [value, weight] pairs")
    weights = [p[1] for p in pairs]
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in weights) or not sum(weights) > 0:
        raise ValueError(f"{what}: weights must be numbers >= 0, not all 0")
    return [p[0] for p in pairs], weights


class Fake:
    """A seeded Faker as a template sees it: its data methods, nothing else
    (the sandbox asks :meth:`method` for every attribute)."""

    def __init__(self, name: str, locale: str, seed: int, pool: dict[str, Any]) -> None:
        self._name, self._locale, self._seed, self._pool, self._seeded = name, locale, seed, pool, False

    def method(self, attribute: str) -> Any:
        faker, allowed = self._pool.get(self._name) or self._pool.setdefault(self._name, _faker(self._locale))
        if attribute not in allowed:
            return None
        if not self._seeded:
            faker.seed_instance(self._seed)
            self._seeded = True
        return getattr(faker, attribute)

    def __str__(self) -> str:
        return f"{self._name} ({self._locale})"

    __repr__ = __str__


def _faker_locales() -> list[str]:
    from faker.config import AVAILABLE_LOCALES  # Faker is imported by the command that renders, not at start-up

    return AVAILABLE_LOCALES


def _faker(locale: str) -> tuple[Any, frozenset[str]]:
    from faker import Faker

    faker = Faker(locale)
    allowed = {n for p in faker.get_providers() for n in dir(type(p)) if not n.startswith("_") and callable(getattr(type(p), n))}
    return faker, frozenset(allowed - NOT_FOR_TEMPLATES)


def _sandbox():
    from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, pass_context
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class NoFiles(BaseLoader):
        def get_source(self, environment, template):
            raise TemplateNotFound(template)

    class Sandbox(ImmutableSandboxedEnvironment):
        def getattr(self, obj, attribute):
            if isinstance(obj, Fake):
                value = obj.method(attribute) if isinstance(attribute, str) else None
                if value is None:
                    return self.undefined(f"{obj._name} has no method {attribute!r} a template may call", obj=obj, name=attribute, exc=SecurityError)
                return value
            return super().getattr(obj, attribute)

        def is_safe_attribute(self, obj, attr, value):  # the attr filter asks this
            return not isinstance(obj, Fake) and super().is_safe_attribute(obj, attr, value)

        def getitem(self, obj, argument):
            return self.getattr(obj, argument) if isinstance(obj, Fake) else super().getitem(obj, argument)

    env = Sandbox(undefined=StrictUndefined, loader=NoFiles(), autoescape=False, keep_trailing_newline=True)
    env.globals.pop("lipsum", None)  # draws from the global generator
    env.filters["random"] = pass_context(lambda context, seq: context["pick"](seq))
    return env


def compile_template(source: str, label: str):
    from jinja2 import TemplateSyntaxError

    env = _sandbox()
    try:
        code = env.compile(source, name=label, filename=label)
    except TemplateSyntaxError as exc:
        raise UsageError(f"{label}:{exc.lineno}: template syntax error: {exc.message}") from None
    return env.template_class.from_code(env, code, env.make_globals(None), None)


class TemplateFormat(Format):
    """A template read as a file of records: one rendered conversation per
    record, duplicates left out (and counted in ``duplicates``)."""

    name = TEMPLATE
    summary = "a Jinja2 template rendered into conversations (augment generate)"
    writable = False

    def __init__(self, path: str, formats: dict[str, Format], *, n: int | None = None, seed: int = 0, enumerate: bool = False,
                 speaker: str | None = None, renders: str | None = None, vars_path: str | None = None) -> None:
        try:
            data = Path(path).read_bytes()
            self.source = data.decode("utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}: invalid UTF-8: {exc.reason}") from None
        declared = declarations(self.source)
        self.path, self.sha256, self.seed = path, digest(data), seed
        self.speaker = speaker or declared.get("as") or None
        self.locale = declared.get("locale") or "en_US"
        if self.locale not in _faker_locales():
            raise UsageError(f"{path}: unknown Faker locale {self.locale!r}")
        self.renders = renders or declared.get("format") or None
        if vars_path is None and declared.get("vars"):
            vars_path = str(Path(path).parent / declared["vars"])
        self.vars = Vars.load(vars_path)
        self.formats = {k: f for k, f in formats.items() if k != TEMPLATE and (k == "script" or type(f).read is Format.read)}
        if self.renders not in (None, "json", *self.formats):
            raise UsageError(f"a template renders script, json or a JSON format ({', '.join(sorted(self.formats))}), not {self.renders!r}")
        if self.renders == "script" and not self.speaker:
            raise UsageError(self._no_speaker())
        self.enumerate = enumerate
        if enumerate and not self.vars.slots:
            raise UsageError("--enumerate walks the slots of the vars file, and it has none")
        if not enumerate and not n:
            raise UsageError("say how many records to render with --n N (or walk every combination of the slots with --enumerate)")
        total = math.prod(len(v) for v in self.vars.slots.values()) if enumerate else n
        self.count = min(total, n or total)
        compile_template(self.source, path)  # a syntax error stops the command before it starts
        self.duplicates = 0
        self.faker_version = metadata.version("faker")

    def _no_speaker(self) -> str:
        return f"{self.path} renders a script: say who the assistant is with --as NAME or a '{{# as: NAME #}}' line at its top"

    def slot_values(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(record number, slot values)`` for every record to render."""
        slots = self.vars.slots
        if self.enumerate:
            combos = itertools.product(*(list(v) for v in slots.values()))
            for n, combo in enumerate(itertools.islice(combos, self.count), 1):
                yield n, dict(zip(slots, combo))
            return
        for n in range(1, self.count + 1):
            rng = random.Random(derive(self.seed, n, "slots"))
            yield n, {name: rng.choices(*_weights(items, name))[0] if isinstance(items, dict) else rng.choice(items) for name, items in slots.items()}

    def context(self, n: int, slots: dict[str, Any], pool: dict[str, Any]) -> dict[str, Any]:
        rng = random.Random(derive(self.seed, n, "helpers"))

        def pick(items):
            if not (items := list(items)):
                raise ValueError("pick() from an empty list")
            return rng.choice(items)

        def sample(items, k):
            items = list(items)
            if not isinstance(k, int) or not 0 <= k <= len(items):
                raise ValueError(f"sample() of {k!r} from a list of {len(items)}")
            return rng.sample(items, k)

        def weighted(mapping_or_pairs):
            keys, weights = _weights(mapping_or_pairs, "weighted()")
            return rng.choices(keys, weights)[0]

        fakes = {"fake": Fake("fake", self.locale, derive(self.seed, n, "fake"), pool)}
        for key, locale in LOCALES.items():
            fakes[f"fake_{key}"] = Fake(f"fake_{key}", locale, derive(self.seed, n, f"fake_{key}"), pool)
        return {**self.vars.lists, **slots, **fakes, "pick": pick, "sample": sample, "weighted": weighted, "record": n}

    # -- the format -------------------------------------------------------
    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]]:
        from jinja2 import TemplateNotFound
        from jinja2.sandbox import SecurityError

        template = compile_template(stream.read().decode("utf-8-sig"), file)
        pool: dict[str, Any] = {}
        seen: set[bytes] = set()
        for n, slots in self.slot_values():
            record: dict[str, Any] = {"record": n, "slots": slots}
            try:
                record["text"] = template.render(self.context(n, slots, pool))
            except SecurityError as exc:
                raise UsageError(f"{file}:record {n}: a template may not do this: {exc}{_line(exc, file)}") from None
            except TemplateNotFound as exc:
                raise UsageError(f"{file}: a template cannot include, import or extend other files ({exc.name!r}){_line(exc, file)}") from None
            except Exception as exc:  # noqa: BLE001 - the template's own error costs its record
                record["error"] = f"{type(exc).__name__}: {exc}{_line(exc, file)}"
            if "error" not in record:
                try:
                    key = hashlib.blake2b(orjson.dumps(self.parse(record).text_key(), default=str), digest_size=16).digest()
                except RecordError:
                    pass  # rejected with its reason by decode
                else:
                    if key in seen:
                        self.duplicates += 1
                        continue
                    seen.add(key)
            yield RecordLocation(file, n), record

    def parse(self, record: dict[str, Any]) -> Conversation:
        """The conversation a rendered record holds."""
        text = record["text"]
        kind = self.renders or ("json" if text.lstrip().startswith(("{", "[")) else "script")
        if kind == "script":
            return self._script(text)
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"the template rendered invalid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise RecordError("the template rendered JSON that is not one record (an object)")
        fmt = detect(self.formats.values(), value) if kind == "json" else self.formats[kind]
        return fmt.decode(value)

    def _script(self, text: str) -> Conversation:
        if "script" not in self.formats:
            raise UsageError("the template renders a script, and no script format is installed")
        if not self.speaker:
            raise UsageError(self._no_speaker())
        fmt = self.formats["script"].configure(speaker=self.speaker)
        scenes = list(fmt.read(io.BytesIO(text.encode("utf-8")), self.path))
        if len(scenes) != 1:
            raise RecordError("the template rendered no dialogue" if not scenes else f"the template rendered {len(scenes)} scenes: one record is one conversation")
        conv = fmt.decode(scenes[0][1])
        first = conv.turns[0] if conv.turns else None
        if first is not None and first.role == USER and first.name in SYSTEM_SPEAKERS:
            conv.turns[0] = Turn(SYSTEM, first.content)
        if not conv.extra.get("scene"):
            conv.extra.pop("scene", None)
        return conv

    def decode(self, record: Any) -> Conversation:
        if record.get("error"):
            raise RecordError(record["error"])
        conv = self.parse(record)
        made = {"file": self.path, "sha256": self.sha256, "seed": self.seed, "record": record["record"], "slots": record["slots"], "faker": self.faker_version}
        if self.vars.file:
            made["vars"] = {"file": self.vars.file, "sha256": self.vars.sha256}
        conv.provenance = {**(conv.provenance or {}), "template": made}
        return conv


def _line(exc: BaseException, file: str) -> str:
    lines = [line for frame, line in traceback.walk_tb(exc.__traceback__) if frame.f_code.co_filename == file]
    return f" (line {lines[-1]})" if lines else ""
