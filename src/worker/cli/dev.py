"""``worker dev``: emulators, provisioning and ``worker serve`` kept running, reloaded on change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from worker.cli.common import register_command, worker_command
from worker.devenv.dev import DEFAULT_DEV_WORKDIR, DevOptions, run_dev
from worker.settings import Settings


@worker_command
def dev(
    settings: Settings,
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where output and logs go (logs emptied first).")
    ] = DEFAULT_DEV_WORKDIR,
    pid_file: Annotated[
        Path | None,
        typer.Option("--pid-file", help="Keep the PIDs of started processes in this JSON file."),
    ] = None,
) -> None:
    """Run the local environment for development until Ctrl-C; print what a second
    terminal needs (export lines)."""
    run_dev(
        settings,
        DevOptions(workdir=workdir, pid_file=pid_file),
        # Plain print: the export lines must be copy-pasteable, never wrapped or styled.
        say=lambda line: print(line, flush=True),
    )


def register(app: typer.Typer) -> None:
    register_command(app, "dev", dev)
