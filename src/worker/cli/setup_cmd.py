"""``worker setup``: provision topics, subscriptions and schemas on Pub/Sub; report drift."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from worker.cli.common import register_command, worker_command
from worker.cli.render import console
from worker.settings import Settings

_ACTION_STYLES = {
    "create-topic": "green",
    "create-subscription": "green",
    "exists": "dim",
    "created": "green",
    "committed": "green",
    "bound": "green",
    "would create": "yellow",
    "would commit": "yellow",
    "would bind": "yellow",
    "unsupported": "yellow",
    "failed": "bold red",
}


@worker_command
def setup(
    settings: Settings,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; create nothing.")
    ] = False,
    keep_completed: Annotated[
        bool,
        typer.Option(
            "--keep-completed",
            help="Also create <partition-completed>-keep, a subscription that keeps "
            "completion events for someone to read (demos, audits).",
        ),
    ] = False,
    schemas: Annotated[
        bool,
        typer.Option(
            "--schemas/--no-schemas",
            help="Register the Avro schemas with Pub/Sub's schema service (where supported); "
            "commit a new revision when a registered schema differs from ours.",
        ),
    ] = True,
    bind_topics: Annotated[
        bool,
        typer.Option(
            "--bind-topics",
            help="Bind the backfill-requested, partition-requested and partition-completed "
            "topics to their schemas (BINARY; needs WORKER_EVENT_ENCODING=avro).",
        ),
    ] = False,
) -> None:
    """Create every topic and subscription the service needs (idempotent), with retry and
    dead-letter policies; report settings that drifted from what the worker declares."""
    from worker.service.provisioning import setup_pubsub

    report = asyncio.run(
        setup_pubsub(
            settings,
            dry_run=dry_run,
            keep_completed=keep_completed,
            schemas=schemas,
            bind=bind_topics,
        )
    )
    out = console()
    verb = "Plan (dry run)" if dry_run else "Pub/Sub setup"
    table = Table(title=f"{verb}: project {settings.project}")
    table.add_column("action")
    table.add_column("resource")
    table.add_column("settings")
    for action in report.pubsub.actions:
        kind = f"would {action.kind}" if dry_run and action.kind != "exists" else action.kind
        style = _ACTION_STYLES.get(action.kind, "")
        table.add_row(f"[{style}]{kind}[/]", action.resource, action.detail)
    for outcome in report.schemas:
        style = _ACTION_STYLES.get(outcome.status, "")
        table.add_row(f"[{style}]{outcome.status}[/]", outcome.resource, outcome.detail)
    out.print(table)
    for finding in report.pubsub.drift:
        out.print(f"[bold yellow]drift[/] {finding}")
    if any(outcome.status == "unsupported" for outcome in report.schemas):
        out.print("schemas: this endpoint has no schema service; topics work without them")
    created = len(report.pubsub.created)
    summary = f"{created} to create" if dry_run else f"{created} created"
    out.print(f"{summary}, {len(report.pubsub.drift)} drifted")


def register(app: typer.Typer) -> None:
    register_command(app, "setup", setup)
