"""Chained steps on the command line: one click subcommand per registered
augmenter or filter, its options declared by the plugin.

A step's options are checked as the command line is read, so a bad value is
one line and exit status 2; a misspelled step gets a suggestion; the run's own
options may come before or after the steps."""

from __future__ import annotations

from collections.abc import Mapping

import click

from augment.cli.options import Sectioned
from augment.conversation import ROLES
from augment.engine.augmenters import Augmenter, Configurable
from augment.engine.filters import Filter
from augment.errors import UsageError
from augment.plugins import registry
from augment.spec import FilterSpec, StepSpec

PY_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING}


class OptionValueError(click.UsageError):
    """A step option whose value the step refuses: one line, exit status 2."""

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


def _roles(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    roles = tuple(r.strip() for r in value.split(",") if r.strip())
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise OptionValueError(f"--roles: unknown role(s) {', '.join(bad)}; choose from {', '.join(ROLES)}")
    return roles


def _checked(cls: type[Configurable], values: dict) -> dict:
    try:
        cls.resolve(values)
    except UsageError as exc:
        raise OptionValueError(str(exc)) from None
    return values


def option_params(cls: type[Configurable]) -> list[click.Parameter]:
    params: list[click.Parameter] = []
    for opt in cls.options:
        if opt.type is bool:
            flag = opt.flag
            params.append(click.Option([f"{flag}/--no-{flag[2:]}", opt.name], default=bool(opt.default), help=opt.help, show_default=True))
        else:
            ptype = click.Choice(opt.choices) if opt.choices else PY_TYPES.get(opt.type, opt.type)
            params.append(click.Option([opt.flag, opt.name], type=ptype, default=opt.default, help=opt.help, show_default=True))
    return params


def augmenter_command(cls: type[Augmenter]) -> click.Command:
    params = option_params(cls)
    params.append(click.Option(["--variants"], type=click.IntRange(1), default=1, show_default=True, help="New conversations made from each conversation this step gets."))
    params.append(click.Option(["--roles"], default=",".join(cls.roles), show_default=True, help="Comma-separated roles this step may change (system only if named)."))

    def callback(variants, roles, **values):
        return StepSpec(cls.name, _checked(cls, values), variants, _roles(roles))

    return click.Command(cls.name, params=params, callback=callback, help=f"{cls.summary}\n\nLanguages: {cls.describe_languages()}.", short_help=cls.summary)


def filter_command(cls: type[Filter]) -> click.Command:
    def callback(**values):
        return FilterSpec(cls.name, _checked(cls, values))

    help_text = f"{cls.summary}\n\nA filter: it looks at every record about to be written, in order."
    return click.Command(cls.name, params=option_params(cls), callback=callback, help=help_text, short_help=f"(filter) {cls.summary}")


class StepGroup(Sectioned, click.Group):
    """A chained group whose subcommands are registered augmenters and/or filters."""

    #: Which registries give the steps: ("augmenters", "filters") for run.
    kinds: tuple[str, ...] = ("augmenters", "filters")

    def _steps(self) -> dict[str, Mapping[str, type]]:
        """Each step's name and the registry table that holds it (a later
        kind's over an earlier one's): names only, so a step's plugin is
        imported when its class is asked for."""
        reg = registry()
        out: dict[str, Mapping[str, type]] = {}
        for kind in self.kinds:
            table = getattr(reg, kind)
            out.update(dict.fromkeys(table, table))
        return out

    def list_commands(self, ctx):
        return sorted(self._steps())

    def get_command(self, ctx, name):
        table = self._steps().get(name)
        if table is None:
            return None
        cls = table[name]
        return filter_command(cls) if issubclass(cls, Filter) else augmenter_command(cls)

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if self.get_command(ctx, name) is None and not name.startswith("-") and not (registry().complete() and self.get_command(ctx, name)):
            import difflib

            close = difflib.get_close_matches(name, list(self._steps()), n=1)
            kind = " or ".join(k[:-1] for k in self.kinds)
            hint = f"; did you mean {close[0]!r}?" if close else f" (see 'augment {'augmenters' if 'augmenters' in self.kinds else 'filters'}')"
            raise click.UsageError(f"no {kind} named {name!r}{hint}", ctx)
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx, args):
        # `augment run STEP --help` works without naming IN first.
        if args and args[0] in self._steps() and any(a in ("--help", "-h") for a in args[1:]):
            self.get_command(ctx, args[0]).make_context(args[0], ["--help"], parent=ctx)
        return super().parse_args(ctx, self._options_first(ctx, args))

    def _options_first(self, ctx, args: list[str]) -> list[str]:
        """Move the run's own options to the front, then IN, then the steps:
        click reads a group's options only before its first positional
        argument (`run IN -o OUT STEP ...`, `run IN STEP ... -o OUT`). An
        option the current step has itself stays with the step."""
        own = {name: param for param in self.get_params(ctx) if isinstance(param, click.Option) for name in param.opts + param.secondary_opts}
        steps = self._steps()
        front: list[str] = []
        positional: list[str] = []
        rest: list[str] = []
        step_options: set[str] = set()
        in_step = False
        i = 0
        while i < len(args):
            token = args[i]
            if token == "--":
                rest.extend(args[i:])
                break
            if token in steps:
                in_step = True
                command = self.get_command(ctx, token)
                step_options = {name for p in command.params for name in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
                rest.append(token)
            elif token.startswith("-") and token != "-" and token.split("=", 1)[0] in own and token.split("=", 1)[0] not in step_options:
                param = own[token.split("=", 1)[0]]
                front.append(token)
                if "=" not in token and not param.is_flag and not param.count and i + 1 < len(args):
                    front.append(args[i + 1])
                    i += 1
            elif not in_step and not token.startswith("-"):
                positional.append(token)  # IN
            else:
                rest.append(token)
            i += 1
        return front + positional + rest


class FilterGroup(StepGroup):
    kinds = ("filters",)
