"""The ``augment`` command: a thin shell that maps options onto a run
specification (:mod:`augment.spec`) and hands it to the core.

This package is the only place where errors become messages for a user.
Heavy libraries (nlpaug, litellm, nltk) are imported by the steps that need
them, never here.
"""

from __future__ import annotations

import click

from augment import __version__
from augment.cli.chains import filter_, run
from augment.cli.commands import convert, validate
from augment.cli.corpus import review, split, stats
from augment.cli.generate import generate
from augment.cli.listing import augmenters, filters, formats, plugins
from augment.cli.personas import personas_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="augment")
def main() -> None:
    """Grow a role-play conversation corpus for fine-tuning.

    Convert between Alpaca, ShareGPT and OpenAI messages (and read SillyTavern
    chats, character cards and scripts); validate and repair role order; run
    chains of augmenters and filters. Progress and summaries go to stderr,
    records to the output (stdout with -o -).
    """


for command in (convert, validate, run, filter_, plugins, formats, augmenters, filters, personas_group, split, stats, review, generate):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
