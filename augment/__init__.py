"""augment: grow role-play conversation corpora for fine-tuning.

Plugin authors need three names from here: ``hookimpl`` to mark hook
implementations, and the base classes in ``augment.formats`` and
``augment.augmenters``.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Mark a plugin's hook implementations with ``@augment.hookimpl``.
hookimpl = pluggy.HookimplMarker("augment")

__all__ = ["__version__", "hookimpl"]
