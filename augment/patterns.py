"""Regular expressions compiled on first use, not at import.

A module that compiles its patterns at import makes every command that imports
it wait for them, used or not: loading the plugins to convert a file compiled
the cleaning filter's, the novel reader's, the protector's. ``LazyPattern``
takes the same arguments as :func:`re.compile` and compiles the first time one
of its attributes is asked for (``.search``, ``.sub``, ``.flags`` ...).
"""

from __future__ import annotations

import re
from typing import Any


class LazyPattern:
    """``re.compile(pattern, flags)``, done on first use.

    ``.pattern`` is there without compiling (to build other patterns from it).
    Every other attribute comes from the compiled pattern and is kept on the
    instance, so a second ``.search`` is a plain attribute lookup."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    @property
    def compiled(self) -> re.Pattern:
        try:
            return self.__dict__["_compiled"]
        except KeyError:
            self.__dict__["_compiled"] = compiled = re.compile(self.pattern, self._flags)
            return compiled

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "pattern":  # (copy and pickle ask for these before __init__ ran)
            raise AttributeError(name)
        value = getattr(self.compiled, name)
        self.__dict__[name] = value
        return value

    def __reduce__(self) -> tuple:
        return type(self), (self.pattern, self._flags)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self._flags!r})"
