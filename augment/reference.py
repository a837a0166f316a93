"""The hook reference, generated from the hookspecs themselves, so the docs
cannot drift from the code (``docs/hooks.md``; a test checks it is current)."""

from __future__ import annotations

import inspect

from . import hookspecs

HEADER = """# Hook reference

Generated from `augment/hookspecs.py` by `python -m augment.reference > docs/hooks.md`;
a test fails when this file and the hookspecs disagree. Implement a hook with
`@augment.hookimpl` in a module named by an entry point in the `augment`
group (see [the tutorial](plugins.md)).
"""


def hooks() -> list[tuple[str, str, str]]:
    """(name, signature, docstring) for every hook, in source order."""
    out = []
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if not name.startswith("register_"):
            continue
        out.append((name, _signature(name, fn), inspect.getdoc(fn) or ""))
    source = inspect.getsource(hookspecs)
    return sorted(out, key=lambda h: source.index(f"def {h[0]}("))


def _signature(name: str, fn) -> str:
    """``name(arg: Type) -> Return`` as written in the source (annotations are strings there)."""
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {name}({params}) -> {sig.return_annotation}"


def markdown() -> str:
    parts = [HEADER]
    for name, signature, doc in hooks():
        parts.append(f"## `{name}`\n\n```python\n{signature}\n```\n\n{doc}\n")
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
