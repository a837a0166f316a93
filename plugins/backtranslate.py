"""Back-translation through Apertium, offline.

English turns go to a pivot language and back (``--via spa`` by default; the
pivots offered are the installed Apertium pairs that go both ways). With
``--model``, the run's language model translates instead, from and to any
language (two requests per conversation). A whole
batch of turns goes through one Apertium pipeline per direction, one line per
line of text. Protected spans are found in the whole turn (a fenced code
block spans lines, and a turn's script is the whole turn's), swapped for
placeholders that Apertium passes through untouched, and put back afterwards;
a line whose placeholders did not survive keeps its original text, and a line
that is all protected (code) is not sent at all.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import subprocess
from pathlib import Path

import augment
from augment import ASSISTANT, LLM_OPTIONS, USER, AugmentError, Conversation, LLMAugmenter, Option, StepContext, UsageError, VariantRejected, language_name, string_list

MODES_DIRS = ("/usr/share/apertium/modes", "/usr/local/share/apertium/modes")
SOURCE = "eng"
#: ISO 639-3 (Apertium's names) -> ISO 639-1 (langdetect's)
ISO1 = {"eng": "en", "spa": "es", "cat": "ca", "glg": "gl", "epo": "eo", "isl": "is", "mkd": "mk", "hbs": "sh", "fra": "fr", "por": "pt", "ita": "it"}
INSTALL_HINT = "install one with apt-get (apertium-eng-spa, apertium-eng-cat, ...); 'make setup' installs apertium-eng-spa"
# Apertium marks words it could not analyse or generate; -u drops '*', these remain.
MARKS = re.compile(r"[#@](?=\w)")


def installed_modes() -> set[str]:
    modes: set[str] = set()
    for folder in MODES_DIRS:
        if os.path.isdir(folder):
            modes.update(p.stem for p in Path(folder).glob("*.mode"))
    return modes


def pivots() -> list[str]:
    modes = installed_modes()
    return sorted(m.split("-")[1] for m in modes if m.startswith(f"{SOURCE}-") and f"{m.split('-')[1]}-{SOURCE}" in modes)


def _check_pivot(value: str) -> str | None:
    available = pivots()
    if value in available:
        return None
    if not available:
        return f"{value!r}: no Apertium pair is installed; {INSTALL_HINT}"
    return f"{value!r} is not an installed pivot (installed: {', '.join(available)})"


def _placeholder(n: int) -> str:
    """Q Z X followed by letters: a token Apertium leaves alone."""
    letters = string.ascii_uppercase
    tag = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        tag = letters[r] + tag
    return f"QZX{tag}"


class Apertium:
    """Runs one Apertium mode over many lines at once."""

    def __init__(self, timeout: float = 600) -> None:
        self.binary = shutil.which("apertium")
        self.timeout = timeout

    def translate(self, mode: str, lines: list[str]) -> list[str]:
        if not lines:
            return []
        if self.binary is None:
            raise AugmentError(f"the apertium command is not installed; {INSTALL_HINT}")
        done = subprocess.run(
            [self.binary, "-u", mode],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=self.timeout,
        )
        if done.returncode != 0:
            raise AugmentError(f"apertium {mode} failed: {done.stderr.strip()[:300]}")
        out = done.stdout.split("\n")
        if out and out[-1] == "":
            out.pop()
        if len(out) != len(lines):
            raise AugmentError(f"apertium {mode} returned {len(out)} lines for {len(lines)}")
        return [MARKS.sub("", line) for line in out]


class BackTranslate(LLMAugmenter):
    name = "backtranslate"
    summary = "back-translation through a pivot language: Apertium offline, or --model for any language pair"
    roles = (USER, ASSISTANT)
    languages = frozenset({"en"})
    wants_language = False
    template = "translate.txt"
    options = (
        Option("via", str, "spa", "pivot language: an installed Apertium pair (ISO 639-3), or with --model any language"),
        Option("model", bool, False, "translate with the run's --model instead of Apertium"),
    ) + LLM_OPTIONS
    #: With the default --via; requirements() follows the options (none with --model).
    requires = (f"apertium:{SOURCE}-spa", f"apertium:spa-{SOURCE}")

    def __init__(self, resources=None, **values):
        super().__init__(resources, **values)
        self.apertium = Apertium()
        if self.values["model"]:
            self.wants_language = True  # the answer's language is checked
        else:
            problem = _check_pivot(self.values["via"])
            if problem:
                raise UsageError(f"backtranslate --via {problem}")

    @classmethod
    def needs_model(cls, values):
        return bool(values.get("model"))

    def requirements(self):
        if self.values["model"]:
            return ()
        via = self.values["via"]
        return (f"apertium:{SOURCE}-{via}", f"apertium:{via}-{SOURCE}")

    @classmethod
    def check_requirement(cls, requirement):
        kind, _, mode = requirement.partition(":")
        if kind != "apertium":
            return super().check_requirement(requirement)
        if shutil.which("apertium") is None:
            return f"the apertium command is not installed; {INSTALL_HINT}"
        if mode not in installed_modes():
            return f"no Apertium mode {mode} here; {INSTALL_HINT}"
        return None

    @classmethod
    def describe_languages(cls) -> str:
        return "en with Apertium; any language with --model"

    def handled_languages(self):
        return None if self.values["model"] else self.languages  # a model translates from any language

    def augment_many(self, items: list[tuple[Conversation, StepContext]]) -> list[Conversation | Exception]:
        if self.values["model"]:
            return super().augment_many(items)
        return self._apertium_many(items)

    # -- through a model -----------------------------------------------------------
    def estimate(self, conversation, context):
        requests, tokens = super().estimate(conversation, context)
        return 2 * requests, 2 * tokens  # there and back

    def _pivot(self) -> tuple[str, str | None]:
        """The pivot as the prompt names it ("Spanish" for spa or es), and its
        ISO 639-1 code when known."""
        from augment import LANGUAGE_NAMES

        via = self.values["via"].strip()
        code = ISO1.get(via.lower(), via.lower() if via.lower() in LANGUAGE_NAMES else None)
        if code is None:
            code = next((c for c, name in LANGUAGE_NAMES.items() if name.lower() == via.lower()), None)
        return (LANGUAGE_NAMES.get(code, via) if code else via), code

    def schema(self, conversation, context):
        from augment import schema_object, schema_string_array

        return schema_object({"turns": schema_string_array(len(context.turns))})

    def messages(self, conversation, context):
        masked = [_mask(conversation.turns[i].content, context)[0] for i in sorted(context.turns)]
        return self._translation(masked, self._pivot()[0], self.schema(conversation, context))

    def _translation(self, texts: list[str], target: str, schema) -> list[dict[str, str]]:
        from augment import schema_text
        from augment import SCHEMA_NOTE

        messages = self.prompt().render(target=target, texts=texts, count=str(len(texts)), schema=schema_text(schema))
        if "$schema" not in self.prompt().text:
            messages[-1] = {**messages[-1], "content": messages[-1]["content"] + SCHEMA_NOTE + schema_text(schema)}
        return messages

    async def run_one(self, conversation: Conversation, context: StepContext) -> Conversation:
        from augment import RequestRefused

        assert self.client is not None
        indices = sorted(context.turns)
        masked = [_mask(conversation.turns[i].content, context) for i in indices]
        _, per_turn = self.expected_languages(conversation, context)
        source = [per_turn[i] for i in indices]
        target = self._pivot()[0]
        schema = self.schema(conversation, context)

        def there_texts(answer):
            return string_list(answer, "turns", len(indices))

        def back_texts(answer):
            texts = string_list(answer, "turns", len(indices))
            self.check_language(texts, context, source)  # each turn back in its own language, else asked again
            return texts

        first = self._translation([m for m, _ in masked], target, schema)
        over = self.client.overflow(first)
        if over is not None:  # nothing to leave out: every text is translated
            with self.client._lock:
                self.client.usage.too_long += 1
            where = f" for {conversation.location}" if conversation.location is not None else ""
            raise RequestRefused(f"the prompt{where} does not fit the model's context: {over[0]} tokens with --max-tokens {self.client.settings.max_tokens}, the context holds {over[1]}; not sent")
        there = await self.ask_async(first, context.seed, there_texts, schema)
        back_to = language_name(next((lang for lang in source if lang), context.language))
        back = await self.ask_async(self._translation(there, back_to, schema), context.seed + 1000, back_texts, schema)
        out = conversation.copy()
        for i, (line, spans), text in zip(indices, masked, back):
            restored = _unmask(text, spans, None)
            if restored is None:
                raise VariantRejected("the model moved or dropped a protected span's placeholder")
            out.turns[i].content = restored
        return out

    # -- through Apertium ------------------------------------------------------------
    def _apertium_many(self, items: list[tuple[Conversation, StepContext]]) -> list[Conversation | Exception]:
        # Cut every changeable turn into lines, protected spans masked.
        lines: list[str] = []
        index: dict[str, int] = {}
        plans = []  # per item: [(turn index, [(masked line id or None, original line, spans)])]
        for conv, ctx in items:
            plan = []
            for t in sorted(ctx.turns):
                parts = []
                for masked, line, spans in _masked_lines(conv.turns[t].content, ctx):
                    if not any(c.isalpha() for c in _PLACEHOLDERS.sub("", masked)):
                        parts.append((None, line, spans))
                        continue
                    if masked not in index:
                        index[masked] = len(lines)
                        lines.append(masked)
                    parts.append((index[masked], line, spans))
                plan.append((t, parts))
            plans.append(plan)
        via = self.values["via"]
        there = self.apertium.translate(f"{SOURCE}-{via}", lines)
        back = self.apertium.translate(f"{via}-{SOURCE}", there)
        out: list[Conversation | Exception] = []
        for (conv, _), plan in zip(items, plans):
            new = conv.copy()
            for t, parts in plan:
                new.turns[t].content = "\n".join(
                    line if i is None else _unmask(back[i], spans, line) for i, line, spans in parts
                )
            out.append(new)
        return out


def _mask(line: str, ctx: StepContext) -> tuple[str, list[str]]:
    spans: list[str] = []
    pieces = []
    for piece, protected in ctx.protector.segments(line):
        if protected:
            pieces.append(_placeholder(len(spans)))
            spans.append(piece)
        else:
            pieces.append(piece)
    return "".join(pieces), spans


_PLACEHOLDERS = re.compile(r"QZX[A-Z]+")


def _masked_lines(text: str, ctx: StepContext) -> list[tuple[str, str, list[str]]]:
    """``text`` cut into lines, protected spans masked: ``(masked line, original
    text, spans)`` for each. Spans are found in the whole text, so a span
    across lines (a code block) is one placeholder on one masked line."""
    out: list[tuple[str, str, list[str]]] = []
    masked: list[str] = []
    original: list[str] = []
    spans: list[str] = []
    for piece, protected in ctx.protector.segments(text):
        if protected:
            masked.append(_placeholder(len(spans)))
            original.append(piece)
            spans.append(piece)
            continue
        lines = piece.split("\n")
        for k, line in enumerate(lines):
            if k:
                out.append(("".join(masked), "".join(original), spans))
                masked, original, spans = [], [], []
            masked.append(line)
            original.append(line)
    out.append(("".join(masked), "".join(original), spans))
    return out


def _unmask(text: str, spans: list[str], original: str | None):
    """The translated line with its spans back, spaced like the original; if
    a placeholder did not survive, ``original`` (None: say so with None)."""
    if original is not None:
        if "  " not in original:
            text = re.sub(r" {2,}", " ", text)  # Apertium leaves a gap where it drops a word
        core = text.strip()
        text = original[: len(original) - len(original.lstrip())] + core + original[len(original.rstrip()) :]
    for n, span in enumerate(spans):
        mark = _placeholder(n)
        if text.count(mark) != 1:
            return original
        text = text.replace(mark, span)
    return text


@augment.hookimpl
def register_augmenters(register):
    register(BackTranslate)
