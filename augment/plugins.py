"""Finding, loading and asking plugins.

Plugins are modules named by entry points in the ``augment`` group. The built-in
ones (``plugins/`` in the source tree, installed as ``augment_plugins``) are
declared in the same group by this project's own distribution, so they load
exactly like a third-party package. We load entry points one by one instead of
pluggy's ``load_setuptools_entrypoints`` so a broken plugin is reported by name
and the others keep working.

A command uses a few plugins: after a full load the registry remembers what
each plugin registered (``augment.plugin_manifest``), and later runs import a
plugin only when one of its names is used (the tables below are mappings that
do so); what they see is what a full load gives, in the same order.

``AUGMENT_PLUGINS`` restricts third-party plugins: unset, all load; set, only the
comma-separated entry-point names it lists load (empty: none). Built-ins always
load.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import pluggy

from augment import hookspecs
from augment.errors import PluginError, UsageError

if TYPE_CHECKING:  # importlib.metadata costs ~30 ms: only a full load needs it
    from importlib import metadata

GROUP = "augment"
OWN_DISTRIBUTION = "roleplay-augment"
ALLOW_ENV = "AUGMENT_PLUGINS"


@dataclass
class PluginInfo:
    """One plugin as loaded: its name, version, hooks, what it registered, or its error."""

    name: str
    version: str | None
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    #: The entry point's target (``module`` or ``module:attr``) and the module's file.
    target: str | None = field(default=None, repr=False)
    file: str | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": self.hooks,
            "registered": self.registered,
        }
        if self.error:
            out["error"] = self.error
        return out


class Table(Mapping):
    """One kind's names and objects, in the order a full load registers them.

    A name known from the manifest but not yet loaded has its plugin imported
    the first time its object is asked for; names alone (``in``, iteration,
    ``sorted``) never import anything."""

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}
        self._order: dict[str, None] = {}
        self._owners: dict[str, str] = {}
        self._load: Callable[[str], None] | None = None
        #: A registry read from a manifest: load in full when a name is missing.
        self._complete: Callable[[], bool] | None = None

    def add(self, name: str, obj: Any) -> None:
        self._objects[name] = obj
        self._order.setdefault(name)

    def expect(self, name: str, plugin: str) -> None:
        """``plugin`` registers ``name`` when it is imported."""
        self._owners[name] = plugin
        self._order.setdefault(name)

    def forget(self, plugin: str) -> None:
        """Drop what ``plugin`` was expected to register and did not."""
        for name in [n for n, owner in self._owners.items() if owner == plugin and n not in self._objects]:
            del self._owners[name], self._order[name]

    def become(self, other: "Table") -> None:
        """Hold what ``other`` holds (a full load's), in place: whoever holds this table sees it."""
        self._objects, self._order, self._owners = dict(other._objects), dict(other._order), {}
        self._load = self._complete = None

    def __getitem__(self, name: str) -> Any:
        if name not in self._order and self._complete is not None:
            self._complete()
        if name not in self._objects and name in self._owners and self._load is not None:
            self._load(self._owners[name])
        return self._objects[name]

    def __contains__(self, name: object) -> bool:
        return name in self._order

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)


@dataclass
class Registry:
    """Everything the loaded plugins registered, by kind and name."""

    formats: Table = field(default_factory=Table)
    augmenters: Table = field(default_factory=Table)
    filters: Table = field(default_factory=Table)
    persona_importers: Table = field(default_factory=Table)
    plugins: list[PluginInfo] = field(default_factory=list)
    _owner: dict[tuple[str, str], str] = field(default_factory=dict)
    _done: set[tuple[str, str]] = field(default_factory=set)
    _renew: Callable[[], "Registry"] | None = field(default=None, repr=False)

    @property
    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

    def complete(self) -> bool:
        """A registry read from a manifest, asked for a name the manifest does
        not hold, loads every plugin once and looks again (a plugin's code may
        have changed where the manifest does not look: a package's
        submodules); the manifest is renewed. True if it did."""
        if self._renew is None:
            return False
        renew, self._renew = self._renew, None
        full = renew()
        for kind in KINDS:
            getattr(self, kind).become(getattr(full, kind))
        self.plugins[:] = full.plugins
        self._owner, self._done = full._owner, full._done
        return True

    def format(self, name: str):
        try:
            return self.formats[name]
        except KeyError:
            known = ", ".join(sorted(self.formats))
            raise UsageError(f"unknown format {name!r} (known: {known})") from None

    def step(self, name: str) -> type:
        """An augmenter or a filter: the steps of a chain."""
        if name in self.filters:
            return self.filters[name]
        return self.augmenter(name)

    def augmenter(self, name: str) -> type:
        try:
            return self.augmenters[name]
        except KeyError:
            known = ", ".join(sorted(self.augmenters))
            raise UsageError(f"unknown augmenter {name!r} (known: {known})") from None


