"""Plugin loading: entry points, broken plugins, the allow-list, the listing commands."""

from __future__ import annotations

import json
import sys
import types

from conftest import install_plugin, read_records, run_cli

from augment import plugins
from augment.errors import PluginError

GOOD = '''
import augment
from augment.engine.augmenters import TextAugmenter, Option

class Shout(TextAugmenter):
    name = "shout"
    summary = "upper-case the chosen turns"
    options = (Option("marks", int, 1, "exclamation marks to add"),)

    def augment_text(self, text, rng):
        return text.upper() + "!" * self.values["marks"]

@augment.hookimpl
def register_augmenters(register):
    register(Shout)
'''

BROKEN = "raise ImportError('needs a library that is not installed')\n"

MISSPELLED = '''
import augment

@augment.hookimpl
def register_augmentors(register):
    pass
'''


def test_builtins_register_through_the_entry_point_group():
    reg = plugins.load()
    assert {"alpaca", "sharegpt", "openai", "script"} <= set(reg.formats)
    assert "typos" in reg.augmenters
    by_name = {p.name: p for p in reg.plugins}
    assert by_name["sharegpt"].builtin and by_name["sharegpt"].registered == {"formats": ["sharegpt"]}
    assert by_name["typos"].hooks == ["register_augmenters"]


def test_third_party_plugin_shows_up_and_runs(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-shout", {"shout_plugin": GOOD}, {"shout": "shout_plugin"})
    env = {"PYTHONPATH": str(site)}
    listing = json.loads(run_cli("plugins", env=env).stdout)
    shout = next(p for p in listing if p["name"] == "shout")
    assert shout == {
        "name": "shout",
        "version": "1.2.3",
        "builtin": False,
        "hooks": ["register_augmenters"],
        "registered": {"augmenters": ["shout"]},
    }
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"conversations": [{"from": "human", "value": "hi there"}, {"from": "gpt", "value": "hello"}]}) + "\n")
    out = tmp_path / "out.jsonl"
    done = run_cli("run", str(src), "-o", str(out), "--no-originals", "shout", "--marks", "2", env=env)
    assert done.returncode == 0, done.stderr.decode()
    record = json.loads(out.read_text())
    assert record["conversations"][0]["value"] == "HI THERE!!"
    assert record["conversations"][1]["value"] == "HELLO!!"
    assert record["provenance"]["chain"][0]["options"] == {"marks": 2}


def test_broken_plugin_is_reported_by_name_and_the_rest_work(tmp_path):
    site = install_plugin(
        tmp_path / "site",
        "augment-mixed",
        {"shout_plugin": GOOD, "broken_plugin": BROKEN},
        {"shout": "shout_plugin", "broken": "broken_plugin"},
    )
    done = run_cli("augmenters", env={"PYTHONPATH": str(site)})
    assert done.returncode == 0
    err = done.stderr.decode()
    assert "warning: plugin broken: failed to load: ImportError: needs a library that is not installed" in err
    names = [line.split()[0] for line in done.stdout.decode().splitlines() if line and not line.startswith(" ")]
    assert "shout" in names and "typos" in names


