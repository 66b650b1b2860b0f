"""``worker serve``: run the worker service (subscribers + health/metrics HTTP, and the
push endpoint with ``WORKER_DELIVERY=push``) with uvicorn."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from worker.cli.common import register_command, worker_command
from worker.errors import WorkerError
from worker.settings import Settings


def _ignore_repeated_sigterm(signum: int, frame: FrameType | None) -> None:
    """uvicorn drains on SIGTERM, then raises the signal again for the previous handler.

    This handler takes that second one, so a graceful stop exits 0 (Cloud Run, compose)."""


@worker_command
def serve(
    settings: Settings,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Bind address (default WORKER_HEALTH_HOST, 0.0.0.0)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            envvar="PORT",
            help="HTTP port of /healthz, /readyz, /metrics (default $PORT, as Cloud Run sets "
            "it, else WORKER_HEALTH_PORT).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Consume the worker's subscriptions until SIGTERM; serve health and metrics over HTTP.

    With WORKER_DELIVERY=push nothing is pulled: Pub/Sub POSTs messages to /pubsub/push.
    """
    import uvicorn

    from worker.observability.tracing import configure_tracing
    from worker.service.app import create_app

    configure_tracing(settings.trace_exporter)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host or settings.health_host,
        port=port or settings.health_port,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s)),
    )
    server = uvicorn.Server(config)
    previous = signal.signal(signal.SIGTERM, _ignore_repeated_sigterm)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not server.started:
        raise WorkerError(
            "the service did not start (Pub/Sub unreachable, subscriptions missing, or the "
            "port in use?); see the log above",
            where=f"worker serve on {config.host}:{config.port}",
        )


def register(app: typer.Typer) -> None:
    register_command(app, "serve", serve)
