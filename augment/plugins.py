"""Finding, loading and asking plugins.

Plugins are modules named by entry points in the ``augment`` group. The built-in
ones (``plugins/`` in the source tree, installed as ``augment_plugins``) are
declared in the same group by this project's own distribution, so they load
exactly like a third-party package. We load entry points one by one instead of
pluggy's ``load_setuptools_entrypoints`` so a broken plugin is reported by name
and the others keep working.

``AUGMENT_PLUGINS`` restricts third-party plugins: unset, all load; set, only the
comma-separated entry-point names it lists load (empty: none). Built-ins always
load.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable

import pluggy

from augment import hookspecs
from augment.errors import PluginError, UsageError

GROUP = "augment"
OWN_DISTRIBUTION = "roleplay-augment"
ALLOW_ENV = "AUGMENT_PLUGINS"


@dataclass
class PluginInfo:
    name: str
    version: str | None
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

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


@dataclass
class Registry:
    """Everything the loaded plugins registered, by kind and name."""

    formats: dict[str, Any] = field(default_factory=dict)
    augmenters: dict[str, type] = field(default_factory=dict)
    filters: dict[str, type] = field(default_factory=dict)
    persona_importers: dict[str, Any] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    _owner: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

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


def load(extra: Iterable[tuple[str, object]] = ()) -> Registry:
    """Load every allowed plugin and collect what it registers.

    ``extra`` adds plugin objects directly as ``(name, module_or_object)``;
    tests and the test kit use it to register a plugin without installing it.
    """
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    infos: dict[str, PluginInfo] = {}

    for ep in sorted(_entry_points(), key=lambda e: e.name):
        dist, version = _dist_of(ep)
        builtin = dist is not None and _normal(dist) == _normal(OWN_DISTRIBUTION)
        if not builtin and not _allowed(ep.name, dist):
            continue
        if ep.name in infos:
            continue  # the same plugin seen twice (an editable and a normal install)
        info = PluginInfo(ep.name, version, builtin)
        infos[ep.name] = info
        registry.plugins.append(info)
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # any failure in third-party code
            info.error = f"failed to load: {type(exc).__name__}: {exc}"

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

    names_of = {name: pm.get_plugin(name) for name in infos if pm.get_plugin(name) is not None}
    for kind, hook_name in KINDS.items():
        table = getattr(registry, kind)
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = infos[impl.plugin_name]
            if info.error:
                continue
            if hook_name not in info.hooks:
                info.hooks.append(hook_name)
            names: list[str] = []

            def register(obj, _kind=kind, _table=table, _info=info, _names=names):
                name = getattr(obj, "name", None)
                if not name or not isinstance(name, str):
                    raise PluginError(f"a registered {_kind[:-1]} has no name: {obj!r}")
                owner = registry._owner.get((_kind, name))
                if owner is not None:
                    raise PluginError(f"{_kind[:-1]} {name!r} is already registered by plugin {owner!r}")
                registry._owner[(_kind, name)] = _info.name
                _table[name] = obj
                _names.append(name)

            # through pluggy, one plugin at a time, so a failure is that plugin's
            others = [plugin for name, plugin in names_of.items() if name != impl.plugin_name]
            caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
            try:
                caller(register=register)
            except Exception as exc:
                info.error = f"{hook_name} failed: {type(exc).__name__}: {exc}"
            if names:
                info.registered[kind] = names
    return registry


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


_cached: Registry | None = None


def registry() -> Registry:
    """The registry of installed plugins, loaded once per process."""
    global _cached
    if _cached is None:
        _cached = load()
    return _cached
