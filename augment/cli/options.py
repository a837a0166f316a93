"""What the commands share: option groups, the registry, progress on stderr,
and the one place where errors become messages for a user."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click

from augment.dataio.validation import GREETING_POLICIES
from augment.errors import AugmentError, CommandLineError, StopRun, UsageError

if TYPE_CHECKING:  # imported when a command runs, not for its --help
    from augment.dataio.reading import Source
    from augment.engine.run import Run
    from augment.plugins import Registry

#: Per-record lines shown before the rest go to the rejects file only.
MAX_ECHOED = 20
STOP_HINT = "(stopped at the first bad record; --on-error skip rejects bad records and goes on)"


def registry() -> Registry:
    from augment.plugins import registry as load_registry

    reg = load_registry()
    for failure in reg.failures:
        click.echo(f"warning: plugin {failure.name}: {failure.error}", err=True)
    return reg


class SectionOption(click.Option):
    """An option shown under a heading in ``--help``."""

    def __init__(self, *args: Any, section: str = "Options", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section


class Sectioned:
    """``--help`` lists options under their sections, in the order first met."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(getattr(param, "section", "Options"), []).append(record)
        general = sections.pop("Options", None)
        if general:
            sections["Options"] = general  # --help and the like, last
        for name, rows in sections.items():
            with formatter.section(name):
                formatter.write_dl(rows)
        if isinstance(self, click.MultiCommand):
            self.format_commands(ctx, formatter)


class SectionedCommand(Sectioned, click.Command):
    pass


def _add(options: list, fn):
    for option in reversed(options):
        fn = option(fn)
    return fn


def option(*args: Any, section: str, **kwargs: Any):
    return click.option(*args, cls=SectionOption, section=section, **kwargs)


def read_options(fn):
    """How to read IN."""
    s = "Input"
    return _add([
        option("--from", "from_", metavar="FORMAT", section=s, help="Input format (default: told by the file name or contents, else per record)."),
        option("--dataset-info", type=click.Path(exists=True, dir_okay=False), section=s, help="LLaMA-Factory dataset_info.json whose entry names the columns and tags."),
        option("--dataset", metavar="NAME", section=s, help="The entry of --dataset-info to use."),
        option("--as", "speaker", metavar="NAME", section=s, help="Script input: the speaker the assistant plays."),
        option("--swipes", type=click.Choice(["keep", "dpo"]), section=s, help="SillyTavern input: keep the chosen replies (keep), or write preference pairs, the chosen reply against each other swipe (dpo)."),
        option("--repair", "greeting", flag_value="fold-into-system", default=None, section=s, help="Repair role order (same as --greeting fold-into-system)."),
        option("--greeting", "greeting", type=click.Choice(GREETING_POLICIES), section=s, help="Repair role order; what to do with an assistant-first greeting."),
        option("--opener", default="Hello.", show_default=True, section=s, help="The user turn --greeting insert-user puts before a greeting."),
    ], fn)


def error_options(fn):
    s = "Errors"
    return _add([
        option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True, section=s, help="Stop at the first bad record, or reject it and go on."),
        option("--rejects", type=click.Path(dir_okay=False), section=s, help="Where rejected records go with their reason (default with --on-error skip or filters: OUT.rejects.jsonl)."),
    ], fn)


def safety_options(fn):
    s = "Safety"
    return _add([
        option("--no-safety", "no_safety", is_flag=True, section=s, help="Turn off the safety gate (sexual content involving minors is rejected by default); recorded in provenance and the dataset card."),
        option("--judge-model", metavar="MODEL", section=s, help="A litellm model that judges the gate's borderline records (a sexual term beside 'teen' or 'student', a minor beside a kiss); no verdict rejects."),
        option("--judge-api-base", metavar="URL", section=s, help="The judge's OpenAI-compatible server."),
        option("--judge-api-key-env", metavar="NAME", section=s, help="Environment variable holding the judge's API key."),
    ], fn)


def judge_settings(o: dict[str, Any]):
    if not o.get("judge_model"):
        return None
    from augment.model.settings import ModelSettings, cache_root

    return ModelSettings(model=o["judge_model"], api_base=o["judge_api_base"], api_key_env=o["judge_api_key_env"], temperature=0.0, cache_dir=cache_root())


