"""``augment review``: a sample of variants beside their sources, the words
that changed highlighted, with their chain and provenance, and the rejects
with their reasons; a page a person reads before training on a file.

A variant's source is the original of the same source in the file itself
(grouped as :mod:`augment.corpus.split` groups), else the record at
``provenance.source`` ``file:line`` (or in the file given instead), read with
the project's :class:`Reader` and repaired again as the run repaired it.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Callable, Iterable, Iterator

from augment.conversation import SYSTEM, Conversation
from augment.corpus.split import group_key
from augment.corpus.stats import CJK_CHARS, NUMBER, aligned, chain_name, changed_share
from augment.dataio.reading import Reader, Source, detect
from augment.dataio.validation import GREETING_POLICIES, repair
from augment.errors import RecordError, UsageError
from augment.patterns import LazyPattern

#: Display tokens: spaces, a CJK character, a word, a punctuation mark.
DIFF_TOKEN = LazyPattern(f"\\s+|[{CJK_CHARS}]|[^\\W{CJK_CHARS}]+|[^\\w\\s]", re.UNICODE)


def is_variant(conv: Conversation) -> bool:
    return bool((conv.provenance or {}).get("chain"))


def source_key(conv: Conversation) -> str:
    return group_key(conv, -1)


# -- finding sources -------------------------------------------------------------------


def replay_repairs(conv: Conversation, done: list[str]) -> Conversation:
    """``conv`` repaired as the run did (``done``: its ``provenance.repairs``),
    trying each greeting policy until the same repairs come out."""
    if not done:
        return conv
    for policy in GREETING_POLICIES:
        attempt = conv.copy()
        if repair(attempt, policy) == done:
            return attempt
    attempt = conv.copy()
    repair(attempt)
    return attempt


def from_files(formats: dict[str, Any], variants: list[Conversation], override: str | None = None,
               fallback: str | None = None) -> list[Conversation | None]:
    """The source record of each variant, read from ``provenance.source.file``
    (``override`` instead when given; ``fallback`` when that file is missing),
    at its line; None when it cannot be found."""
    wanted: dict[str, set[int]] = {}
    places: list[tuple[str, int] | None] = []
    for conv in variants:
        src = (conv.provenance or {}).get("source") or {}
        path = override or src.get("file")
        if path and not override and not os.path.isfile(path):
            path = fallback
        if not path or src.get("line") is None:
            places.append(None)
            continue
        places.append((path, int(src["line"])))
        wanted.setdefault(path, set()).add(int(src["line"]))
    found: dict[tuple[str, int], Conversation] = {}
    for path, lines in wanted.items():
        try:
            reader = Reader(formats, Source(path))
        except UsageError:
            continue
        for raw in reader.read():
            if raw.error is None and raw.location.line in lines and (path, raw.location.line) not in found:
                try:
                    conv = (raw.format or detect(formats.values(), raw.value)).decode(raw.value)
                except RecordError:
                    continue
                conv.location = raw.location
                found[(path, raw.location.line)] = conv
    out: list[Conversation | None] = []
    for conv, place in zip(variants, places):
        source = found.get(place) if place else None
        out.append(replay_repairs(source, (conv.provenance or {}).get("repairs") or []) if source else None)
    return out


# -- word diff --------------------------------------------------------------------------


def _pieces(text: str) -> list[tuple[str, str]]:
    """(spaces before, token) pairs; trailing spaces as a last empty token."""
    out: list[tuple[str, str]] = []
    space = ""
    for m in DIFF_TOKEN.finditer(text):
        if m.group().isspace():
            space += m.group()
        else:
            out.append((space, m.group()))
            space = ""
    if space:
        out.append((space, ""))
    return out


def _runs(before: str, after: str) -> Iterator[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]]:
    """(op, source pieces, variant pieces) runs of a word diff."""
    a, b = _pieces(before), _pieces(after)
    matcher = SequenceMatcher(None, [t for _, t in a], [t for _, t in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        yield op, a[i1:i2], b[j1:j2]


def _joined(pieces: list[tuple[str, str]]) -> str:
    return "".join(s + t for s, t in pieces)


def word_diff(before: str, after: str) -> tuple[str, str]:
    """``before`` and ``after`` as HTML, everything escaped, the runs of words
    that differ in ``<del>`` and ``<ins>``. CJK text is compared character by
    character."""
    left: list[str] = []
    right: list[str] = []
    for op, gone, new in _runs(before, after):
        for side, pieces, tag in ((left, gone, "del"), (right, new, "ins")):
            if not pieces:
                continue
            lead, text = pieces[0][0], _joined(pieces)[len(pieces[0][0]):]
            if op == "equal" or not text.strip():
                side.append(html.escape(lead + text))
            else:
                side.append(f"{html.escape(lead)}<{tag}>{html.escape(text)}</{tag}>")
    return "".join(left), "".join(right)


def inline_diff(before: str, after: str) -> str:
    """One text with ``[-gone-]{+new+}`` where the words differ (as ``git diff --word-diff``)."""
    out: list[str] = []
    for op, gone, new in _runs(before, after):
        if op == "equal":
            out.append(_joined(gone))
            continue
        lead = gone[0][0] if gone else new[0][0]
        if gone and new and new[0][0] != lead:
            lead = ""
        old_text, new_text = _joined(gone)[len(lead):], _joined(new)[len(lead):]
        out.append(lead + (f"[-{old_text}-]" if old_text else "") + (f"{{+{new_text}+}}" if new_text else ""))
    return "".join(out)


# -- the sample -------------------------------------------------------------------------


@dataclass
class Pair:
    variant: Conversation
    source: Conversation | None
    #: where the source was found: "the original in this file", "path:line", or None
    found_in: str | None = None

    @property
    def changed(self) -> float | None:
        if self.source is None:
            return None
        c, t = changed_share((x.content if x else "", y.content if y else "") for x, y in aligned(self.source, self.variant) if (x or y).role != SYSTEM)
        return c / t if t else 0.0


@dataclass
class Review:
    path: str
    seed: int
    records: int = 0
    variants: int = 0
    sources: int = 0
    pairs: list[Pair] = field(default_factory=list)
    #: normalised reason -> count; and the sampled rejects
    reasons: Counter = field(default_factory=Counter)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    #: each sampled reject's dropped variant beside its source, or None
    dropped: list[Pair | None] = field(default_factory=list)
    rejected: int = 0


def sample_review(path: str, read: Callable[[], Iterator[Conversation]], formats: dict[str, Any], size: int, seed: int,
                  override: str | None = None, rejects: Iterable[dict[str, Any]] = ()) -> Review:
    """``size`` variants of the file drawn with ``seed`` (the same ones every
    time), each with its source, and ``size`` of the rejects (a dropped
    variant with its source too); ``read()`` yields the file's conversations
    (it is called twice)."""
    review = Review(path, seed)
    rng = random.Random(seed)
    for n, entry in enumerate(rejects):  # a reservoir: the same sample every time, however many
        review.rejected += 1
        review.reasons[reason_key(entry)] += 1
        if n < size:
            review.rejects.append(entry)
        elif (k := rng.randrange(n + 1)) < size:
            review.rejects[k] = entry
    dropped = [_decoded(formats, entry.get("output")) for entry in review.rejects]
    variant_at: dict[int, str] = {}
    keys: set[str] = set()
    for i, conv in enumerate(read()):
        review.records += 1
        key = source_key(conv)
        if is_variant(conv):
            variant_at[i] = key
        keys.add(key)
    review.variants = len(variant_at)
    review.sources = len(keys)
    chosen = sorted(random.Random(seed).sample(sorted(variant_at), min(size, len(variant_at))))
    picked = set(chosen)
    wanted = {variant_at[i] for i in chosen} | {source_key(d) for d in dropped if d is not None}
    variants: dict[int, Conversation] = {}
    originals: dict[str, Conversation] = {}
    for i, conv in enumerate(read()):
        if i in picked:
            variants[i] = conv
        elif i not in variant_at and override is None and (key := source_key(conv)) in wanted:
            originals.setdefault(key, conv)
    everyone = [variants[i] for i in chosen] + [d for d in dropped if d is not None]
    missing = [v for v in everyone if source_key(v) not in originals]
    from_file = dict(zip(map(id, missing), from_files(formats, missing, override)))
    pairs = {}
    for conv in everyone:
        if id(conv) in from_file:
            source = from_file[id(conv)]
            pairs[id(conv)] = Pair(conv, source, str(source.location) if source is not None and source.location else None)
        else:
            pairs[id(conv)] = Pair(conv, originals[source_key(conv)], "the original in this file")
    review.pairs = [pairs[id(variants[i])] for i in chosen]
    review.dropped = [pairs[id(d)] if d is not None else None for d in dropped]
    return review


def _decoded(formats: dict[str, Any], record: Any) -> Conversation | None:
    """A dropped output as a conversation, when it is a variant."""
    if not isinstance(record, dict):
        return None
    try:
        conv = detect(formats.values(), record).decode(record)
    except Exception:  # noqa: BLE001 - then it is shown as it is
        return None
    return conv if is_variant(conv) else None


def reason_key(entry: dict[str, Any]) -> str:
    """A reason with its numbers left out, so like reasons count together."""
    return NUMBER.sub("N", str(entry.get("reason", "")))[:160]


# -- the page ---------------------------------------------------------------------------

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin: 2.2rem 0 .4rem; border-bottom: 1px solid #d0d7de; }
.lead, .prov { color: #424a53; } code { font-size: .9em; }
.prov { font-size: .9rem; margin: .3rem 0 .6rem; } .prov ol { margin: .2rem 0; padding-left: 1.4rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td, th { padding: .35rem .6rem; border-bottom: 1px solid #e6e8eb; vertical-align: top; text-align: left; }
th { font-weight: 600; background: #f6f8fa; } th.role, td.role { width: 6.5rem; color: #57606a; font-size: .85rem; }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; } tr.same td.text { color: #6e7781; }
del { background: #ffd7d5; color: #82071e; text-decoration: line-through; text-decoration-color: #cf222e80; }
ins { background: #c8f2d2; color: #0a3622; text-decoration: underline; text-decoration-color: #1a7f3780; }
details summary { cursor: pointer; color: #57606a; } .missing { color: #9a6700; }
table.counts { width: auto; } table.counts td:first-child { text-align: right; width: 3rem; }
.reject { border-left: 3px solid #d0d7de; padding: .2rem .8rem; margin: .8rem 0; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _chain_items(chain: list[dict[str, Any]]) -> str:
    items = []
    for step in chain:
        options = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}" for k, v in (step.get("options") or {}).items())
        roles = ", ".join(step.get("roles") or [])
        made = f"variant {int(step.get('variant', 0)) + 1} of {step.get('variants', 1)}"
        items.append(f"<li><b>{_esc(step.get('step'))}</b> {_esc(options)}; roles: {_esc(roles or 'all')}; {_esc(made)}</li>")
    return "<ol>" + "".join(items) + "</ol>"


def _provenance(pair: Pair) -> str:
    prov = pair.variant.provenance or {}
    src = prov.get("source") or {}
    where = f"{src.get('file')}:{src.get('line')}" + (f" (id {src['id']})" if src.get("id") is not None else "")
    rows = [f"source <code>{_esc(where)}</code>, seed {_esc(prov.get('seed'))}, model {_esc(prov.get('model') or 'none')}"]
    if prov.get("repairs"):
        rows.append("repairs: " + _esc("; ".join(prov["repairs"])))
    shown = f"compared with {_esc(pair.found_in)}" if pair.source is not None else "<span class='missing'>source not found: shown alone (give it with --source)</span>"
    rows.append(shown)
    return f"<div class='prov'>{'<br>'.join(rows)}{_chain_items(prov.get('chain') or [])}</div>"


def _turn_rows(pair: Pair) -> str:
    rows = []
    turns = aligned(pair.source, pair.variant) if pair.source is not None else [(None, t) for t in pair.variant.turns]
    for before, after in turns:
        role = _esc((after or before).role)
        old, new = before.content if before else "", after.content if after else ""
        if pair.source is not None and old == new:
            body = _esc(new)
            if (after or before).role == SYSTEM or len(new) > 600:
                body = f"<details><summary>unchanged ({len(new)} characters)</summary>{body}</details>"
            rows.append(f"<tr class='same'><td class='role'>{role}</td><td class='text' colspan='2'>{body}</td></tr>")
            continue
        left, right = word_diff(old, new) if pair.source is not None else ("", _esc(new))
        rows.append(f"<tr><td class='role'>{role}</td><td class='text'>{left}</td><td class='text'>{right}</td></tr>")
    return "<table><tr><th class='role'>turn</th><th>source</th><th>variant</th></tr>" + "".join(rows) + "</table>"


def _reject_body(entry: dict[str, Any], formats: dict[str, Any]) -> str:
    """A rejected record's turns, or its text as it was when it cannot be read."""
    record = entry.get("output", entry.get("record"))
    try:
        turns = detect(formats.values(), record).decode(record).turns
    except Exception:  # noqa: BLE001 - shown as it is
        raw = entry.get("raw", "") if record is None else json.dumps(record, ensure_ascii=False)
        return f"<div class='text'>{_esc(str(raw)[:600])}</div>"
    cut = lambda text: text[:400] + ("…" if len(text) > 400 else "")  # noqa: E731
    return "<table>" + "".join(f"<tr><td class='role'>{_esc(t.role)}</td><td class='text'>{_esc(cut(t.content))}</td></tr>" for t in turns if t.role != SYSTEM) + "</table>"


