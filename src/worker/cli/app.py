"""The ``worker`` command. Each sub-command lives in its own module and calls the library.

A command module exposes ``register(app)``; add its command name to ``COMMANDS`` to mount it.
"""

from __future__ import annotations

import importlib

import typer

# Typer vendors click; its types are the ones used here.
from typer._click.core import Command, Context

from worker import __version__
from worker.cli.common import WorkerGroup

COMMANDS: dict[str, str] = {
    "run": "run",
    "backfill": "backfill",
    "datasets": "datasets",
    "sample-data": "sample_data",
    "status": "status",
    "dlq": "dlq",
    "docs": "docs_cmd",
    "demo": "demo",
    "dev": "dev",
    "emulators": "emulators_cmd",
    "serve": "serve",
    "setup": "setup_cmd",
    "publish": "publish",
}
"""Command name -> module under ``worker.cli``. Modules are imported only when their command
runs (or for ``--help``), so ``worker version`` does not pay for Polars and Pandera."""


class RootGroup(WorkerGroup):
    """The root group: loads each command's module on first use; usage mistakes anywhere
    below it exit 3 (:class:`~worker.cli.common.WorkerGroup`)."""

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        known = super().get_command(ctx, cmd_name)
        if known is not None or cmd_name not in COMMANDS:
            return known
        loaded = load_command(cmd_name)
        self.add_command(loaded, cmd_name)
        return loaded


app = typer.Typer(
    cls=RootGroup,
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


def load_command(name: str) -> Command:
    """Import the module behind ``name`` and return the click command it registers."""
    holder = typer.Typer()

    @holder.callback()
    def _holder() -> None:
        """Forces a group, so a module's single command keeps its name."""

    importlib.import_module(f"worker.cli.{COMMANDS[name]}").register(holder)
    group = typer.main.get_group(holder)
    command = group.commands.get(name)
    if command is None:
        raise LookupError(f"worker.cli.{COMMANDS[name]} does not register a command {name!r}")
    return command


def main() -> None:
    app()
