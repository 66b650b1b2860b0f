"""``worker docs gen`` and ``worker docs serve``: the AsyncAPI document and its page.

The work happens in :mod:`worker.ops.asyncapi` and :mod:`worker.ops.docs_server`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from worker.cli.common import command_group, register_command, worker_command
from worker.cli.render import console
from worker.errors import WorkerError
from worker.settings import Settings

DEFAULT_OUT = Path("asyncapi")


@worker_command
def gen(
    settings: Settings,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the documents into.")
    ] = DEFAULT_OUT,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the files there are stale."),
    ] = False,
    from_settings: Annotated[
        bool,
        typer.Option(
            "--from-settings",
            help="Describe the names the settings give (environment, .env, flags) instead "
            "of the defaults the committed document shows.",
        ),
    ] = False,
) -> None:
    """Generate asyncapi.yaml, index.html (standalone) and viewer.html from the service."""
    from worker.ops.asyncapi import documentation_files, service_document, stale_files, write_files

    files = documentation_files(service_document(settings if from_settings else None))
    if check:
        stale = stale_files(files, out)
        if stale:
            raise WorkerError(
                f"AsyncAPI docs are stale: {', '.join(stale)}; run `make docs`", where=str(out)
            )
        console().print(f"{out}: {len(files)} files up to date")
        return
    written = write_files(files, out)
    console().print(f"wrote {len(written)} files to {out}: " + ", ".join(sorted(files)))


@worker_command
def serve(
    settings: Settings,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535)] = 8000,
    directory: Annotated[
        Path, typer.Option("--dir", help="What to serve; generated afresh when it is missing.")
    ] = DEFAULT_OUT,
) -> None:
    """Serve the AsyncAPI page until Ctrl-C or SIGTERM."""
    from worker.ops.docs_server import make_server, serve_until_stopped

    out = console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="worker-docs-") as scratch:
        if not (directory / "index.html").is_file():
            # An installed package (the container image) has no asyncapi/ directory.
            from worker.ops.asyncapi import documentation_files, service_document, write_files

            out.print(f"{directory} has no index.html: serving docs generated from this code")
            directory = Path(scratch)
            write_files(documentation_files(service_document()), directory)
        server = make_server(directory, host, port, log=lambda line: out.print(line))
        bound_host, bound_port = server.server_address[:2]
        out.print(f"serving {directory} on http://{bound_host!s}:{bound_port} (Ctrl-C to stop)")
        serve_until_stopped(server)


def register(app: typer.Typer) -> None:
    docs = command_group("docs", "AsyncAPI documentation of the service.")
    register_command(docs, "gen", gen)
    register_command(docs, "serve", serve)
    app.add_typer(docs, name="docs")
