"""``worker status``: what storage says about each partition of a range, nothing else."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from worker.cli.common import register_command, worker_command
from worker.cli.render import console, print_json, status_text
from worker.core.partitions import date_range, parse_date
from worker.errors import ConfigurationError
from worker.settings import Settings


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
    """Show each partition as committed (rows, run id), failed (reason) or missing."""
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
        print_json([{"partition": day, **_fields(state)} for day, state in states])
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
        table.add_row(
            day.isoformat(),
            status_text(state.status),
            "" if state.rows is None else str(state.rows),
            state.run_id or "",
            "" if state.committed_at is None else str(state.committed_at),
            state.reason or "",
        )
    console().print(table)


def _fields(state: object) -> dict[str, object]:
    return {
        name: getattr(state, name, None)
        for name in ("status", "rows", "run_id", "committed_at", "reason", "quality")
    }


def register(app: typer.Typer) -> None:
    register_command(app, "status", status)