def page(review: Review, formats: dict[str, Any]) -> str:
    title = f"augment review: {review.path}"
    parts = [
        f"<h1>Review: {_esc(review.path)}</h1>",
        f"<p class='lead'>{len(review.pairs)} of {review.variants} variants drawn at random (seed {review.seed}) from "
        f"{review.records} records of {review.sources} sources, each beside its source. "
        "<del>Struck out</del>: words of the source the variant changed or left out; "
        "<ins>underlined</ins>: what it has instead. Is each one fluent, in character, and true to its scene?</p>",
    ]
    if not review.pairs:
        parts.append("<p>No variants in this file (no record has a chain in its provenance).</p>")
    for n, pair in enumerate(review.pairs, 1):
        src = (pair.variant.provenance or {}).get("source") or {}
        name = src.get("id") or f"{src.get('file')}:{src.get('line')}"
        changed = f" · {pair.changed:.0%} of words changed" if pair.changed is not None else ""
        chain = chain_name((pair.variant.provenance or {}).get("chain") or [])
        parts.append(f"<h2 id='v{n}'>{n}. {_esc(name)} · {_esc(chain)}{changed}</h2>{_provenance(pair)}{_turn_rows(pair)}")
    parts.append(f"<h2 id='rejects'>Rejects: {review.rejected}</h2>")
    if review.rejected:
        counts = "".join(f"<tr><td>{n}</td><td>{_esc(reason)}</td></tr>" for reason, n in review.reasons.most_common())
        parts.append(f"<table class='counts'><tr><th>count</th><th>reason</th></tr>{counts}</table>")
        parts.append(f"<p class='lead'>{len(review.rejects)} of them, drawn with the same seed:</p>")
        for entry, pair in zip(review.rejects, review.dropped):
            body = _turn_rows(pair) if pair is not None else _reject_body(entry, formats)
            chain = f" ({_esc(chain_name(pair.variant.provenance['chain']))})" if pair is not None else ""
            parts.append(f"<div class='reject'><p><code>{_esc(entry.get('location', '?'))}</code>{chain} {_esc(entry.get('reason', ''))}</p>{body}</div>")
    else:
        parts.append("<p>No rejects file beside this file, or nothing in it.</p>")
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_esc(title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def text(review: Review, turns: int = 3) -> list[str]:
    """The short version for a terminal: the changed turns of each variant as a word diff."""
    out = [f"{review.path}: {review.records} records, {review.variants} variants of {review.sources} sources; "
           f"{len(review.pairs)} drawn with seed {review.seed} ([-source words-]{{+variant words+}})"]
    for n, pair in enumerate(review.pairs, 1):
        src = (pair.variant.provenance or {}).get("source") or {}
        chain = chain_name((pair.variant.provenance or {}).get("chain") or [])
        changed = f", {pair.changed:.0%} of words changed" if pair.changed is not None else ", source not found"
        out += ["", f"{n}. {src.get('file')}:{src.get('line')}" + (f" ({src['id']})" if src.get("id") is not None else "") + f": {chain}{changed}"]
        if pair.source is None:
            continue
        diffs = [(a or b).role + ": " + inline_diff(a.content if a else "", b.content if b else "")
                 for a, b in aligned(pair.source, pair.variant) if (a.content if a else None) != (b.content if b else None)]
        out += ["   " + line.replace("\n", "\n     ") for line in diffs[:turns]]
        if len(diffs) > turns:
            out.append(f"   ... {len(diffs) - turns} more changed turn(s); --html shows them all")
    out += ["", f"rejects: {review.rejected}"]
    out += [f"  {n:>4}  {reason}" for reason, n in review.reasons.most_common()]
    out += [f"  e.g. {entry.get('location', '?')}: {entry.get('reason', '')}" for entry in review.rejects[:turns]]
    return out
