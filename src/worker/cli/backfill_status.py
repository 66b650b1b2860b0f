"""``worker status --backfill-id``: a backfill's progress, read from its record in storage."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from worker.cli.render import console, print_json, status_text
from worker.core.backfill_announce import claim_uri, read_claim
from worker.core.backfill_record import read_progress
from worker.core.model import Ports
from worker.errors import ConfigurationError


def backfill_view(ports: Ports, dataset: str, backfill_id: str) -> dict[str, Any]:
    """Record, per-partition state and completion, as ``--json`` prints them."""
    progress = read_progress(ports.storage, ports.output_uri, dataset, backfill_id)
    if progress is None:
        raise ConfigurationError(
            f"no backfill {backfill_id!r} recorded for dataset {dataset!r}",
            where=ports.output_uri,
        )
    record = progress.record
    claim = read_claim(ports.storage, claim_uri(ports.output_uri, dataset, backfill_id))
    partitions = []
    for entry in record.partitions:
        note = progress.settled.get(entry.partition)
        if not entry.runs:
            state, why = "skipped", entry.reason
        elif note is None:
            state, why = "pending", entry.reason
        else:
            state, why = note.status, note.message or entry.reason
        partitions.append(
            {
                "partition": entry.partition,
                "status": state,
                "run_id": note.run_id if note else None,
                "reason": note.reason if note else None,
                "detail": why,
            }
        )
    return {
        "backfill_id": backfill_id,
        "dataset": dataset,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "mode": record.mode,
        "planned_by": record.planned_by,
        "planned_at": record.planned_at,
        "planned": len(record.partitions),
        "pending": len(progress.pending),
        "committed": progress.count("committed"),
        "failed": progress.count("failed"),
        "skipped": progress.count("skipped"),
        "completed": claim is not None,
        "announced": bool(claim and claim[0].published),
        "finished_at": progress.finished_at() if progress.done else None,
        "partitions": partitions,
    }


def show_backfill(ports: Ports, dataset: str, backfill_id: str, *, as_json: bool) -> None:
    view = backfill_view(ports, dataset, backfill_id)
    if as_json:
        print_json(view)
        return
    done = view["planned"] - view["pending"]
    state = "completed" if view["completed"] else "running"
    title = (
        f"backfill {backfill_id} ({dataset} {view['start_date']}..{view['end_date']}, mode "
        f"{view['mode']}): {state}, {done} of {view['planned']} settled — "
        f"{view['committed']} committed, {view['failed']} failed, {view['skipped']} skipped"
    )
    table = Table(title=title, title_justify="left")
    for column in ("partition", "status", "run id", "detail"):
        table.add_column(column)
    for item in view["partitions"]:
        table.add_row(
            item["partition"].isoformat(),
            status_text("missing" if item["status"] == "pending" else item["status"]),
            item["run_id"] or "",
            item["detail"] or "",
        )
    console().print(table)
