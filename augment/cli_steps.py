"""Chained steps on the command line: one click subcommand per registered
augmenter or filter, its options declared by the plugin."""

from __future__ import annotations

import click

from .augmenters import Augmenter, Configurable
from .conversation import ROLES
from .engine import Step
from .filters import Filter
from .plugins import registry

PY_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING}


def _roles(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    roles = tuple(r.strip() for r in value.split(",") if r.strip())
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise click.BadParameter(f"unknown role(s) {', '.join(bad)}; choose from {', '.join(ROLES)}")
    return roles


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
    langs = "any language" if cls.languages is None else ", ".join(sorted(cls.languages))

    def callback(variants, roles, **values):
        return Step(cls(**values), variants, _roles(roles))

    return click.Command(cls.name, params=params, callback=callback, help=f"{cls.summary}\n\nLanguages: {langs}.", short_help=cls.summary)


def filter_command(cls: type[Filter]) -> click.Command:
    def callback(**values):
        return cls(**values)

    help_text = f"{cls.summary}\n\nA filter: it looks at every record about to be written, in order."
    return click.Command(cls.name, params=option_params(cls), callback=callback, help=help_text, short_help=f"(filter) {cls.summary}")


class StepGroup(click.Group):
    """A chained group whose subcommands are registered augmenters and/or filters."""

    #: Which registries give the steps: ("augmenters", "filters") for run.
    kinds: tuple[str, ...] = ("augmenters", "filters")

    def _steps(self) -> dict[str, type]:
        reg = registry()
        out: dict[str, type] = {}
        for kind in self.kinds:
            out.update(getattr(reg, kind))
        return out

    def list_commands(self, ctx):
        return sorted(self._steps())

    def get_command(self, ctx, name):
        cls = self._steps().get(name)
        if cls is None:
            return None
        return filter_command(cls) if issubclass(cls, Filter) else augmenter_command(cls)

    def parse_args(self, ctx, args):
        # `augment run STEP --help` works without naming IN first.
        if args and args[0] in self._steps() and any(a in ("--help", "-h") for a in args[1:]):
            self.get_command(ctx, args[0]).make_context(args[0], ["--help"], parent=ctx)
        return super().parse_args(ctx, self._options_first(ctx, args))

    def _options_first(self, ctx, args: list[str]) -> list[str]:
        """Let the group's own options follow IN (`run IN -o OUT STEP ...`):
        click stops reading a group's options at its first positional argument."""
        takes_value = {
            name
            for param in self.get_params(ctx)
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for name in param.opts
        }
        steps = set(self._steps())
        options: list[str] = []
        positional: list[str] = []
        i = 0
        while i < len(args):
            token = args[i]
            if token in steps or token == "--":
                break
            if token.startswith("-") and token != "-":
                options.append(token)
                if token in takes_value and i + 1 < len(args):
                    options.append(args[i + 1])
                    i += 1
            else:
                positional.append(token)
            i += 1
        return options + positional + args[i:]


class FilterGroup(StepGroup):
    kinds = ("filters",)
