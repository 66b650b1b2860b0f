"""Rich output for the batch commands: tables, the backfill progress bar, JSON for scripts."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from worker.core.backfill import BackfillProgress, BackfillSummary
from worker.core.partitions import PlannedPartition
from worker.core.quality import CheckOutcome

WIDE_OFF_TERMINAL = 200
"""Off a terminal (pipes, CI logs) nothing should be wrapped or elided to 80 columns."""

STATUS_STYLES = {
    "committed": "green",
    "skipped": "cyan",
    "dry-run": "yellow",
    "failed": "bold red",
    "missing": "yellow",
    "run": "green",
    "skip": "dim",
}


def console(*, stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else WIDE_OFF_TERMINAL
    return Console(stderr=stderr, width=width, highlight=False)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return {key: _plain(item) for key, item in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value


def print_json(value: Any) -> None:
    """Machine-readable output: plain ``print`` so nothing is wrapped or styled."""
    print(json.dumps(_plain(value), indent=2, sort_keys=True, default=str))


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def plan_table(plan: Sequence[PlannedPartition], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("partition")
    table.add_column("action")
    table.add_column("why")
    for item in plan:
        action = "run" if item.runs else "skip"
        table.add_row(item.partition.isoformat(), status_text(action), item.reason)
    return table


def summary_table(summary: BackfillSummary, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("partition", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("quarantined", "right"),
        ("run id", "left"),
        ("seconds", "right"),
        ("error", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for outcome in summary.outcomes:
        status = f"{outcome.status} (earlier run)" if outcome.resumed else outcome.status
        table.add_row(
            outcome.partition.isoformat(),
            Text(status, style=STATUS_STYLES.get(outcome.status, "")),
            str(outcome.rows_out),
            str(outcome.rows_quarantined),
            outcome.run_id or "",
            f"{outcome.duration_s:.2f}",
            outcome.error or "",
        )
    return table


def quality_table(report: Sequence[CheckOutcome], title: str = "partition checks") -> Table:
    """The quality report: one row per check, failed ones in red (warnings in yellow)."""
    table = Table(title=title, title_justify="left")
    for name in ("check", "severity", "measured", "bound", "result"):
        table.add_column(name)
    for item in report:
        verdict = "passed" if item.passed else "FAILED"
        style = "green" if item.passed else ("bold red" if item.severity == "error" else "yellow")
        table.add_row(
            item.name, item.severity, item.measured or "-", item.bound, Text(verdict, style=style)
        )
    return table


class RateColumn(ProgressColumn):
    """Finished partitions per second (rich's own speed column speaks in bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- partitions/s" if speed is None else f"{speed:.2f} partitions/s")


@contextlib.contextmanager
def backfill_progress(out: Console, label: str) -> Iterator[Callable[[BackfillProgress], None]]:
    """A progress callback: a live bar on a terminal, silence elsewhere (logs say enough)."""
    if not out.is_terminal:
        yield lambda _: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[failed]} failed"),
    )
    with Progress(*columns, console=out, transient=False) as bar:
        task_id = bar.add_task(label, total=None, failed=0)
        failed = 0

        def on_progress(event: BackfillProgress) -> None:
            nonlocal failed
            if event.outcome is not None and event.outcome.status == "failed":
                failed += 1
            bar.update(task_id, total=event.total, completed=event.done, failed=failed)

        yield on_progress
