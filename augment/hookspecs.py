"""The hooks a plugin can implement.

Every hook hands the plugin a ``register`` callback, so one plugin can register
many objects and the core knows which plugin gave what (see ``plugins.py``).
"""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("augment")


@hookspec
def register_formats(register: Callable[[object], None]) -> None:
    """Register dataset formats: call ``register(format)`` once per format.

    A format is an :class:`augment.Format` instance with a unique
    ``name``. It decodes records into :class:`augment.conversation.Conversation`
    objects and encodes them back.
    """


@hookspec
def register_augmenters(register: Callable[[type], None]) -> None:
    """Register augmenters: call ``register(AugmenterClass)`` once per augmenter.

    An augmenter is a subclass of :class:`augment.Augmenter` with a
    unique ``name``; the engine instantiates it with the options the user gave.
    Each one becomes a step of ``augment run``.
    """


@hookspec
def register_filters(register: Callable[[type], None]) -> None:
    """Register filters: call ``register(FilterClass)`` once per filter.

    A filter is a subclass of :class:`augment.Filter` with a unique
    ``name``. Each one is a step of ``augment filter`` and of ``augment run``,
    applied to what is about to be written.
    """


@hookspec
def register_persona_importers(register: Callable[[object], None]) -> None:
    """Register persona importers: call ``register(importer)`` once per importer.

    An importer is an :class:`augment.PersonaImporter` instance with a
    unique ``name``; ``augment personas import FILE`` uses the first one whose
    ``can_read`` accepts the file.
    """
