"""The ``worker`` command. Each sub-command lives in its own module and calls the library.

A command module exposes ``register(app)``; add it to ``COMMAND_MODULES`` to mount it.
"""

from __future__ import annotations

import importlib

import typer

# Typer vendors click; its exceptions and types are the ones raised here.
from typer._click.core import Command, Context
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from worker import __version__
from worker.errors import ConfigurationError

COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "backfill",
    "datasets",
    "sample_data",
    "status",
    "dlq",
    "docs_cmd",
    "demo",
    "dev",
    "serve",
    "setup_cmd",
    "publish",
)


class WorkerGroup(TyperGroup):
    """The root group: an unknown command or a bad root flag is a configuration error (3),
    not click's usage exit 2, which here means "partial failure"."""

    def _usage_error(self, ctx: Context | None, exc: UsageError) -> typer.Exit:
        path = ctx.command_path if ctx is not None else "worker"
        typer.echo(f"error: {exc.format_message()} (see '{path} --help')", err=True)
        return typer.Exit(ConfigurationError.exit_code)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            raise self._usage_error(ctx, exc) from None

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            raise self._usage_error(ctx, exc) from None


app = typer.Typer(
    cls=WorkerGroup,
    name="worker",
    help="Google Cloud event-driven data worker: partitions, backfills, dead letters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Google Cloud event-driven data worker."""


@app.command()
def version() -> None:
    """Print the worker's version."""
    typer.echo(__version__)


for _module in COMMAND_MODULES:
    importlib.import_module(f"worker.cli.{_module}").register(app)


def main() -> None:
    app()
