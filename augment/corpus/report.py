"""How ``augment stats`` shows the figures of a corpus (and of its source
beside it when compared): as text lines, and with ``--html`` as one
self-contained page (inline CSS and SVG, no script, nothing fetched).

Histogram bins (:func:`bin_edges`): the range runs from the smallest value to
the 98th percentile, and what lies beyond goes into one last bar ("> N"), so
a few outliers do not squash the rest into one bar; when the values are still
crowded at the low end (the median in the lowest quarter of that range, which
spans 8× or more), the bins grow geometrically (a log scale). Edges are
rounded to readable numbers.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from typing import Any, Iterable

from augment.corpus.stats import TEMPLATE_TOKENS, TOKENS_PER_WORD, Stats, Tally

COLORS = ("#2f6db5", "#e07b1a")
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { padding: .25rem .8rem; border-bottom: 1px solid #e6e8eb; text-align: right; }
td:first-child, th:first-child { text-align: left; } th { background: #f6f8fa; font-weight: 600; }
.legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; vertical-align: middle; }
.charts { display: flex; flex-wrap: wrap; gap: 1.2rem 1.5rem; } figure { margin: 0; } figcaption { font-size: .85rem; color: #424a53; max-width: 470px; }
.note { font-size: .85rem; color: #424a53; max-width: 60rem; } .warn { color: #9a3412; font-weight: 600; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"
BINS = 12


def _quantile(values: Tally, q: float) -> float:
    return values.at(min(len(values) - 1, int(q * (len(values) - 1) + 0.5)))


def _tally(values: Iterable[float] | Tally) -> Tally:
    return values if isinstance(values, Tally) else Tally(values)


def _nice(x: float) -> float:
    """The readable number (1, 2, 2.5, 5 × 10^k) at or above ``x``."""
    power = 10 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x * 0.999)


def _round2(x: float) -> float:
    """``x`` to two significant digits."""
    if x <= 0:
        return 0
    power = 10 ** (math.floor(math.log10(x)) - 1)
    return round(x / power) * power


def bin_edges(values: Iterable[float] | Tally, bins: int = BINS, integers: bool = True) -> tuple[list[float], bool]:
    """Bin edges for ``values`` and whether they are on a log scale (see the
    module doc); values above the last edge belong to an overflow bar."""
    ordered = _tally(values)
    low, high = min(ordered.counts), max(ordered.counts)
    top = _quantile(ordered, 0.98)
    if top <= low or high <= top * 1.25:  # no tail worth a bar of its own
        top = high
    if top <= low:  # one value
        return ([low, low + 1] if integers else [low, low + 1e-9]), False
    if integers and top - low < 2 * bins:  # one bar a value
        return list(range(int(low), int(top) + 2)), False
    median = _quantile(ordered, 0.5)
    if low > 0 and top / low >= 8 and median - low < (top - low) / 4:
        ratio = (top / low) ** (1 / bins)
        edges = sorted({_round2(low * ratio**i) for i in range(bins + 1)})
        edges[0] = min(edges[0], low)
        if edges[-1] < top:
            edges.append(_round2(top * ratio))
        if integers:
            edges = sorted({math.floor(e) if i == 0 else math.ceil(e) for i, e in enumerate(edges)})
        return edges, True
    step = _nice((top - low) / bins)
    if integers:
        step = max(1, math.ceil(step))
    start = math.floor(low / step) * step
    edges = [start]
    while edges[-1] < top or (integers and edges[-1] == top) or len(edges) < 2:
        edges.append(round(edges[-1] + step, 10))
    return edges, False


def _label(x: float) -> str:
    if x >= 10000:
        return f"{x / 1000:.0f}k"
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:.2g}" if x < 1 else f"{x:.1f}"


def histogram(series: list[tuple[str, Iterable[float] | Tally]], title: str, *, edges: list[float] | None = None,
              marker: tuple[float, str] | None = None, width: int = 470, height: int = 240) -> str:
    """An SVG histogram of one or two series (the share of each series per bin),
    with ``edges`` given or chosen by :func:`bin_edges`, and an overflow bar."""
    tallies = [_tally(vs) for _, vs in series]
    values = Tally(sum((t.counts for t in tallies), Counter()))  # every series's, for the bins
    if not values:
        return f"<figure><figcaption>{html.escape(title)}: no data</figcaption></figure>"
    integers = all(float(v).is_integer() for v in values.counts)
    log = False
    if edges is None:
        edges, log = bin_edges(values, integers=integers)
    bins = len(edges) - 1
    overflow = max(values.counts) > edges[-1]
    slots = bins + (1 if overflow else 0)
    shares = []
    for tally in tallies:
        counts = [0] * slots
        for v, times in tally.counts.items():
            i = next((k for k in range(bins) if v < edges[k + 1]), bins - 1 if v <= edges[-1] else bins)
            counts[i] += times
        shares.append([c / (len(tally) or 1) for c in counts])
    top = max(max(s) for s in shares) or 1
    left, right, above, below = 46, 26, 14, 40 if overflow else 26
    plot_w, plot_h = width - left - right, height - above - below
    slot_w = plot_w / (slots + (0.4 if overflow else 0))
    bar_w = (slot_w - 2) / max(1, len(series))
    base = above + plot_h
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}" font-family="system-ui, sans-serif">']
    for frac in (0.5, 1.0):
        y = base - frac * plot_h
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e6e8eb"/>')
        svg.append(f'<text x="{left - 5}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#424a53">{top * frac:.0%}</text>')
    svg.append(f'<text x="{left - 5}" y="{base + 4}" font-size="12" text-anchor="end" fill="#424a53">0</text>')
    for k, share in enumerate(shares):
        for i, value in enumerate(share):
            x = left + (i + (0.4 if i == bins else 0)) * slot_w + 1 + k * bar_w
            h = value / top * plot_h
            span = f"&gt; {_label(edges[-1])}" if i == bins else f"{_label(edges[i])}–{_label(edges[i + 1])}"
            opacity = ' fill-opacity="0.6"' if i == bins else ""
            svg.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{COLORS[k]}"{opacity}><title>{html.escape(series[k][0])}: {span}: {value:.0%}</title></rect>')
    svg.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#57606a"/>')
    discrete = integers and all(b - a == 1 for a, b in zip(edges, edges[1:]))
    ticks = bins if discrete else bins + 1  # a value under each bar, or the edges between them
    every = max(1, math.ceil(ticks / 8))
    shown = list(range(0, ticks, every))
    if shown[-1] != ticks - 1:  # the last one always, in place of its neighbour: it says where the range ends
        shown[-1 if len(shown) > 1 else 1:] = [ticks - 1]
    for i in shown:
        x = left + (i + (0.5 if discrete else 0)) * slot_w
        svg.append(f'<text x="{x:.1f}" y="{base + 15}" font-size="12" text-anchor="middle" fill="#424a53">{_label(edges[i])}</text>')
    if overflow:
        svg.append(f'<text x="{left + (bins + 0.9) * slot_w:.1f}" y="{base + 30}" font-size="12" text-anchor="middle" fill="#424a53">more</text>')
    if marker is not None:
        svg.append(_marker(marker, edges, log, left, slot_w, above, base, width - right))
    svg.append("</svg>")
    scale = " (log scale)" if log else ""
    return f"<figure>{''.join(svg)}<figcaption>{html.escape(title)}{scale}</figcaption></figure>"


def _marker(marker: tuple[float, str], edges: list[float], log: bool, left: float, slot_w: float, above: float, base: float, end: float) -> str:
    value, text = marker
    if value >= edges[-1]:
        return f'<text x="{end}" y="{above + 10}" font-size="12" text-anchor="end" fill="#b42318">{html.escape(text)} {_label(value)} →</text>'
    i = next(k for k in range(len(edges) - 1) if value < edges[k + 1]) if value >= edges[0] else 0
    lo, hi = edges[i], edges[i + 1]
    frac = (math.log(value / lo) / math.log(hi / lo) if log else (value - lo) / (hi - lo)) if value >= lo else 0
    x = left + (i + frac) * slot_w
    anchor = "end" if x > (left + end) / 2 else "start"
    dx = -4 if anchor == "end" else 4
    return (f'<line x1="{x:.1f}" y1="{above}" x2="{x:.1f}" y2="{base}" stroke="#b42318" stroke-dasharray="4 3"/>'
            f'<text x="{x + dx:.1f}" y="{above + 10}" font-size="12" text-anchor="{anchor}" fill="#b42318">{html.escape(text)} {_label(value)}</text>')


def bars(counts: dict[str, int], title: str, width: int = 470) -> str:
    total = sum(counts.values()) or 1
    label_w = min(260, 12 + 7 * max((len(str(k)) for k in counts), default=4))
    bar_room = width - label_w - 90
    top = max(counts.values(), default=1) or 1
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{24 * max(1, len(counts)) + 8}" role="img" aria-label="{html.escape(title)}" font-family="system-ui, sans-serif">']
    for i, (label, n) in enumerate(counts.items()):
        text = str(label)
        shown = text if len(text) * 7 + 12 <= label_w else text[: max(1, (label_w - 12) // 7 - 1)] + "…"
        w = bar_room * n / top
        svg.append(f'<text x="0" y="{24 * i + 18}" font-size="12" fill="#1f2328"><title>{html.escape(text)}</title>{html.escape(shown)}</text>')
        svg.append(f'<rect x="{label_w}" y="{24 * i + 5}" width="{w:.1f}" height="16" fill="{COLORS[0]}"/>')
        svg.append(f'<text x="{label_w + w + 5:.1f}" y="{24 * i + 18}" font-size="12" fill="#1f2328">{n} ({n / total:.0%})</text>')
    svg.append("</svg>")
    return f"<figure>{''.join(svg)}<figcaption>{html.escape(title)}</figcaption></figure>"


def _table(head: list[str], rows: list[list[Any]]) -> str:
    out = "<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>"
    out += "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return out + "</table>"


def page(stats: Stats, source: Stats | None = None) -> str:
    compared = [stats] + ([source] if source else [])
    summaries = [x.summary() for x in compared]
    s = summaries[0]
    names = [x.name for x in compared]
    legend = "".join(f'<span style="background:{COLORS[i]}"></span>{html.escape(n)}' for i, n in enumerate(names))
    over = [f"{x['over_cutoff']} ({x['over_cutoff_rate']:.1%})" for x in summaries]
    rows = [
        ["conversations", *[x["conversations"] for x in summaries]],
        ["sources / augmented", *[f"{x['originals']} / {x['augmented']}" for x in summaries]],
        ["turns per conversation (mean)", *[x["turns_per_conversation"]["mean"] for x in summaries]],
        ["tokens per conversation (mean / p90, estimated)", *[f"{x['tokens_per_conversation']['mean']} / {x['tokens_per_conversation']['p90']}" for x in summaries]],
        [f"longer than --cutoff-len {stats.cutoff}", *over],
        ["exact duplicates", *[f"{x['duplicates']} ({x['duplicate_rate']:.1%})" for x in summaries]],
        ["similarity ≥ 0.9 to another conversation", *[x["near_duplicate_similarity"]["at_least_0.9"] for x in summaries]],
        ["distinct-1", *[f"{x['distinct_1']:.3f}" for x in summaries]],
        ["distinct-2", *[f"{x['distinct_2']:.3f}" for x in summaries]],
    ]
    sections = [f"<h2>Overview</h2><p class='legend'>{legend}</p>{_table([''] + names, rows)}"]
    if stats.over_cutoff:
        sections.append(f"<p class='warn'>{stats.over_cutoff} conversation(s) are longer than --cutoff-len {stats.cutoff}: trainers cut them off.</p>")
    charts = [
        histogram([(x.name, x.token_lengths) for x in compared], "estimated tokens per conversation", marker=(stats.cutoff, "cutoff")),
        histogram([(x.name, x.turns) for x in compared], "turns per conversation"),
    ]
    for role in sorted(set(stats.lengths) | set(source.lengths if source else {})):
        charts.append(histogram([(x.name, x.lengths.get(role, [])) for x in compared], f"characters per {role} turn"))
    charts.append(histogram([(x.name, x.similarity) for x in compared], "each conversation's highest similarity to another (MinHash of word 3-grams)",
                            edges=[i / 10 for i in range(11)], marker=(0.9, "near-duplicates")))
    sections.append("<h2>Distributions</h2><div class='charts'>" + "".join(charts) + "</div>")
    people = sorted({name for x in summaries for name in x["by_character"]}, key=lambda n: -s["by_character"].get(n, {}).get("conversations", 0))
    char_rows = [[name, *[f"{x['by_character'].get(name, {}).get('conversations', 0)} / {x['by_character'].get(name, {}).get('turns', 0)}" for x in summaries]] for name in people[:30]]
    sections.append("<h2>Characters</h2><p class='note'>Conversations / assistant turns per character: the linked persona, else the assistant's speaker name.</p>"
                    + _table(["character", *names], char_rows))
    lang_rows = [[lang, d["words"], f"{d['distinct_1']:.3f}", f"{d['distinct_2']:.3f}"] for lang, d in s["distinct_by_language"].items()]
    sections.append("<h2>Languages</h2><div class='charts'>" + bars(s["languages"], f"languages ({stats.name})")
                    + "<div>" + _table(["language", "words", "distinct-1", "distinct-2"], lang_rows) + "</div></div>")
    if s.get("yield"):
        sections.append("<h2>Yield by chain</h2>" + _table(["chain", "records", "per source"], [[c, y["records"], y["per_source"]] for c, y in s["yield"].items()]))
    if s.get("changed"):
        rows = [[c, v["variants"], f"{v['mean']:.0%}", f"{v['median']:.0%}", f"{v['p90']:.0%}", ", ".join(f"{r} {x:.0%}" for r, x in v["by_role"].items())]
                for c, v in s["changed"].items()]
        missing = f" {s['changed_without_source']} variant(s) whose source was not found are left out." if s.get("changed_without_source") else ""
        sections.append("<h2>How much each chain changed</h2><p class='note'>Share of the words of a variant's dialogue that differ from its source's "
                        "(a word diff; both sides counted). The file holds what the whole chain made, so a step's own share shows when it runs alone; "
                        f"the roles each step may change are in provenance.{missing}</p>"
                        + _table(["chain", "variants", "mean", "median", "p90", "by role"], rows))
    if s.get("rejections"):
        sections.append("<h2>Rejections</h2>" + bars(s["rejections"], "reasons in the rejects file"))
    sections.append(
        "<h2>How it is counted</h2><p class='note'>Words: runs of letters or digits; Chinese, Japanese and Korean count each character as a word, "
        "so distinct-1/2 (unique words and word pairs over all of them) compare across languages. Tokens are estimated: a CJK character or "
        f"punctuation mark is one, another word {TOKENS_PER_WORD}, plus {TEMPLATE_TOKENS} a turn for the chat template, system prompt included. "
        "Histograms run to the 98th percentile with the rest in a last, paler bar; bins grow geometrically (log scale) when the values crowd the low end.</p>")
    data = html.escape(json.dumps(summaries, ensure_ascii=False))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>augment stats: {html.escape(stats.name)}</title><style>{STYLE}</style></head><body><h1>Corpus report: {html.escape(stats.name)}</h1>"
        + "".join(sections)
        + f"<h2>Figures as JSON</h2><details><summary>show</summary><pre style='white-space:pre-wrap;font-size:12px'>{data}</pre></details></body></html>\n"
    )


def lines(stats: Stats) -> list[str]:
    """The figures as text, for a terminal."""
    s = stats.summary()
    t = s["turns_per_conversation"]
    k = s["tokens_per_conversation"]
    out = [
        f"{stats.name}: {stats.conversations} conversations ({stats.originals} sources, {stats.augmented} augmented)",
        f"  turns per conversation: mean {t['mean']}, median {t['median']}, min {t['min']}, max {t['max']}",
    ]
    for role, d in s["characters_per_turn"].items():
        out.append(f"  characters per {role} turn: mean {d['mean']}, median {d['median']}, p90 {d['p90']}")
    out.append(f"  tokens per conversation (estimated): mean {k['mean']}, median {k['median']}, p90 {k['p90']}, max {k['max']}; "
               f"over --cutoff-len {stats.cutoff}: {s['over_cutoff']} ({s['over_cutoff_rate']:.1%}), truncated by trainers")
    chars = s["by_character"]
    shown = ", ".join(f"{name} {c['conversations']} conversations ({c['turns']} turns)" for name, c in list(chars.items())[:6])
    out.append(f"  by character: {shown}" + (f", and {len(chars) - 6} more" if len(chars) > 6 else ""))
    total = stats.conversations or 1
    out.append("  languages: " + ", ".join(f"{lang} {n / total:.0%}" for lang, n in s["languages"].items()))
    out.append(f"  exact duplicates: {stats.duplicates} ({s['duplicate_rate']:.1%})")
    sim = s["near_duplicate_similarity"]
    out.append(f"  highest similarity to another conversation: median {sim['median']:.2f}, p90 {sim['p90']:.2f}; {sim['at_least_0.9']} at 0.9 or more")
    out.append(f"  lexical diversity: distinct-1 {s['distinct_1']:.3f}, distinct-2 {s['distinct_2']:.3f}")
    if len(s["distinct_by_language"]) > 1:
        for lang, d in s["distinct_by_language"].items():
            out.append(f"    {lang}: distinct-1 {d['distinct_1']:.3f}, distinct-2 {d['distinct_2']:.3f} ({d['words']} words)")
    for chain, y in s.get("yield", {}).items():
        out.append(f"  yield of {chain}: {y['records']} records, {y['per_source']} per source")
    for chain, c in s.get("changed", {}).items():
        roles = ", ".join(f"{role} {share:.0%}" for role, share in c["by_role"].items())
        out.append(f"  words changed by {chain}: mean {c['mean']:.0%}, median {c['median']:.0%}, p90 {c['p90']:.0%} of {c['variants']} variants ({roles})")
    if s.get("changed_without_source"):
        out.append(f"  variants whose source was not found: {s['changed_without_source']}")
    for reason, n in s.get("rejections", {}).items():
        out.append(f"  rejected {n}: {reason}")
    return out


def summary_json(stats: Stats, source: Stats | None) -> dict[str, Any]:
    return {"file": stats.summary(), **({"compare": source.summary()} if source else {})}
