"""``worker emulators``: Google's Pub/Sub emulator and fake-gcs-server only, until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from worker.cli.common import register_command, worker_command
from worker.devenv.emulators_only import run_emulators
from worker.settings import Settings

DEFAULT_WORKDIR = Path("data/emulators")


@worker_command
def emulators(
    settings: Settings,
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where logs and local output go (logs emptied first).")
    ] = DEFAULT_WORKDIR,
    pid_file: Annotated[
        Path | None,
        typer.Option("--pid-file", help="Keep the PIDs of both emulators in this JSON file."),
    ] = None,
) -> None:
    """Start only the Pub/Sub emulator and fake-gcs-server (uploads notify file-arrived);
    print the export lines for `worker setup` / `worker serve`; stop both on Ctrl-C."""
    run_emulators(
        settings,
        workdir,
        # Plain print: the export lines must be copy-pasteable, never wrapped or styled.
        say=lambda line: print(line, flush=True),
        pid_file=pid_file,
    )


def register(app: typer.Typer) -> None:
    register_command(app, "emulators", emulators)
