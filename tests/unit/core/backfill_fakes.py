"""Picklable stand-ins for the pipeline, importable by backfill worker processes."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from worker.core.model import PartitionResult, PartitionTask, Ports
from worker.errors import InputFormatError
from worker.storage.local import LocalStorage

POISONED = date(2024, 1, 3)


def fake_ports(journal: Path) -> Ports:
    """Ports whose workdir is the journal directory the fake process writes into."""
    return Ports(
        storage=LocalStorage(),
        registry=cast(Any, None),
        landing_uri=str(journal / "landing"),
        output_uri=str(journal / "output"),
        workdir=journal,
        code_version="test",
        clock=lambda: datetime(2024, 1, 1, tzinfo=UTC),
    )


def ran_partitions(journal: Path) -> list[tuple[str, int]]:
    """(partition, pid) of every call the fake process received, in no particular order."""
    found = []
    for marker in journal.glob("ran-*"):
        _, day, pid = marker.name.split("_")
        found.append((day, int(pid)))
    return sorted(found)


def fake_process(task: PartitionTask, ports: Ports) -> PartitionResult:
    """Commit every day except POISONED, which fails like an unreadable input does."""
    (ports.workdir / f"ran-_{task.partition}_{os.getpid()}").touch()
    if task.partition == POISONED:
        raise InputFormatError("row 7: not a number", where=f"landing/{task.partition}.csv")
    return committed(task)


def committed(task: PartitionTask) -> PartitionResult:
    return PartitionResult(
        dataset=task.dataset,
        partition=task.partition,
        run_id=f"run-{task.partition}-{task.backfill_id}",
        status="committed",
        partition_uri="unused",
        manifest_uri="unused",
        inputs=(),
        rows_out=task.partition.day,
    )


def mark_child_setup(journal: Path) -> None:
    (journal / f"setup-{os.getpid()}").touch()


def record_polars_threads(journal: Path) -> None:
    """Child setup: note the Polars thread pool this worker process got."""
    import polars

    (journal / f"threads-{os.getpid()}").write_text(str(polars.thread_pool_size()))
