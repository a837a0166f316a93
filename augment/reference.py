"""The hook reference, generated from the hookspecs themselves, so the docs
cannot drift from the code (``docs/hooks.md``; a test checks it is current)."""

from __future__ import annotations

import inspect

from augment import hookspecs

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


def public_api() -> list[tuple[str, str, str]]:
    """(name, what it is with its signature, first paragraph of its doc) for
    every name in ``augment.__all__``, in the order listed there."""
    import augment

    out = []
    for name in augment.__all__:
        value = getattr(augment, name)
        if inspect.isclass(value):
            try:
                sig = str(inspect.signature(value))
            except (TypeError, ValueError):
                sig = "(...)"
            what = f"class {name}{sig}"
        elif callable(value):
            what = f"def {name}{inspect.signature(value)}"
        else:
            what = f"{name} = {value!r}" if not isinstance(value, (tuple, frozenset)) or len(repr(value)) < 80 else f"{name}: {type(value).__name__}"
        doc = inspect.cleandoc(value.__doc__ or "") if callable(value) else ""
        if doc.startswith(f"{name}("):
            doc = ""  # a dataclass's generated docstring says nothing more
        out.append((name, what, doc.split("\n\n")[0].replace("\n", " ")))
    return out


API_HEADER = """# Public API for plugin authors

Everything a plugin needs from the core is importable from `augment` itself
(`from augment import Format, Conversation, Augmenter, ...`). A built-in plugin
imports nothing else from the core (a test checks it), so these names are the
contract; the test kit for plugin tests is `augment.testing`.
"""


def markdown() -> str:
    parts = [HEADER]
    for name, signature, doc in hooks():
        parts.append(f"## `{name}`\n\n```python\n{signature}\n```\n\n{doc}\n")
    parts.append(API_HEADER)
    for name, what, doc in public_api():
        parts.append(f"- `{name}`: `{what}`" + (f"  \n  {doc}" if doc else ""))
    return "\n".join(parts) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