def write_options(fn):
    s = "Output"
    return _add([
        option("--expand-placeholders", is_flag=True, section=s, help="Write {{char}}/<BOT> as the character's name (its persona's, or the assistant's speaker name) and {{user}}/<USER> as --user-name."),
        option("--user-name", default="User", show_default=True, section=s, help="The name --expand-placeholders gives {{user}}."),
        option("--personas", "personas_dir", type=click.Path(file_okay=False), section=s, help="Personas folder (default: $AUGMENT_PERSONAS or ./personas): records are linked to their character."),
    ], fn)


def resume_options(fn):
    return _add([
        option("--resume", is_flag=True, section="Resume", help="Go on from where the same command, killed or interrupted, stopped (output to a file only)."),
        option("-q", "--quiet", is_flag=True, section="Resume", help="No progress bar, no per-record lines and no summary."),
    ], fn)


def model_options(fn):
    """The options of steps that ask a language model (through litellm)."""
    s = "Model"
    return _add([
        option("--model", metavar="MODEL", section=s, help="litellm model string for model steps: openai/gpt-4o-mini, anthropic/..., openai/NAME with --api-base for a local server; with --router-config, a model_name of the config."),
        option("--api-base", metavar="URL", multiple=True, section=s, help="An OpenAI-compatible server (vLLM, llama.cpp, Ollama): http://127.0.0.1:8000/v1. Repeat it to balance requests over several servers of the same model."),
        option("--api-key-env", metavar="NAME", section=s, help="Environment variable that holds the key for --api-base (with a custom --api-base no other key is sent; without one, the provider's own variable)."),
        option("--router-config", type=click.Path(exists=True, dir_okay=False), metavar="FILE", section=s, help="A litellm Router config (YAML or JSON, model_list) naming the endpoints; keys as api_key: os.environ/NAME."),
        option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True, section=s, help="Requests in flight at once."),
        option("--timeout", type=click.FloatRange(0.1), default=120.0, show_default=True, section=s, help="Seconds before a request is given up and retried."),
        option("--retries", type=click.IntRange(0, 20), default=4, show_default=True, section=s, help="Retries of a request after 429, 5xx, a timeout or an unreadable answer."),
        option("--server-wait", type=click.FloatRange(0.0), default=30.0, show_default=True, metavar="SECONDS", section=s, help="How long a server that stopped answering (connection refused) is waited for before the run stops; one that never answered stops it within seconds."),
        option("--temperature", type=click.FloatRange(0.0, 2.0), default=0.8, show_default=True, section=s),
        option("--max-tokens", type=click.IntRange(16), default=1024, show_default=True, section=s, help="Longest answer asked for."),
        option("--max-tokens-limit", type=click.IntRange(16), default=4096, show_default=True, section=s, help="An answer cut at --max-tokens is asked once more with this many, then dropped."),
        option("--max-context", type=click.IntRange(256), metavar="TOKENS", section=s, help="The model's context window (prompt and answer), for servers litellm does not know: a prompt that cannot fit is shortened (oldest turns first, where the step allows) or not sent."),
        option("--response-format", type=click.Choice(["auto", "json_schema", "json_object", "none"]), default="auto", show_default=True, section=s, help="Structured output: the answer's JSON schema as response_format (auto: what the provider supports, falling back if the server refuses)."),
        option("--extra-body", metavar="JSON", section=s, help="Fields added to every request body, e.g. '{\"chat_template_kwargs\": {\"enable_thinking\": false}}'."),
        option("--max-cost", type=click.FloatRange(0.0), metavar="USD", section=s, help="Stop asking before the run could spend more than this."),
        option("--price-in", type=click.FloatRange(0.0), metavar="USD", section=s, help="Price per million prompt tokens (for models litellm has no price for)."),
        option("--price-out", type=click.FloatRange(0.0), metavar="USD", section=s, help="Price per million completion tokens."),
        option("--cache-dir", type=click.Path(file_okay=False), section=s, help="Answer cache (default: ~/.cache/augment/llm, or $AUGMENT_CACHE/llm)."),
        option("--no-cache", is_flag=True, section=s, help="Neither read nor write the answer cache."),
        option("--dry-run", is_flag=True, section=s, help="Say how many requests and tokens the run needs; ask nothing, write nothing."),
    ], fn)


