"""What every ``worker`` command shares: settings flags, exit codes, one-line errors.

A command is a plain function with a ``settings: Settings`` parameter, decorated with
:func:`worker_command` and registered with :func:`register_command`. The decorator adds the
settings flags (``--env-file``, ``--log-format``, ``--landing-uri`` ...), builds
:class:`Settings` once, configures logging, and turns every error into exit code + one line
on stderr. A group of commands is made with :func:`command_group`. This module is the only
place that maps exceptions to exit codes.

Usage mistakes (unknown command or option, missing argument, bad value) exit 3, a
configuration error, anywhere in the command tree: click's own exit 2 means "partial
failure" here. :class:`WorkerGroup` catches them for everything it invokes, so a sub-group
or command made without these classes is still covered.
"""

from __future__ import annotations

import functools
import inspect
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

# typer vendors click; its types and exceptions are only reachable through the private module.
from typer._click.core import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperCommand, TyperGroup

from faststream_gcp_pubsub.errors import BrokerError
from worker.errors import ConfigurationError, WorkerError
from worker.settings import Settings, load_settings

EXIT_OK = 0
EXIT_INTERRUPTED = 130
"""What shells report for Ctrl-C (128 + SIGINT)."""

SETTINGS_PANEL = "Settings (override environment and .env)"


def exit_code_for(exc: BaseException) -> int:
    """The process exit code for an error: the WorkerError's own, 130 for Ctrl-C, else 1."""
    if isinstance(exc, WorkerError):
        return exc.exit_code
    if isinstance(exc, BrokerError):
        return 1
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return 1


def error_line(exc: BaseException) -> str:
    """The single stderr line for an error: what went wrong and where."""
    if isinstance(exc, WorkerError | BrokerError):
        return f"error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "error: interrupted"
    return f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)"


MISSING_COMMAND = "Missing command."


def usage_exit(exc: UsageError, ctx: Context | None) -> typer.Exit:
    """Report a usage mistake in one stderr line naming the command it concerns; exit 3.

    A group called without a command has already shown its help (click's "no args is
    help"); the line then says that a command is missing.
    """
    where = exc.ctx or ctx
    path = where.command_path if where is not None else "worker"
    if isinstance(exc, NoArgsIsHelpError):
        # Rich help is printed while the error is built; plain help is its message.
        help_text = exc.format_message()
        if help_text:
            typer.echo(help_text)
        message = MISSING_COMMAND
    else:
        message = exc.format_message()
    typer.echo(f"error: {message} (see '{path} --help')", err=True)
    return typer.Exit(ConfigurationError.exit_code)


class WorkerCommand(TyperCommand):
    """A command whose flag mistakes exit 3 with one line (see the module doc)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            raise usage_exit(exc, ctx) from None


class WorkerGroup(TyperGroup):
    """A group whose usage mistakes, its own and those of everything under it, exit 3."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            raise usage_exit(exc, ctx) from None

    def invoke(self, ctx: Context) -> Any:
        # Sub-commands are resolved and parsed inside the parent's invoke.
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise usage_exit(exc, ctx) from None


def _settings_parameters() -> list[inspect.Parameter]:
    def option(name: str, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
        )

    def uri_option(flag: str, help_text: str) -> Any:
        return Annotated[
            str | None, typer.Option(flag, help=help_text, rich_help_panel=SETTINGS_PANEL)
        ]

    return [
        option(
            "env_file",
            Annotated[
                Path | None,
                typer.Option(
                    "--env-file",
                    help="Read settings from this .env file instead of ./.env.",
                    rich_help_panel=SETTINGS_PANEL,
                ),
            ],
        ),
        option("landing_uri", uri_option("--landing-uri", "WORKER_LANDING_URI: inputs root.")),
        option("output_uri", uri_option("--output-uri", "WORKER_OUTPUT_URI: partitions root.")),
        option("datasets", uri_option("--datasets", "WORKER_DATASETS: extra dataset modules.")),
        option("project", uri_option("--project", "WORKER_PROJECT: GCP project id.")),
        option("log_format", uri_option("--log-format", "WORKER_LOG_FORMAT: json|console|auto.")),
        inspect.Parameter(
            "debug",
            inspect.Parameter.KEYWORD_ONLY,
            default=False,
            annotation=Annotated[
                bool,
                typer.Option(
                    "--debug",
                    envvar="WORKER_DEBUG",
                    help="Print tracebacks with errors (WORKER_DEBUG=1).",
                    rich_help_panel=SETTINGS_PANEL,
                ),
            ],
        ),
    ]


SETTINGS_PARAMETERS = _settings_parameters()
_SETTINGS_NAMES = tuple(parameter.name for parameter in SETTINGS_PARAMETERS)


def settings_from_flags(env_file: Path | None, **overrides: str | None) -> Settings:
    """Environment and .env first, flags on top; an unreadable env file is a config error."""
    if env_file is not None and not env_file.is_file():
        raise ConfigurationError("env file does not exist", where=str(env_file))
    if env_file is not None:
        return load_settings(_env_file=env_file, **overrides)
    return load_settings(**overrides)


def worker_command(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the settings flags and the one exit-code mapping (see module doc)."""
    signature = inspect.signature(command, eval_str=True)
    own = [parameter for name, parameter in signature.parameters.items() if name != "settings"]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        flags = {name: kwargs.pop(name) for name in _SETTINGS_NAMES}
        debug = bool(flags.pop("debug"))
        try:
            settings = settings_from_flags(**flags)
            from worker.runtime import configure

            configure(settings)
            command(settings=settings, **kwargs)
        except (typer.Exit, typer.Abort, UsageError):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if debug:
                traceback.print_exception(exc, file=sys.stderr)
            typer.echo(error_line(exc), err=True)
            raise typer.Exit(exit_code_for(exc)) from None

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own, *SETTINGS_PARAMETERS]
    )
    return wrapper


def register_command(app: typer.Typer, name: str, command: Callable[..., None]) -> None:
    """Mount a ``worker_command`` under ``name`` with the WorkerCommand flag handling."""
    app.command(name, cls=WorkerCommand)(command)


def command_group(name: str, help_text: str) -> typer.Typer:
    """A sub-group of ``worker`` (``worker dlq ...``) with the WorkerGroup usage handling."""
    return typer.Typer(name=name, help=help_text, cls=WorkerGroup, no_args_is_help=True)
