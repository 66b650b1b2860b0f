"""``worker status``: what storage says about each partition of a range, nothing else.

A day whose last attempt failed over an older commit shows two facts, each labelled and
never mixed: the failure (its run id, reason, time) and the commit still served (its run id,
rows, time).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from worker.cli.common import register_command, worker_command
from worker.cli.render import console, print_json, status_text
from worker.core.partitions import date_range, parse_date
from worker.errors import ConfigurationError
from worker.settings import Settings

if TYPE_CHECKING:
    from worker.core.load import PartitionState


@worker_command
def status(
    settings: Settings,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Registered dataset name.")],
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="First day, YYYY-MM-DD.")
    ] = None,
    end_date: Annotated[str | None, typer.Option("--end-date", help="Last day (included).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the states as JSON.")] = False,
    backfill_id: Annotated[
        str | None,
        typer.Option(
            "--backfill-id",
            help="Show this backfill's progress from its record instead of a date range.",
        ),
    ] = None,
) -> None:
    """Show each partition as committed (rows, run id), failed (reason; and the older commit
    still served, if any) or missing; with ``--backfill-id``, one backfill's progress."""
    if backfill_id is not None:
        from worker.cli.backfill_status import show_backfill
        from worker.runtime import build_ports

        ports = build_ports(settings)
        ports.registry.get(dataset)
        show_backfill(ports, dataset, backfill_id, as_json=as_json)
        return
    if start_date is None or end_date is None:
        raise ConfigurationError("pass --start-date and --end-date, or --backfill-id")
    days = date_range(
        parse_date(start_date, what="--start-date"), parse_date(end_date, what="--end-date")
    )
    from worker.core.load import partition_state
    from worker.runtime import build_ports

    ports = build_ports(settings)
    ports.registry.get(dataset)
    states = [(day, partition_state(ports.storage, ports.output_uri, dataset, day)) for day in days]
    if as_json:
        print_json([_as_json(day, state) for day, state in states])
        return
    counts = Counter(state.status for _, state in states)
    title = f"{dataset}: " + ", ".join(
        f"{counts[name]} {name}" for name in ("committed", "failed", "missing")
    )
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("partition", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("run id", "left"),
        ("when", "left"),
        ("reason", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for day, state in states:
        for row in _table_rows(day, state):
            table.add_row(*row)
    console().print(table)


def _table_rows(day: date, state: PartitionState) -> list[tuple[Any, ...]]:
    commit = _commit(state)
    committed = (
        "" if commit is None else str(commit["rows"]),
        "" if commit is None else commit["run_id"],
        "" if commit is None else str(commit["committed_at"]),
    )
    if state.status != "failed":
        return [(day.isoformat(), status_text(state.status), *committed, "")]
    failed = (
        day.isoformat(),
        status_text("failed"),
        "",
        state.run_id or "",
        "" if state.failed_at is None else str(state.failed_at),
        state.reason or "",
    )
    if commit is None:
        return [failed]
    return [failed, ("", status_text("committed").append(" (older, served)"), *committed, "")]


def _commit(state: PartitionState) -> dict[str, Any] | None:
    if state.committed_run_id is None:
        return None
    return {
        "run_id": state.committed_run_id,
        "rows": state.rows,
        "committed_at": state.committed_at,
    }


def _failure(state: PartitionState) -> dict[str, Any] | None:
    if state.status != "failed":
        return None
    return {"run_id": state.run_id, "reason": state.reason, "failed_at": state.failed_at}


def _as_json(day: date, state: PartitionState) -> dict[str, Any]:
    """The facts of the day's own status at the top level; both labelled facts beside."""
    commit, failure = _commit(state), _failure(state)
    own = failure if failure is not None else commit or {}
    return {
        "partition": day,
        "status": state.status,
        "run_id": own.get("run_id"),
        "rows": None if failure is not None else own.get("rows"),
        "committed_at": None if failure is not None else own.get("committed_at"),
        "reason": own.get("reason"),
        "failed_at": own.get("failed_at"),
        "last_failure": failure,
        "commit": commit,
        "quality": state.quality,
    }


def register(app: typer.Typer) -> None:
    register_command(app, "status", status)
