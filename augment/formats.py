"""What a dataset format is, for the core and for plugin authors.

A format turns one record (a JSON object, or whatever its own ``read`` yields)
into a :class:`Conversation` and back. Formats are registered by plugins through
the ``register_formats`` hook; the built-in ones live in ``plugins/``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from .conversation import Conversation, Location
from .errors import Unrepresentable, UsageError


class Format:
    """Base class for formats. Subclass it and override what applies.

    ``name``
        what users type after ``--from`` / ``--to``.
    ``summary``
        one line for ``augment formats``.
    ``suffixes``
        file endings this format owns outright (``.txt`` for scripts); JSON
        formats leave it empty and are recognised by ``detect``.
    ``writable``
        False for input-only formats.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()
    writable: ClassVar[bool] = True
    #: Options this format understands from the command line (``--as`` ...),
    #: as ``{option_name: help}``.
    options: ClassVar[dict[str, str]] = {}

    # -- reading ---------------------------------------------------------
    def detect(self, record: Any) -> bool:
        """True when a JSON record looks like this format."""
        return False

    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]] | None:
        """Yield ``(location, record)`` from a binary stream, or return None to
        use the core's JSON / JSON Lines reader. Only text formats override it."""
        return None

    def decode(self, record: Any) -> Conversation:
        """Turn one record into a conversation; raise RecordError with the reason."""
        raise NotImplementedError

    # -- writing ---------------------------------------------------------
    def encode(self, conversation: Conversation) -> dict[str, Any]:
        """Turn a conversation into one record; raise Unrepresentable when the
        format has no place for something in it."""
        raise Unrepresentable(f"{self.name} is an input-only format")

    def dataset_info(self, file_name: str) -> dict[str, Any]:
        """The LLaMA-Factory ``dataset_info.json`` entry for a file of this format."""
        raise Unrepresentable(f"LLaMA-Factory has no entry for the {self.name} format")

    # -- configuration ---------------------------------------------------
    def configure(self, **options: Any) -> "Format":
        """A copy of this format with options set (``speaker='Mira'`` ...).

        Options the format does not know are an error."""
        unknown = sorted(k for k, v in options.items() if v is not None and k not in self.options)
        if unknown:
            raise UsageError(f"format {self.name!r} takes no option {', '.join(unknown)}")
        return self

    def from_dataset_info(self, entry: dict[str, Any]) -> "Format":
        """A copy of this format reading the columns and tags of a
        LLaMA-Factory ``dataset_info.json`` entry."""
        raise UsageError(f"format {self.name!r} cannot be configured from dataset_info.json")


def split_known(record: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``record`` not in ``known``, in their original order."""
    return {k: v for k, v in record.items() if k not in known}


def type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
