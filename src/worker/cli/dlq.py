"""``worker dlq list`` and ``worker dlq replay``: inspect and replay dead letters.

The work happens in :mod:`worker.ops.dlq`; this module renders it.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from worker.cli.common import command_group, register_command, worker_command
from worker.cli.render import console, print_json, status_text
from worker.errors import PartialFailureError
from worker.ops.deadletters import listing_record
from worker.ops.dlq import DeadLetterQueue, ReplayReport
from worker.settings import Settings

DEFAULT_LIMIT = 100

Subscription = Annotated[
    str,
    typer.Option(
        "--subscription", "-s", help="Dead-letter subscription, e.g. file-arrived-dlq-keep."
    ),
]
Limit = Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many dead letters.")]
Wait = Annotated[
    float,
    typer.Option(
        "--wait", min=0.1, help="Seconds one pull waits for dead letters before giving up."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def open_queue(settings: Settings, wait_s: float) -> DeadLetterQueue:
    return DeadLetterQueue(
        settings.project, emulator_host=settings.pubsub_emulator_host, pull_timeout_s=wait_s
    )


def _cut(text: str | None, width: int = 120) -> str:
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


@worker_command
def list_dead_letters(
    settings: Settings,
    subscription: Subscription,
    limit: Limit = DEFAULT_LIMIT,
    wait: Wait = 5.0,
    as_json: AsJson = False,
) -> None:
    """Show dead letters (why, what, where from) WITHOUT consuming them."""
    with open_queue(settings, wait) as queue:
        letters = queue.peek(subscription, limit)
    records = [listing_record(letter) for letter in letters]
    if as_json:
        print_json(records)
        return
    table = Table(
        title=f"{subscription}: {len(records)} dead letters (left in place)", title_justify="left"
    )
    for column in ("time", "reason", "error", "message", "about", "original id", "attempt"):
        table.add_column(column)
    for record in records:
        about = ", ".join(
            f"{key} {record[key]}" for key in ("dataset", "object", "partition") if record[key]
        )
        table.add_row(
            str(record["dead_lettered_at"] or ""),
            str(record["reason"] or ""),
            str(record["error_type"] or ""),
            _cut(str(record["error_message"] or "")),
            about or str(record["event_type"] or ""),
            str(record["original_message_id"] or ""),
            "" if record["delivery_attempt"] is None else str(record["delivery_attempt"]),
        )
    console().print(table)


@worker_command
def replay_dead_letters(
    settings: Settings,
    subscription: Subscription,
    limit: Limit = DEFAULT_LIMIT,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be replayed; ack nothing.")
    ] = False,
    to_topic: Annotated[
        str | None,
        typer.Option("--to-topic", help="Republish here instead of each letter's source topic."),
    ] = None,
    wait: Wait = 5.0,
    as_json: AsJson = False,
) -> None:
    """Republish dead letters, exactly as they first arrived, to their source topic."""
    with open_queue(settings, wait) as queue:
        report = queue.replay(subscription, limit, to_topic=to_topic, dry_run=dry_run)
    if as_json:
        print_json(_report_record(report))
    else:
        _print_report(report)
    problems = report.problems
    if problems:
        named = ", ".join(
            f"{outcome.letter.message_id} ({outcome.error})" for outcome in problems[:5]
        )
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise PartialFailureError(
            f"{len(problems)} of {len(report.outcomes)} dead letters not replayed: {named}{more}",
            where=subscription,
        )


def _report_record(report: ReplayReport) -> dict[str, object]:
    return {
        "subscription": report.subscription,
        "dry_run": report.dry_run,
        "outcomes": [
            {
                "message_id": outcome.letter.message_id,
                "original_message_id": outcome.letter.original_message_id,
                "status": outcome.status,
                "topic": outcome.topic,
                "new_message_id": outcome.new_message_id,
                "error": outcome.error,
            }
            for outcome in report.outcomes
        ],
        "summary": {
            status: report.count(status) for status in ("replayed", "failed", "unacked", "dry-run")
        },
    }


def _print_report(report: ReplayReport) -> None:
    out = console()
    verb = "would replay" if report.dry_run else "replay"
    table = Table(title=f"{report.subscription}: {verb}", title_justify="left")
    for column in ("dead letter", "original id", "status", "to topic", "new id / error"):
        table.add_column(column)
    for outcome in report.outcomes:
        table.add_row(
            outcome.letter.message_id,
            outcome.letter.original_message_id or "",
            status_text(outcome.status),
            outcome.topic or "",
            outcome.new_message_id or _cut(outcome.error),
        )
    out.print(table)
    total = len(report.outcomes)
    if report.dry_run:
        out.print(f"dry run: {report.count('dry-run')} of {total} would be replayed; nothing acked")
        return
    out.print(
        f"replayed {report.count('replayed')} of {total}; "
        f"failed {report.count('failed')} (left in {report.subscription}); "
        f"unacked after republish {report.count('unacked')}"
    )


def register(app: typer.Typer) -> None:
    dlq = command_group("dlq", "Inspect and replay dead letters (<topic>-dlq-keep subscriptions).")
    register_command(dlq, "list", list_dead_letters)
    register_command(dlq, "replay", replay_dead_letters)
    app.add_typer(dlq, name="dlq")
