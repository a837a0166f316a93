"""The ``augment`` command: a thin shell that maps options onto a run
specification (:mod:`augment.spec`) and hands it to the core.

This package is the only place where errors become messages for a user.
Heavy libraries (nlpaug, litellm, nltk) are imported by the steps that need
them, never here.
"""

from __future__ import annotations

import importlib

import click

from augment import __version__

#: Each command: where it lives, and the first paragraph of its help, which
#: ``augment --help`` shortens as click does (so listing the commands imports
#: none of them; tests/test_startup.py checks each is the command's own).
COMMANDS: dict[str, tuple[str, str]] = {
    "convert": ("augment.cli.commands:convert", 'Convert IN to another format, losing nothing.'),
    "validate": ("augment.cli.commands:validate", 'Check IN against the rules trainers enforce.'),
    "run": ("augment.cli.chains:run", 'Run a chain of augmenters over IN and write the results to -o.'),
    "filter": ("augment.cli.chains:filter_", 'Run filters over IN and write what they keep to -o.'),
    "plugins": ("augment.cli.listing:plugins", 'The loaded plugins as JSON: name, version, hooks, what each registered.'),
    "formats": ("augment.cli.listing:formats", 'The formats: names, one-line summaries, options.'),
    "augmenters": ("augment.cli.listing:augmenters", 'The augmenters: names, one-line summaries, options.'),
    "filters": ("augment.cli.listing:filters", 'The filters: names, one-line summaries, options.'),
    "personas": ("augment.cli.personas:personas_group", 'Characters in the personas folder: character cards (JSON) and YAML.'),
    "split": ("augment.cli.corpus:split", 'Split IN into train / validation (/ test) files without leakage: every variant of a source lands on the same side as its source.'),
    "stats": ("augment.cli.corpus:stats", 'Statistics of a corpus: conversations, turns, lengths by role, estimated tokens against --cutoff-len, characters, languages, duplicates and near-duplicate similarity, lexical diversity (distinct-1/2); for an augmented file the yield per chain, the share of words each chain changed, and the reasons in its rejects file.'),
    "review": ("augment.cli.corpus:review", "A random sample of the variants in OUT beside their sources, the changed words highlighted, with each one's chain and provenance, and the rejects with their reasons: to judge an augmented file before training on it."),
    "generate": ("augment.cli.generate:generate", 'Render TEMPLATE (Jinja2) into conversations, or have a model write them from text (--from-text), and write them to -o.'),
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or shows its
    own help): ``augment --help`` and each command start with what they need."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, attr = COMMANDS[name][0].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, short_help(name, limit) if name in COMMANDS else self.get_command(ctx, name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def short_help(name: str, limit: int = 45) -> str:
    """A command's line in ``augment --help``, without importing it."""
    return click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="augment")
def main() -> None:
    """Grow a role-play conversation corpus for fine-tuning.

    Convert between Alpaca, ShareGPT and OpenAI messages (and read SillyTavern
    chats, character cards and scripts); validate and repair role order; run
    chains of augmenters and filters. Progress and summaries go to stderr,
    records to the output (stdout with -o -).
    """


if __name__ == "__main__":  # pragma: no cover
    main()
