"""What each installed plugin registered, remembered between runs.

Finding plugins means reading every installed distribution's entry points
(``importlib.metadata``: ~30 ms) and importing every plugin (~80 ms for the
built-ins alone), while a command uses a few of them. After a full load the
registry writes this manifest: for each plugin, its entry point, its
distribution, the names it registered of each kind, and its error if it failed.
The next run reads it and imports a plugin only when one of its names is used.

The manifest is valid while nothing a full load would read has changed: it
records the modification time of every ``sys.path`` entry (installing,
removing or upgrading a distribution rewrites its folder there) and the time
and size of every plugin's module file (an edited plugin, an editable install
included). It lives in the cache folder (``$AUGMENT_CACHE`` or
``~/.cache/augment``), one file per interpreter, ``sys.path`` and
``AUGMENT_PLUGINS`` (the newest eight kept); it is written atomically, and a missing, unreadable,
damaged or stale manifest only means a full load (and a new manifest).
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

from augment.plugins import ALLOW_ENV

#: Bumped when the manifest's layout or the registry's loading rules change.
VERSION = 1
#: Manifests kept in the cache folder (one per interpreter and ``sys.path``:
#: ``python -m`` and ``python -c`` put the working folder there); the oldest go.
KEEP = 8


def _identity() -> str:
    return json.dumps([VERSION, sys.executable, sys.version, sys.path, os.environ.get(ALLOW_ENV)])


def path() -> Path:
    from augment.engine.dictionary import cache_folder

    digest = zlib.crc32(_identity().encode("utf-8", "surrogatepass"))
    return cache_folder() / f"plugins-{digest:08x}.json"


def _stamp(name: str) -> list[int] | None:
    try:
        st = os.stat(name or ".")
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def stamps(files: list[str]) -> dict[str, list[int] | None]:
    """Modification time (and size) of each ``sys.path`` entry and of ``files``."""
    return {name: _stamp(name) for name in [*sys.path, *files]}


def read() -> dict[str, Any] | None:
    """The manifest, if there is one and nothing it depends on has changed."""
    try:
        data = json.loads(path().read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("identity") != _identity():
        return None
    recorded = data.get("stamps")
    if not isinstance(recorded, dict) or stamps(data.get("files", [])) != recorded:
        return None
    return data


def write(plugins: list[dict[str, Any]], files: list[str]) -> None:
    """Remember a full load; a cache folder that cannot be written is skipped."""
    from augment.dataio.streams import AtomicFile

    target = path()
    data = {"identity": _identity(), "files": files, "stamps": stamps(files), "plugins": plugins}
    try:
        with AtomicFile(target) as fh:
            fh.write(json.dumps(data, ensure_ascii=False).encode("utf-8"))
        _prune(target.parent)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    def age(found: Path) -> int:
        try:
            return found.stat().st_mtime_ns
        except OSError:
            return 0

    for old in sorted(folder.glob("plugins-*.json"), key=age, reverse=True)[KEEP:]:
        try:
            old.unlink()
        except OSError:
            pass
