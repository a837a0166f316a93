"""``augment stats --html``: one self-contained page (inline CSS and SVG, no
script, nothing fetched) with the figures and charts of a corpus, and of its
source beside it when compared."""

from __future__ import annotations

import html
import json
from typing import Any

from augment.corpus.stats import Stats

COLORS = ("#4c78a8", "#f58518")
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { padding: .25rem .8rem; border-bottom: 1px solid #eee; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; vertical-align: middle; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; } figcaption { font-size: .85rem; color: #555; }
"""


def histogram(series: list[tuple[str, list[int]]], title: str, bins: int = 12, width: int = 460, height: int = 220) -> str:
    """An SVG histogram of one or two series (shares of each series per bin)."""
    values = [v for _, vs in series for v in vs]
    if not values:
        return f"<figure><figcaption>{html.escape(title)}: no data</figcaption></figure>"
    low, high = min(values), max(values)
    step = max(1, -(-(high - low + 1) // bins))
    edges = [low + i * step for i in range(bins + 1)]
    pad_left, pad_bottom = 40, 34
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - 20
    shares = []
    for _, vs in series:
        counts = [0] * bins
        for v in vs:
            counts[min(bins - 1, (v - low) // step)] += 1
        total = len(vs) or 1
        shares.append([c / total for c in counts])
    top = max(max(s) for s in shares) or 1
    bar_w = plot_w / bins / max(1, len(series))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">']
    parts.append(f'<line x1="{pad_left}" y1="{20 + plot_h}" x2="{width - 10}" y2="{20 + plot_h}" stroke="#999"/>')
    for k, share in enumerate(shares):
        for i, value in enumerate(share):
            h = value / top * plot_h
            x = pad_left + i * plot_w / bins + k * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{20 + plot_h - h:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{COLORS[k]}"><title>{edges[i]}–{edges[i + 1] - 1}: {value:.0%}</title></rect>')
    for i in (0, bins // 2, bins):
        x = pad_left + i * plot_w / bins
        parts.append(f'<text x="{x:.1f}" y="{height - 12}" font-size="11" text-anchor="middle">{edges[i]}</text>')
    parts.append(f'<text x="{pad_left - 4}" y="26" font-size="11" text-anchor="end">{top:.0%}</text>')
    parts.append("</svg>")
    return f"<figure>{''.join(parts)}<figcaption>{html.escape(title)}</figcaption></figure>"


def bars(counts: dict[str, int], title: str, width: int = 460) -> str:
    total = sum(counts.values()) or 1
    rows = max(1, len(counts))
    height = 24 * rows + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">']
    for i, (label, n) in enumerate(counts.items()):
        w = (width - 250) * n / total
        parts.append(f'<text x="0" y="{24 * i + 18}" font-size="12">{html.escape(str(label))[:22]}</text>')
        parts.append(f'<rect x="150" y="{24 * i + 5}" width="{w:.1f}" height="16" fill="{COLORS[0]}"/>')
        parts.append(f'<text x="{155 + w:.1f}" y="{24 * i + 18}" font-size="12">{n} ({n / total:.0%})</text>')
    parts.append("</svg>")
    return f"<figure>{''.join(parts)}<figcaption>{html.escape(title)}</figcaption></figure>"


def page(stats: Stats, source: Stats | None = None) -> str:
    s = stats.summary()
    names = [stats.name] + ([source.name] if source else [])
    legend = "".join(f'<span style="background:{COLORS[i]}"></span>{html.escape(n)}' for i, n in enumerate(names))
    compared = [stats] + ([source] if source else [])
    rows = [
        ("conversations", [x.conversations for x in compared]),
        ("sources / augmented", [f"{x.originals} / {x.augmented}" for x in compared]),
        ("turns per conversation (mean)", [x.summary()["turns_per_conversation"]["mean"] for x in compared]),
        ("exact duplicates", [f"{x.duplicates} ({x.summary()['duplicate_rate']:.1%})" for x in compared]),
        ("distinct-1", [f"{x.distinct1:.3f}" for x in compared]),
        ("distinct-2", [f"{x.distinct2:.3f}" for x in compared]),
    ]
    table = "<table><tr><th></th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"
    table += "".join("<tr><td>" + html.escape(label) + "</td>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in values) + "</tr>" for label, values in rows)
    table += "</table>"
    charts = [histogram([(x.name, x.turns) for x in compared], "turns per conversation")]
    for role in sorted(set(stats.lengths) | set(source.lengths if source else {})):
        charts.append(histogram([(x.name, x.lengths.get(role, [])) for x in compared], f"characters per {role} turn"))
    charts.append(bars(dict(stats.languages.most_common()), f"languages ({stats.name})"))
    sections = [f"<h2>Overview</h2><p class='legend'>{legend}</p>{table}", "<h2>Distributions</h2><div class='charts'>" + "".join(charts) + "</div>"]
    if s.get("yield"):
        rows_html = "".join(f"<tr><td>{html.escape(c)}</td><td>{y['records']}</td><td>{y['per_source']}</td></tr>" for c, y in s["yield"].items())
        sections.append(f"<h2>Yield by chain</h2><table><tr><th>chain</th><th>records</th><th>per source</th></tr>{rows_html}</table>")
    if s.get("rejections"):
        sections.append("<h2>Rejections</h2>" + bars(s["rejections"], "reasons in the rejects file"))
    data = html.escape(json.dumps([x.summary() for x in compared], ensure_ascii=False))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>augment stats: {html.escape(stats.name)}</title>"
        f"<style>{STYLE}</style></head><body><h1>Corpus report: {html.escape(stats.name)}</h1>"
        + "".join(sections)
        + f"<h2>Figures as JSON</h2><pre style='white-space:pre-wrap;font-size:12px'>{data}</pre></body></html>\n"
    )


def summary_json(stats: Stats, source: Stats | None) -> dict[str, Any]:
    return {"file": stats.summary(), **({"compare": source.summary()} if source else {})}