def test_misspelled_hook_is_reported_not_silently_ignored(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-typo", {"typo_plugin": MISSPELLED}, {"typo": "typo_plugin"})
    listing = json.loads(run_cli("plugins", env={"PYTHONPATH": str(site)}).stdout)
    typo = next(p for p in listing if p["name"] == "typo")
    assert "unknown hook" in typo["error"] and "register_augmentors" in typo["error"]


def test_every_plugin_with_a_misspelled_hook_is_reported(tmp_path):
    second = MISSPELLED.replace("register_augmentors", "register_formatz")
    site = install_plugin(tmp_path / "site", "augment-typos", {"typo_one": MISSPELLED, "typo_two": second}, {"typo1": "typo_one", "typo2": "typo_two"})
    listing = {p["name"]: p for p in json.loads(run_cli("plugins", env={"PYTHONPATH": str(site)}).stdout)}
    assert "register_augmentors" in listing["typo1"]["error"]
    assert "register_formatz" in listing["typo2"]["error"]
    assert not listing["typos"].get("error")  # the built-ins are not touched


def test_allow_list_restricts_third_party_plugins_but_not_builtins(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-shout", {"shout_plugin": GOOD}, {"shout": "shout_plugin"})
    for allow, expect_shout in (("", False), ("other", False), ("shout", True), ("augment-shout", True)):
        listing = json.loads(run_cli("plugins", env={"PYTHONPATH": str(site), "AUGMENT_PLUGINS": allow}).stdout)
        names = {p["name"] for p in listing}
        assert ("shout" in names) is expect_shout, allow
        assert {"alpaca", "sharegpt", "openai", "typos"} <= names


def test_duplicate_names_are_refused_for_the_later_plugin():
    class Twin:
        @staticmethod
        def register_formats(register):
            from augment_plugins.sharegpt import ShareGPT

            register(ShareGPT())

    import augment

    Twin.register_formats = augment.hookimpl(Twin.register_formats)
    reg = plugins.load(extra=[("twin", Twin)])
    twin = next(p for p in reg.plugins if p.name == "twin")
    assert twin.error == (
        "register_formats failed: PluginError: format 'sharegpt' is already registered by plugin 'sharegpt'"
    )
    assert reg.formats["sharegpt"] is not None


def test_unknown_names_say_what_is_known():
    reg = plugins.load()
    try:
        reg.format("parquet")
    except Exception as exc:
        assert str(exc) == "unknown format 'parquet' (known: alpaca, card, novel, openai, passages, script, sharegpt, sillytavern)"
    else:
        raise AssertionError("expected an error")
    assert issubclass(PluginError, Exception)


def test_formats_and_augmenters_listings_show_options():
    formats = json.loads(run_cli("formats", "--json").stdout)
    script = next(f for f in formats if f["name"] == "script")
    assert script["write"] is False and "speaker" in script["options"]
    augmenters = json.loads(run_cli("augmenters", "--json").stdout)
    typos = next(a for a in augmenters if a["name"] == "typos")
    assert typos["roles"] == ["user"]
    assert [o["flag"] for o in typos["options"]] == ["--rate", "--max-chars"]


FRAGILE = '''
import augment
from augment import ASSISTANT, USER, Conversation, Format, Turn


class Fragile(Format):
    """A reader with a bug: a record without 'q' raises KeyError."""

    name = "fragile"

    def decode(self, record):
        return Conversation([Turn(USER, record["q"]), Turn(ASSISTANT, record["a"])])


@augment.hookimpl
def register_formats(register):
    register(Fragile())
'''


def test_a_reader_that_raises_on_one_record_rejects_that_record_and_the_run_goes_on(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-fragile", {"fragile_plugin": FRAGILE}, {"fragile": "fragile_plugin"})
    src = tmp_path / "in.jsonl"
    src.write_text('{"q": "Hi", "a": "Hello."}\n{"a": "no question"}\n{"q": "Bye", "a": "Farewell."}\n')
    out = tmp_path / "out.jsonl"
    done = run_cli("convert", str(src), "--from", "fragile", "--to", "sharegpt", "-o", str(out), "--on-error", "skip", env={"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr.decode()
    reason = "fragile could not read this record (KeyError: 'q'); please report it"
    assert f"{src}:2: {reason}" in done.stderr.decode()
    assert [r["conversations"][0]["value"] for r in read_records(out)] == ["Hi", "Bye"]
    [rejected] = read_records(tmp_path / "out.jsonl.rejects.jsonl")
    assert rejected["location"] == f"{src}:2" and rejected["reason"] == reason


# -- the manifest: later runs import a plugin only when one of its names is used --

def test_a_registry_from_the_manifest_gives_what_a_full_load_gives():
    full = plugins.load()
    lazy = plugins.from_manifest({"plugins": plugins.manifest_of(full)})
    for kind in plugins.KINDS:
        assert list(getattr(lazy, kind)) == list(getattr(full, kind)), kind  # the same names in the same order
        kinds_of = lambda table: [(n, obj if isinstance(obj, type) else type(obj)) for n, obj in table.items()]  # noqa: E731
        assert kinds_of(getattr(lazy, kind)) == kinds_of(getattr(full, kind)), kind  # formats are instances
    assert [p.as_json() for p in lazy.plugins] == [p.as_json() for p in full.plugins]


def test_a_plugin_installed_or_edited_after_the_manifest_was_written_is_seen(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    env = {"PYTHONPATH": str(site), "AUGMENT_CACHE": str(tmp_path / "cache")}
    before = run_cli("augmenters", env=env)
    assert before.returncode == 0 and "shout" not in before.stdout.decode()
    assert list((tmp_path / "cache").glob("plugins-*.json"))  # the manifest of that load
    install_plugin(site, "augment-shout", {"shout_plugin": GOOD}, {"shout": "shout_plugin"})
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"conversations": [{"from": "human", "value": "hi there"}, {"from": "gpt", "value": "hello"}]}) + "\n")
    for step in ("shout", "yell"):
        if step == "yell":  # the plugin's file changes (a renamed augmenter), its distribution does not
            module = site / "shout_plugin.py"
            module.write_text(module.read_text().replace('name = "shout"', 'name = "yell"'))
        for _ in range(2):  # the run after a change loads in full; the next one reads the manifest
            out = tmp_path / "out.jsonl"
            done = run_cli("run", str(src), "-o", str(out), "--no-originals", step, env=env)
            assert done.returncode == 0, done.stderr.decode()
            assert json.loads(out.read_text())["conversations"][1]["value"] == "HELLO!"


def test_a_broken_plugin_is_reported_on_every_run_not_only_the_one_that_found_it(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-broken", {"broken_plugin": BROKEN}, {"broken": "broken_plugin"})
    env = {"PYTHONPATH": str(site), "AUGMENT_CACHE": str(tmp_path / "cache")}
    for _ in range(2):
        done = run_cli("augmenters", env=env)
        assert done.returncode == 0
        assert "warning: plugin broken: failed to load: ImportError" in done.stderr.decode()


def test_a_cache_folder_that_cannot_be_written_only_costs_the_manifest(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    done = run_cli("augmenters", env={"AUGMENT_CACHE": str(blocker)})
    assert done.returncode == 0 and "typos" in done.stdout.decode()
    assert blocker.read_text() == "x" and list(tmp_path.iterdir()) == [blocker]


def test_the_cache_folder_keeps_only_the_newest_manifests(tmp_path):
    from augment import plugin_manifest

    cache = tmp_path / "cache"
    for i in range(plugin_manifest.KEEP + 3):  # each its own sys.path, as PYTHONPATH gives
        site = tmp_path / f"site{i}"
        site.mkdir()
        assert run_cli("filters", env={"PYTHONPATH": str(site), "AUGMENT_CACHE": str(cache)}).returncode == 0
    assert len(list(cache.glob("plugins-*.json"))) == plugin_manifest.KEEP
    assert not list(cache.glob(".*part"))


def test_a_name_the_manifest_does_not_know_loads_every_plugin_once_more(tmp_path):
    """The manifest watches a plugin's own file; a package plugin whose steps
    live in a submodule can change where it does not look. A step the
    manifest does not know is looked for again after a full load."""
    site = tmp_path / "site"
    package = site / "pkg_shout"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .steps import register_augmenters  # noqa: F401\n")
    (package / "steps.py").write_text(GOOD)
    install_plugin(site, "augment-pkg-shout", {}, {"pkgshout": "pkg_shout"})
    env = {"PYTHONPATH": str(site), "AUGMENT_CACHE": str(tmp_path / "cache")}
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"conversations": [{"from": "human", "value": "hi there"}, {"from": "gpt", "value": "hello"}]}) + "\n")
    out = tmp_path / "out.jsonl"
    assert run_cli("run", str(src), "-o", str(out), "--no-originals", "shout", env=env).returncode == 0
    (package / "steps.py").write_text(GOOD.replace('name = "shout"', 'name = "yell"'))  # __init__.py untouched
    for _ in range(2):  # found after a full load; then the renewed manifest knows it
        done = run_cli("run", str(src), "-o", str(out), "--no-originals", "yell", env=env)
        assert done.returncode == 0, done.stderr.decode()
        assert json.loads(out.read_text())["conversations"][1]["value"] == "HELLO!"
    missing = run_cli("run", str(src), "-o", str(out), "--no-originals", "shout", env=env)
    assert missing.returncode == 2 and "no augmenter or filter named 'shout'" in missing.stderr.decode()


HALF_BROKEN = '''
import augment
from augment.engine.augmenters import TextAugmenter


class Shout(TextAugmenter):
    name = "shout"
    summary = "upper-case"

    def augment_text(self, text, rng):
        return text.upper()


class Whisper(Shout):
    name = "whisper"


@augment.hookimpl
def register_augmenters(register):
    register(Shout)
    raise RuntimeError("the rest is missing")


@augment.hookimpl
def register_filters(register):
    register(Whisper)
'''


def test_a_plugin_whose_hook_fails_registers_the_same_from_the_manifest_as_in_a_full_load(monkeypatch):
    module = types.ModuleType("half_broken")
    exec(HALF_BROKEN, module.__dict__)
    full = plugins.load(extra=[("half", module)])
    half = next(p for p in full.plugins if p.name == "half")
    assert "shout" in full.augmenters and "whisper" not in full.filters and "the rest is missing" in half.error
    lazy = plugins.from_manifest({"plugins": [{**p, "target": "half_broken"} if p["name"] == "half" else p
                                              for p in plugins.manifest_of(full)]})
    monkeypatch.setitem(sys.modules, "half_broken", module)  # what the entry point names
    assert lazy.augmenters["shout"] is full.augmenters["shout"]
    assert "whisper" not in lazy.filters and list(lazy.filters) == list(full.filters)


TRICKY = '''
import augment

@augment.hookimpl
def register_formats(register):
    pass

@augment.hookimpl(specname="register_filters")
def filters_under_another_name(register):
    pass

def plain(register):
    pass

def marked_wrongly(register):
    pass
marked_wrongly.augment_impl = "not options"

as_static = staticmethod(register_formats)
as_class = classmethod(register_formats)

class Lazy:
    def __getattr__(self, name):
        raise RuntimeError("looked at")

lazy = Lazy()
number = 3
'''


def test_our_plugin_manager_finds_in_a_module_exactly_the_hooks_pluggy_finds(tmp_path):
    """The manager looks a module plugin's names up in its dictionary (not
    through inspect.getattr_static): for every name of every built-in
    plugin module, and of a module with odd names, it answers as pluggy's
    own manager does."""
    import importlib

    import pluggy

    tricky = types.ModuleType("tricky")
    exec(TRICKY, tricky.__dict__)
    modules = [tricky] + [importlib.import_module(p.target.partition(":")[0]) for p in plugins.load().plugins if p.builtin]
    assert len(modules) > 20
    ours, theirs = plugins._manager(), pluggy.PluginManager(plugins.GROUP)
    found = 0
    for module in modules:
        for name in dir(module):
            assert ours.parse_hookimpl_opts(module, name) == theirs.parse_hookimpl_opts(module, name), (module.__name__, name)
            found += ours.parse_hookimpl_opts(module, name) is not None
    assert found > len(modules)  # the hooks themselves were found, not only the names that are none
    assert ours.parse_hookimpl_opts(tricky, "filters_under_another_name") == {**theirs.parse_hookimpl_opts(tricky, "filters_under_another_name")}
    assert ours.parse_hookimpl_opts(tricky, "filters_under_another_name")["specname"] == "register_filters"