def source(o: dict[str, Any], input_path: str | None = None) -> Source:
    """The input part of a run spec, from a command's options."""
    from augment.dataio.reading import Source

    info = o.get("dataset_info")
    name = o.get("dataset")
    if (info is None) != (name is None):
        raise click.UsageError("--dataset-info and --dataset go together")
    return Source(
        input_path or o["input"],
        o.get("from_"),
        (info, name) if info else None,
        {"speaker": o.get("speaker"), "swipes": o.get("swipes")},
    )


def model_settings(o: dict[str, Any]):
    if not o.get("model"):
        return None
    import json

    from augment.model.settings import ModelSettings, cache_root

    extra_body = None
    if o.get("extra_body"):
        try:
            extra_body = json.loads(o["extra_body"])
        except ValueError as exc:
            raise CommandLineError(f"--extra-body: not JSON ({exc.msg} at character {exc.pos + 1})") from None
        if not isinstance(extra_body, dict):
            raise CommandLineError("--extra-body: give a JSON object, e.g. '{\"chat_template_kwargs\": {\"enable_thinking\": false}}'")
    bases = tuple(o.get("api_base") or ())
    cache = None if o["no_cache"] else Path(o["cache_dir"]) if o["cache_dir"] else cache_root()
    return ModelSettings(
        model=o["model"], api_base=bases[0] if len(bases) == 1 else bases or None, api_key_env=o["api_key_env"], concurrency=o["concurrency"],
        timeout=o["timeout"], retries=o["retries"], temperature=o["temperature"], max_tokens=o["max_tokens"],
        cache_dir=cache, max_cost=o["max_cost"], price_in=o["price_in"], price_out=o["price_out"],
        max_tokens_limit=max(o.get("max_tokens_limit") or 4096, o["max_tokens"]), max_context=o.get("max_context"),
        response_format=o.get("response_format") or "auto", extra_body=extra_body, router_config=o.get("router_config"),
        server_wait=o.get("server_wait", 30.0),
    )


class Interrupted(Exception):
    def __init__(self, resumable: bool) -> None:
        self.resumable = resumable


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Errors raised inside become one message and an exit status here."""
    try:
        yield
    except StopRun as exc:
        raise click.ClickException(f"{exc.location}: {exc.reason}\n{STOP_HINT}") from None
    except CommandLineError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except AugmentError as exc:
        raise click.ClickException(str(exc)) from None
    except Interrupted as exc:
        hint = "; run the same command with --resume to go on from the last checkpoint" if exc.resumable else ""
        click.echo(f"interrupted: nothing was written{hint}", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)


def reporter(quiet: bool):
    """Per-record lines on stderr: the first ones, then a pointer to the rejects file."""
    shown = [0]

    def report(line: str) -> None:
        if quiet:
            return
        shown[0] += 1
        if shown[0] <= MAX_ECHOED:
            click.echo(line, err=True)
        elif shown[0] == MAX_ECHOED + 1:
            click.echo("... more rejects not shown; see the rejects file", err=True)

    return report


@contextlib.contextmanager
def progress(size: int | None, label: str, quiet: bool) -> Iterator[Any]:
    """A progress bar on stderr (a terminal only) driven by bytes read, with
    the rate and the time left."""
    if quiet or size is None or not sys.stderr.isatty():
        yield None
        return
    start = time.monotonic()
    done = [0]

    def rate(_item: Any) -> str:
        elapsed = time.monotonic() - start
        return f"{done[0] / elapsed / 1e6:.2f} MB/s" if elapsed > 0.5 else ""

    with click.progressbar(length=size, file=sys.stderr, label=label, show_eta=True, item_show_func=rate) as bar:
        def update(n: int) -> None:
            done[0] += n
            bar.update(n, done[0])

        yield update


def execute(run: Run, label: str, quiet: bool):
    with progress(run.reader.size(), label, quiet) as update:
        run.progress = update
        try:
            return run.execute()
        except KeyboardInterrupt:
            raise Interrupted(run.summary.resumable) from None


def nothing_written(summary) -> None:
    """A run that read records but wrote none has failed, whatever --on-error says."""
    if summary.read and not summary.written:
        raise UsageError(f"read {summary.read} record(s) and wrote none: every one was rejected (see the reasons above and the rejects file)")


def label_of(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path
