"""The ``worker`` command. Each sub-command lives in its own module and calls the library.

A command module exposes ``register(app)``; add it to ``COMMAND_MODULES`` to mount it.
"""

from __future__ import annotations

import importlib

import typer

from worker import __version__

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

app = typer.Typer(
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
