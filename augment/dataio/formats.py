"""What a dataset format is, for the core and for plugin authors.

A format turns one record (a JSON object, or whatever its own ``read`` yields)
into a :class:`Conversation` and back. Formats are registered by plugins through
the ``register_formats`` hook; the built-in ones live in ``plugins/``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator, Sequence

from augment.conversation import Conversation, Location
from augment.errors import RecordError, Unrepresentable, UsageError


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

    def sniff(self, path: str, head: bytes) -> bool:
        """True when this format claims the whole file ``path`` by its name and
        its first bytes (``head``, up to 64 KiB): a format whose files are not
        one JSON record per line or per array item (a chat export of one
        conversation per file, a character card, a script). The file is then
        read with :meth:`read`. A format that claims files must override both."""
        return False

    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]] | None:
        """Yield ``(location, record)`` from a binary stream, or return None to
        use the core's JSON / JSON Lines reader. Formats whose files are not
        JSON records (scripts, chat exports, character cards) override it;
        ``file`` is the name to put in each :class:`Location`. Raise
        RecordError for a file that cannot be read at all."""
        return None

    def decode(self, record: Any) -> Conversation:
        """Turn one record into a conversation; raise RecordError with the reason."""
        raise NotImplementedError

    # -- writing ---------------------------------------------------------
    def encode(self, conversation: Conversation) -> dict[str, Any]:
        """Turn a conversation into one record; raise Unrepresentable when the
        format has no place for something in it."""
        raise Unrepresentable(f"{self.name} is an input-only format")

    def dataset_info(self, file_name: str, columns: Sequence[str] = (), traits: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The LLaMA-Factory ``dataset_info.json`` entry for a file of this
        format whose records have the top-level fields ``columns`` (their
        union). Name only columns the file has: LLaMA-Factory reads every
        column an entry names and stops with KeyError on a missing one.
        ``traits`` says what else the records hold (``function_calls``); it
        is passed only when not empty."""
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


#: Columns LLaMA-Factory reads as media when an entry declares them.
MEDIA_COLUMNS = ("images", "videos", "audios")


def optional_columns(columns: Sequence[str], wanted: dict[str, str]) -> dict[str, str]:
    """``{role: column}`` for the optional columns of an entry that the file has,
    plus its media, preference (``chosen``/``rejected``) and KTO (``kto_tag``) columns."""
    present = set(columns)
    out = {role: column for role, column in wanted.items() if column in present}
    for column in MEDIA_COLUMNS + ("chosen", "rejected", "kto_tag"):
        if column in present:
            out[column] = column
    return out


def kto_tag(record: dict[str, Any], key: str = "kto_tag") -> bool | None:
    """The KTO label of a record (``kto_tag``, or TRL's ``label``): a boolean, or None."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise RecordError(f"field {key!r} must be true or false, got {type_name(value)}")
    return value


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
