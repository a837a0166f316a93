"""The dataset card: a README.md beside the outputs, in the Hugging Face
style (YAML front matter listing each file as a config), with one section per
output written by augment: its sources, the chain and its options, the seed,
the model, the counts, the filters and what they dropped, and the format with
its dataset_info.json entry. Sections of other outputs in the same folder are
kept; a README.md that augment did not write is never touched (the card then
goes to NAME.card.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from augment.engine.summary import Summary
from augment.dataio.streams import write_text_atomic

START = "<!-- augment:card {name} -->"
END = "<!-- augment:end {name} -->"
SECTION = re.compile(r"<!-- augment:card (?P<name>[^ ]+) -->\n(?P<body>.*?)<!-- augment:end (?P=name) -->\n?", re.S)
CONFIG = re.compile(r"<!-- augment:file (?P<name>[^ ]+) (?P<file>[^ ]+) -->")


def section(name: str, file: str, summary: Summary, info: dict[str, Any], entry: dict[str, Any] | None) -> str:
    lines = [START.format(name=name), f"<!-- augment:file {name} {file} -->", f"## {file}", ""]
    lines.append(f"Made by `augment` from `{info['input']}` with:")
    lines.append("")
    lines.append(f"```sh\n{info['command']}\n```")
    lines.append("")
    lines.append("| | |\n|---|---|")
    lines.append(f"| records read | {summary.read} |")
    lines.append(f"| records written | {summary.written} |")
    lines.append(f"| records rejected | {summary.rejected} |")
    lines.append(f"| records repaired | {summary.repaired} |")
    if info.get("seed") is not None:
        lines.append(f"| seed | {info['seed']} |")
    if info.get("model"):
        model = info["model"]
        lines.append(f"| model | `{model['model']}` (temperature {model.get('temperature')}) |")
        served = info.get("endpoints") or {}
        if served.get("api_base"):
            lines.append(f"| served by | {', '.join(f'`{base}`' for base in served['api_base'])} |")
        if served.get("router_config"):
            lines.append(f"| router config | `{served['router_config']}` |")
    lines.append(f"| format | {info['format']} |")
    if info.get("shards"):
        names, per_shard = info["shards"]
        shown = f"`{names[0]}` … `{names[-1]}`" if len(names) > 1 else (f"`{names[0]}`" if names else "none")
        lines.append(f"| shards | {len(names)} ({shown}), up to {per_shard} records each |")
    if info.get("safety") is False:
        lines.append("| safety gate | **off** (`--no-safety`): records were not checked for sexual content involving minors |")
    lines.append("")
    if info.get("chain"):
        lines.append("### Chain")
        lines.append("")
        for step in info["chain"]:
            options = ", ".join(f"{k}={v!r}" for k, v in step["options"].items() if v is not None)
            lines.append(f"- `{step['step']}` ×{step['variants']} on {', '.join(step['roles'])}" + (f" ({options})" if options else ""))
        lines.append("")
    if info.get("filters"):
        lines.append("### Filters")
        lines.append("")
        for flt in info["filters"]:
            dropped = sum(n for (who, _), n in summary.filtered.items() if who == flt["name"])
            changed = sum(n for (who, _), n in summary.changed.items() if who == flt["name"])
            what = f"dropped {dropped}" + (f", changed {changed}" if changed else "")
            options = ", ".join(f"{k}={v!r}" for k, v in flt["options"].items())
            lines.append(f"- `{flt['name']}`" + (f" ({options})" if options else "") + f": {what}")
        for (who, reason), n in sorted(summary.filtered.items()):
            lines.append(f"  - {who}: {n} × {reason}")
        lines.append("")
    dropped_variants = sum(summary.dropped.values())
    if dropped_variants:
        lines.append(f"Variants not kept: {dropped_variants} " + "(" + "; ".join(f"{step}: {n} × {reason}" for (step, reason), n in sorted(summary.dropped.items())) + ").")
        lines.append("")
    if entry is not None:
        lines.append("### LLaMA-Factory")
        lines.append("")
        lines.append("The entry for `dataset_info.json` (also written beside this file):")
        lines.append("")
        lines.append("```json\n" + json.dumps({name: entry}, indent=2, ensure_ascii=False) + "\n```")
        lines.append("")
    lines.append("Every record carries a `provenance` field: its source (file, line, id), the seed, the chain with each step's options, and the model.")
    lines.append("")
    lines.append(END.format(name=name))
    return "\n".join(lines) + "\n"


def write(output_path: str, summary: Summary, info: dict[str, Any], entry: dict[str, Any] | None, files: str | None = None) -> Path:
    """``files``: what the output's config loads, when not the output file
    itself (``NAME/part-*.jsonl`` for a folder of shards)."""
    out = Path(output_path)
    name = out.name
    for suffix in (".jsonl", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    readme = out.parent / "README.md"
    sections: dict[str, str] = {}
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        found = {m.group("name"): m.group(0) for m in SECTION.finditer(text)}
        if not found:
            readme = out.parent / f"{name}.card.md"
        else:
            sections = found
    sections[name] = section(name, files or out.name, summary, info, entry)
    configs = []
    for key, body in sections.items():
        match = CONFIG.search(body)
        if match:
            configs.append(f"- config_name: {key}\n  data_files: {match.group('file')}")
    front = "---\nconfigs:\n" + "\n".join(configs) + "\ntags:\n- role-play\n- synthetic\n---\n\n"
    title = f"# Role-play conversations ({out.parent.name or '.'})\n\nGenerated and checked with augment (role-play conversation augmenter). Load a file with `datasets.load_dataset(\"json\", data_files=...)`, or in LLaMA-Factory through its `dataset_info.json` entry.\n\n"
    write_text_atomic(readme, front + title + "".join(sections[k] for k in sorted(sections)))
    return readme
