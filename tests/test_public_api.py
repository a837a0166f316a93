"""The plugin API is what ``augment`` exports: built-in plugins use nothing
else from the core, every exported name resolves, and docs/hooks.md lists
them all."""

from __future__ import annotations

import ast
from pathlib import Path

import augment

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SOURCES = sorted((ROOT / "plugins").glob("*.py")) + sorted((ROOT / "samples" / "plugin-example").rglob("*.py"))


def core_imports(path: Path) -> list[str]:
    """Every ``augment.X`` module a file imports (``augment`` itself and
    the test kit ``augment.testing`` excepted)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("augment.") and not name.startswith("augment.testing"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_built_in_plugins_import_only_the_public_api():
    assert PLUGIN_SOURCES, "no plugin sources found"
    offending = [line for path in PLUGIN_SOURCES if "tests" not in path.parts for line in core_imports(path)]
    assert offending == []


def test_the_check_catches_an_internal_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from augment.engine.chain import Engine\nimport augment\nfrom augment import Format\n")
    (tmp_path / "x").mkdir()
    assert [line.split(": ", 1)[1] for line in core_imports_from(sneaky, tmp_path)] == ["augment.engine.chain"]


def core_imports_from(path: Path, root: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return core_imports(path)
    finally:
        ROOT = saved


def test_every_public_name_resolves():
    missing = []
    for name in augment.__all__:
        try:
            getattr(augment, name)
        except Exception as exc:  # noqa: BLE001
            missing.append(f"{name}: {exc}")
    assert missing == []


def test_hook_reference_lists_the_public_api():
    text = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    unlisted = [name for name in augment.__all__ if f"`{name}" not in text]
    assert unlisted == []
