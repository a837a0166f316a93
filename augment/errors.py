"""Exceptions raised inside the engine. Only the CLI turns them into messages."""

from __future__ import annotations


class AugmentError(Exception):
    """Base class for every error the tool raises on purpose."""


class RecordError(AugmentError):
    """One record cannot be read, decoded, encoded or checked.

    The message says why, in words a user can act on; the reader adds where.
    A format's ``read`` may give the 1-based ``line`` of the problem in its file.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class Unrepresentable(RecordError):
    """The target format has no place for something in the record."""


class UsageError(AugmentError):
    """The command line or a configuration file asks for something impossible."""


class CommandLineError(UsageError):
    """The command line lacks something it needs or names something it must
    not (a step needing a model, and no --model): exit status 2, like a
    misspelled option."""


class PluginError(AugmentError):
    """A plugin is broken or conflicts with another one."""


class StopRun(AugmentError):
    """A record failed and ``--on-error fail`` is in force."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


class VariantRejected(Exception):
    """One variant cannot be made (a model's answer failed its checks, the
    budget is spent): the variant is dropped with this reason, the run goes on.
    Raised by augmenters; not an AugmentError, which stops the run."""