# Registry field -> the hook that fills it
KINDS = {
    "formats": "register_formats",
    "augmenters": "register_augmenters",
    "filters": "register_filters",
    "persona_importers": "register_persona_importers",
}


def _allowed(name: str, dist: str | None) -> bool:
    allow = os.environ.get(ALLOW_ENV)
    if allow is None:
        return True
    names = {n.strip() for n in allow.split(",") if n.strip()}
    return name in names or (dist is not None and dist in names)


def _entry_points() -> Iterable[metadata.EntryPoint]:
    from importlib import metadata

    return metadata.entry_points(group=GROUP)


_dists: dict[object, tuple[str | None, str | None]] = {}


def _dist_of(ep: metadata.EntryPoint) -> tuple[str | None, str | None]:
    """The name and version of the distribution declaring ``ep``: its
    metadata is parsed once per distribution (``Distribution.name`` and
    ``.version`` parse it again at every call, for every entry point)."""
    dist = ep.dist
    if dist is None:
        return None, None
    key = getattr(dist, "_path", None) or id(dist)
    if key not in _dists:
        meta = dist.metadata
        _dists[key] = (meta["Name"], meta["Version"])
    return _dists[key]


class _Manager(pluggy.PluginManager):
    """pluggy's manager, asking a module plugin about each of its names
    through the module's own dictionary: pluggy's general lookup
    (``inspect.getattr_static``) costs 4 µs a name, and the nine plugin
    modules a convert loads hold 419 names (1.7 ms of every start; 0.2 here)."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if isinstance(plugin, types.ModuleType):
            value = plugin.__dict__.get(name, _ABSENT)
            if value is not _ABSENT and not isinstance(value, (staticmethod, classmethod, types.MethodType)):
                if not isinstance(value, types.FunctionType) or _MARK not in value.__dict__:
                    return None  # as pluggy finds it: not a function, or one without the marker
        return super().parse_hookimpl_opts(plugin, name)


_ABSENT = object()
#: The attribute ``hookimpl`` sets on a hook implementation.
_MARK = GROUP + "_impl"


def _manager() -> pluggy.PluginManager:
    pm = _Manager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def load(extra: Iterable[tuple[str, object]] = ()) -> Registry:
    """Load every allowed plugin and collect what it registers.

    ``extra`` adds plugin objects directly as ``(name, module_or_object)``;
    tests and the test kit use it to register a plugin without installing it.
    """
    pm = _manager()
    registry = Registry()
    infos: dict[str, PluginInfo] = {}

    for ep in sorted(_entry_points(), key=lambda e: e.name):
        dist, version = _dist_of(ep)
        builtin = dist is not None and _normal(dist) == _normal(OWN_DISTRIBUTION)
        if not builtin and not _allowed(ep.name, dist):
            continue
        if ep.name in infos:
            continue  # the same plugin seen twice (an editable and a normal install)
        info = PluginInfo(ep.name, version, builtin, target=ep.value)
        infos[ep.name] = info
        registry.plugins.append(info)
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # any failure in third-party code
            info.error = f"failed to load: {type(exc).__name__}: {exc}"
        info.file = _module_file(ep.value)

    for name, obj in extra:
        info = PluginInfo(name, None, False)
        infos[name] = info
        registry.plugins.append(info)
        try:
            pm.register(obj, name=name)
        except Exception as exc:
            info.error = f"failed to load: {type(exc).__name__}: {exc}"

    while True:  # every plugin with an unknown hook, not just the first
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            bad = getattr(exc, "plugin", None)
            bad_name = pm.get_name(bad) if bad is not None else None
            if bad_name not in infos:
                raise PluginError(str(exc)) from exc
            infos[bad_name].error = f"unknown hook: {exc}"
            pm.unregister(bad)

    for kind, hook_name in KINDS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = infos[impl.plugin_name]
            if not info.error:
                _call(pm, registry, info, kind, hook_name)
    return registry


def _call(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, kind: str, hook_name: str) -> None:
    """Call one plugin's ``hook_name``; what it registers goes into the table of ``kind``."""
    table = getattr(registry, kind)
    if hook_name not in info.hooks:
        info.hooks.append(hook_name)
    names: list[str] = []

    def register(obj):
        name = getattr(obj, "name", None)
        if not name or not isinstance(name, str):
            raise PluginError(f"a registered {kind[:-1]} has no name: {obj!r}")
        key = (kind, name)
        owner = registry._owner.get(key)
        if owner is not None and (owner != info.name or key in registry._done):
            raise PluginError(f"{kind[:-1]} {name!r} is already registered by plugin {owner!r}")
        registry._owner[key] = info.name
        registry._done.add(key)
        table.add(name, obj)
        names.append(name)

    # through pluggy, one plugin at a time, so a failure is that plugin's
    others = [plugin for name, plugin in pm.list_name_plugin() if name != info.name]
    caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
    try:
        caller(register=register)
    except Exception as exc:
        info.error = f"{hook_name} failed: {type(exc).__name__}: {exc}"
    if names:
        info.registered[kind] = names


