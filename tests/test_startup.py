"""`augment --help` and `augment convert` start without the heavy libraries:
litellm, nlpaug, nltk and langdetect are imported only by the steps that use them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLES

HEAVY = ("litellm", "nlpaug", "nltk", "langdetect", "numpy", "pandas")

PROBE = """
import sys
from augment.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def heavy_after(args: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    last = [line for line in done.stdout.decode().splitlines() if line.startswith("HEAVY:")][-1]
    return [m for m in last[len("HEAVY:"):].split(",") if m]


def test_help_imports_nothing_heavy():
    assert heavy_after(["--help"]) == []
    assert heavy_after(["run", "--help"]) == []


def test_convert_imports_nothing_heavy(tmp_path):
    out = tmp_path / "out.jsonl"
    assert heavy_after(["convert", str(SAMPLES / "tavern.sharegpt.jsonl"), "--to", "openai", "-o", str(out), "-q"]) == []
    assert out.read_text().count("\n") == 12


def test_a_synonym_step_imports_numpy_so_the_probe_can_see_imports(tmp_path):
    # lemminflect imports numpy; nlpaug, NLTK and pandas stay out (the step reads its table)
    out = tmp_path / "out.jsonl"
    found = heavy_after(["run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "-q", "--workers", "1", "synonym"])
    assert "numpy" in found and not {"nlpaug", "nltk", "pandas", "litellm"} & set(found)


def test_a_typo_step_imports_nothing_heavy(tmp_path):
    out = tmp_path / "out.jsonl"
    found = heavy_after(["run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "-q", "--workers", "1", "typos"])
    assert not {"nlpaug", "nltk", "numpy", "pandas", "litellm"} & set(found)  # (the run's language guess uses langdetect)


# -- what each start-up imports (module names, never timings) ----------------------

MODULES_PROBE = """
import sys
from augment.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print("MODULES:" + ",".join(sorted(sys.modules)))
"""


def modules_after(args: list[str], env: dict | None = None, cwd: Path | None = None) -> set[str]:
    done = subprocess.run([sys.executable, "-c", MODULES_PROBE.format(args=args)], capture_output=True, timeout=60,
                          env={**os.environ, **(env or {})}, cwd=cwd)
    assert done.returncode == 0, done.stderr.decode()
    last = [line for line in done.stdout.decode().splitlines() if line.startswith("MODULES:")][-1]
    return set(last[len("MODULES:"):].split(","))


#: What listing the commands must not import: the engine, the plugins and
#: their loader, the corpus tools, the model client.
NOT_FOR_HELP = ("augment.engine.run", "augment.engine.plan", "augment.plugins", "augment.corpus.stats", "augment.corpus.report",
                "augment.model.client", "augment_plugins.safety", "multiprocessing", "concurrent.futures", "importlib.metadata")


def test_help_lists_the_commands_without_importing_them():
    found = modules_after(["--help"])
    assert not [m for m in NOT_FOR_HELP if m in found]
    assert not [m for m in found if m.startswith("augment.cli.") and m != "augment.cli"]


def test_convert_help_imports_neither_the_engine_nor_the_plugins():
    found = modules_after(["convert", "--help"])
    assert "augment.cli.commands" in found  # the probe sees the command's own module
    assert not [m for m in ("augment.engine.run", "augment.engine.plan", "augment.plugins", "augment.corpus.stats", "augment_plugins.safety") if m in found]


def test_the_help_line_of_each_command_is_its_own():
    """``augment --help`` shortens a copy of each command's first paragraph:
    the copy must be the command's own, at any width."""
    import importlib
    import inspect

    from augment.cli import COMMANDS, short_help

    for name, (where, _) in COMMANDS.items():
        module, attr = where.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert command.name == name
        for limit in (30, 45, 64, 120):
            assert short_help(name, limit) == command.get_short_help_str(limit), name
        assert COMMANDS[name][1] == " ".join(inspect.cleandoc(command.help).split("\n\n")[0].split())


def test_a_real_convert_loads_the_plugins_but_no_model_client(tmp_path):
    out = tmp_path / "out.jsonl"
    found = modules_after(["convert", str(SAMPLES / "tavern.sharegpt.jsonl"), "--to", "openai", "-o", str(out), "-q"])
    assert "augment.plugins" in found and "augment_plugins.sharegpt" in found
    assert "litellm" not in found


def test_stats_signs_conversations_without_datasketch(tmp_path):
    """``stats`` computes its MinHash signatures itself: datasketch would import SciPy."""
    found = modules_after(["stats", str(SAMPLES / "tavern.sharegpt.jsonl"), "--json"])
    assert "numpy" in found  # the signatures are computed (the probe sees imports)
    assert not [m for m in found if m.split(".")[0] in ("datasketch", "scipy")]


def test_loading_the_plugins_neither_imports_the_model_client_nor_compiles_their_patterns(tmp_path):
    fresh = {"AUGMENT_CACHE": str(tmp_path / "empty-cache")}  # no manifest: every plugin is imported
    found = modules_after(["validate", str(SAMPLES / "tavern.sharegpt.jsonl")], env=fresh)
    assert "augment_plugins.cleaning" in found and "augment.model.client" not in found and "asyncio" not in found
    probe = (PROBE.format(args=["validate", str(SAMPLES / "tavern.sharegpt.jsonl")], heavy=HEAVY)
             + "import augment_plugins.cleaning as c\nprint('COMPILED:', '_compiled' in vars(c.TAG))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60, env={**os.environ, **fresh})
    assert done.returncode == 0, done.stderr.decode()
    assert "COMPILED: False" in done.stdout.decode()  # validate never cleans: the cleaning filter's patterns stay uncompiled


def test_with_the_manifest_a_convert_imports_only_the_plugins_it_uses(tmp_path):
    """The first run loads every plugin and writes the manifest; the second
    imports the formats and the safety gate, no augmenter and no entry-point scan."""
    cwd = tmp_path / "here"
    cwd.mkdir()  # python -c puts the working folder on sys.path: one that does not change
    env = {"AUGMENT_CACHE": str(tmp_path / "cache"), "AUGMENT_PERSONAS": str(tmp_path / "personas")}
    (tmp_path / "personas").mkdir()
    (tmp_path / "personas" / "wren.yaml").write_text("name: Wren\ndescription: A lighthouse keeper.\n")
    args = ["convert", str(SAMPLES / "tavern.sharegpt.jsonl"), "--to", "openai", "-o", str(tmp_path / "out" / "a.jsonl"), "-q"]
    first = modules_after(args, env=env, cwd=cwd)
    assert {"augment_plugins.typos", "augment_plugins.synonym", "importlib.metadata", "yaml"} <= first
    assert list((tmp_path / "cache").glob("plugins-*.json"))
    first_bytes = (tmp_path / "out" / "a.jsonl").read_bytes()
    second = modules_after(args, env=env, cwd=cwd)
    assert {"augment_plugins.sharegpt", "augment_plugins.openai_messages", "augment_plugins.safety"} <= second
    unused = ("augment_plugins.typos", "augment_plugins.synonym", "augment_plugins.backtranslate", "augment_plugins.quality_filters",
              "augment_plugins.restructure", "augment.model.steps", "importlib.metadata",
              # the YAML persona comes from the cache folder; no step: no engine; no shards
              "yaml", "augment.engine.chain", "random", "tempfile", "shutil", "augment.model.prompting")
    assert not [m for m in unused if m in second]
    assert (tmp_path / "out" / "a.jsonl").read_bytes() == first_bytes


def test_with_the_manifest_a_run_imports_only_its_steps_plugins_and_not_faker(tmp_path):
    """``run ... typos`` imports the typos plugin, not the other augmenters;
    the protector's first names come from the cache folder after the first
    run, not from importing Faker (~70 ms)."""
    cwd = tmp_path / "here"
    cwd.mkdir()
    env = {"AUGMENT_CACHE": str(tmp_path / "cache")}
    args = ["run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(tmp_path / "out" / "t.jsonl"), "-q", "--seed", "1", "--workers", "1", "typos"]
    first = modules_after(args, env=env, cwd=cwd)
    assert "faker" in first  # the first run asks Faker for its list, and keeps it
    first_bytes = (tmp_path / "out" / "t.jsonl").read_bytes()
    second = modules_after(args, env=env, cwd=cwd)
    assert "augment_plugins.typos" in second
    others = ("augment_plugins.synonym", "augment_plugins.backtranslate", "augment_plugins.restructure",
              "augment_plugins.dialogue_extension", "augment_plugins.quality_filters", "faker")
    assert not [m for m in others if m in second]
    assert (tmp_path / "out" / "t.jsonl").read_bytes() == first_bytes


def test_the_kept_first_names_are_fakers(tmp_path, monkeypatch):
    from augment.engine import text_spans

    monkeypatch.setenv("AUGMENT_CACHE", str(tmp_path))
    text_spans._first_names.cache_clear()
    try:
        built = text_spans._first_names()
        assert (tmp_path / text_spans.FIRST_NAMES_FILE).is_file()
        text_spans._first_names.cache_clear()
        read = text_spans._first_names()
    finally:
        text_spans._first_names.cache_clear()
    assert built == read == text_spans._faker_first_names() and "Grace" in read and len(read) > 500
