"""The backfill progress bar: live on a terminal, silent elsewhere."""

from __future__ import annotations

import io
from datetime import date

from rich.console import Console

from worker.cli.render import backfill_progress
from worker.core.backfill import BackfillProgress, PartitionOutcome

EVENTS = [
    BackfillProgress(0, 3, None),
    BackfillProgress(1, 3, PartitionOutcome(date(2024, 1, 1), "committed", rows_out=5)),
    BackfillProgress(2, 3, PartitionOutcome(date(2024, 1, 2), "failed", error="bad")),
    BackfillProgress(3, 3, PartitionOutcome(date(2024, 1, 3), "committed", rows_out=5)),
]


def test_a_terminal_gets_counts_rate_eta_and_failures() -> None:
    screen = io.StringIO()
    with backfill_progress(Console(file=screen, force_terminal=True, width=140), "trips") as on:
        for event in EVENTS:
            on(event)
    shown = screen.getvalue()
    assert "trips" in shown
    assert "3/3" in shown
    assert "partitions/s" in shown
    assert "ETA" in shown
    assert "1 failed" in shown


def test_off_a_terminal_nothing_is_drawn() -> None:
    screen = io.StringIO()
    with backfill_progress(Console(file=screen, force_terminal=False), "trips") as on:
        for event in EVENTS:
            on(event)
    assert screen.getvalue() == ""