def _module_file(target: str) -> str | None:
    module = target.partition(":")[0].strip()
    found = sys.modules.get(module)
    if found is None:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        return spec.origin if spec is not None else None
    return getattr(found, "__file__", None)


def _resolve(target: str) -> object:
    """What an entry point's target names, as ``EntryPoint.load`` finds it."""
    module, _, attrs = target.partition(":")
    obj: object = importlib.import_module(module.strip())
    for attr in filter(None, attrs.split("[")[0].strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def from_manifest(data: dict[str, Any]) -> Registry:
    """A registry whose plugins are imported when one of their names is used."""
    registry = Registry()
    infos: dict[str, PluginInfo] = {}
    for entry in data["plugins"]:
        info = PluginInfo(
            entry["name"], entry["version"], entry["builtin"], list(entry["hooks"]),
            {k: list(v) for k, v in entry["registered"].items()}, entry.get("error"), entry.get("target"),
        )
        infos[info.name] = info
        registry.plugins.append(info)
        for kind, names in info.registered.items():
            for name in names:
                getattr(registry, kind).expect(name, info.name)
                registry._owner[(kind, name)] = info.name
    pm: list[pluggy.PluginManager] = []
    loaded: set[str] = set()

    def load_plugin(name: str) -> None:
        if name in loaded:
            return
        loaded.add(name)
        if not pm:
            pm.append(_manager())
        info = infos[name]
        before, info.error = info.error, None
        try:
            pm[0].register(_resolve(info.target or ""), name=name)
            pm[0].check_pending()
        except Exception as exc:
            info.error = f"failed to load: {type(exc).__name__}: {exc}"
        else:
            for kind, hook_name in KINDS.items():
                if info.error:
                    break  # as in a full load: a plugin whose hook failed is asked nothing more
                if any(impl.plugin_name == name for impl in getattr(pm[0].hook, hook_name).get_hookimpls()):
                    _call(pm[0], registry, info, kind, hook_name)
        for kind in KINDS:
            getattr(registry, kind).forget(name)
        if info.error and info.error != before:
            raise PluginError(f"plugin {name}: {info.error}")
        info.error = before

    for kind in KINDS:
        getattr(registry, kind)._load = load_plugin
    return registry


def manifest_of(registry: Registry) -> list[dict[str, Any]]:
    return [{**p.as_json(), "error": p.error, "target": p.target} for p in registry.plugins]


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


_cached: Registry | None = None


def registry(fresh: bool = False) -> Registry:
    """The registry of installed plugins, loaded once per process: from the
    manifest of an earlier full load if it is still valid, else in full (and
    remembered). ``fresh`` forces a full load."""
    global _cached
    if _cached is None or fresh:
        from augment import plugin_manifest

        data = None if fresh else plugin_manifest.read()
        if data is None:
            _cached = _load_and_remember()
        else:
            _cached = from_manifest(data)
            _cached._renew = _load_and_remember
            for kind in KINDS:
                getattr(_cached, kind)._complete = _cached.complete
    return _cached


def _load_and_remember() -> Registry:
    from augment import plugin_manifest

    loaded = load()
    plugin_manifest.write(manifest_of(loaded), sorted({p.file for p in loaded.plugins if p.file}))
    return loaded
