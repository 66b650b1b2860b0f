"""The backfill executor: isolation of failures, checkpoint resume, worker processes."""

from __future__ import annotations

import functools
import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from backfill_fakes import (
    POISONED,
    committed,
    fake_ports,
    fake_process,
    mark_child_setup,
    ran_partitions,
    record_polars_threads,
)

from worker.core.backfill import (
    BackfillProgress,
    Checkpoint,
    checkpoint_path,
    run_backfill,
)
from worker.core.model import PartitionResult, PartitionTask, Ports
from worker.core.partitions import PlannedPartition
from worker.errors import ConfigurationError

START = date(2024, 1, 1)


def planned(days: int, *, skip: frozenset[int] = frozenset()) -> list[PlannedPartition]:
    return [
        PlannedPartition(
            "trips",
            START + timedelta(days=offset),
            offset not in skip,
            "already committed" if offset in skip else "no committed manifest",
        )
        for offset in range(days)
    ]


def test_failures_are_isolated_and_summarised_in_date_order(tmp_path: Path) -> None:
    events: list[BackfillProgress] = []
    summary = run_backfill(
        planned(5, skip=frozenset({4})),
        ports_factory=functools.partial(fake_ports, tmp_path),
        process=fake_process,
        on_progress=events.append,
    )
    assert [outcome.partition.day for outcome in summary.outcomes] == [1, 2, 3, 4]
    assert [outcome.status for outcome in summary.outcomes] == [
        "committed",
        "committed",
        "failed",
        "committed",
    ]
    (failed,) = summary.failed
    assert failed.partition == POISONED
    assert failed.error_type == "InputFormatError"
    assert failed.error == f"row 7: not a number (landing/{POISONED}.csv)"
    assert summary.rows_out == 1 + 2 + 4
    assert [item.partition.day for item in summary.not_run] == [5]
    assert [(event.done, event.total) for event in events] == [(n, 4) for n in range(5)]
    assert events[0].outcome is None
    assert summary.outcomes[0].run_id == f"run-2024-01-01-{summary.backfill_id}"


def test_unexpected_exceptions_become_failed_outcomes(tmp_path: Path) -> None:
    def explode(task: PartitionTask, ports: Ports) -> PartitionResult:
        raise ZeroDivisionError("division by zero")

    summary = run_backfill(
        planned(2), ports_factory=functools.partial(fake_ports, tmp_path), process=explode
    )
    assert [outcome.error for outcome in summary.failed] == [
        "unexpected ZeroDivisionError: division by zero"
    ] * 2


def interrupt_after(calls: int) -> object:
    seen: list[date] = []

    def process(task: PartitionTask, ports: Ports) -> PartitionResult:
        if len(seen) == calls:
            raise KeyboardInterrupt
        seen.append(task.partition)
        return fake_process(task, ports)

    return process


def test_an_interrupted_backfill_resumes_where_it_stopped(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    book_path = tmp_path / "state" / "backfill-x.json"
    plan = planned(6, skip=frozenset({2}))  # day 3 (POISONED) is planned as skipped here
    factory = functools.partial(fake_ports, journal)

    with pytest.raises(KeyboardInterrupt):
        run_backfill(
            plan,
            ports_factory=factory,
            process=interrupt_after(2),  # type: ignore[arg-type]
            checkpoint=Checkpoint.open(book_path),
        )
    first_run = [day for day, _ in ran_partitions(journal)]
    assert first_run == ["2024-01-01", "2024-01-02"]
    saved = json.loads(book_path.read_text())
    assert [item["partition"] for item in saved["finished"]] == first_run

    for marker in journal.glob("ran-*"):
        marker.unlink()
    resumed_book = Checkpoint.open(book_path)
    assert resumed_book.backfill_id == saved["backfill_id"]
    summary = run_backfill(
        plan, ports_factory=factory, process=fake_process, checkpoint=resumed_book
    )
    assert [day for day, _ in ran_partitions(journal)] == ["2024-01-04", "2024-01-05", "2024-01-06"]
    assert [(o.partition.day, o.resumed) for o in summary.outcomes] == [
        (1, True),
        (2, True),
        (4, False),
        (5, False),
        (6, False),
    ]
    assert summary.backfill_id == saved["backfill_id"]
    assert not book_path.exists(), "a fully successful backfill leaves no checkpoint behind"


def test_failed_partitions_are_retried_on_resume(tmp_path: Path) -> None:
    book_path = tmp_path / "backfill.json"
    factory = functools.partial(fake_ports, tmp_path)
    first = run_backfill(
        planned(4),
        ports_factory=factory,
        process=fake_process,
        checkpoint=Checkpoint.open(book_path),
    )
    assert [o.partition for o in first.failed] == [POISONED]
    assert book_path.exists(), "a backfill with failures keeps its checkpoint"

    retried: list[date] = []

    def fixed(task: PartitionTask, ports: Ports) -> PartitionResult:
        retried.append(task.partition)
        return committed(task)

    second = run_backfill(
        planned(4), ports_factory=factory, process=fixed, checkpoint=Checkpoint.open(book_path)
    )
    assert retried == [POISONED]
    assert not second.failed


def test_worker_processes_run_each_partition_once_and_isolate_failures(tmp_path: Path) -> None:
    summary = run_backfill(
        planned(6),
        ports_factory=functools.partial(fake_ports, tmp_path),
        process=fake_process,
        parallel=2,
        child_setup=functools.partial(mark_child_setup, tmp_path),
    )
    calls = ran_partitions(tmp_path)
    assert [day for day, _ in calls] == [f"2024-01-0{day}" for day in range(1, 7)]
    child_pids = {pid for _, pid in calls}
    assert os.getpid() not in child_pids
    assert {int(path.name.split("-")[1]) for path in tmp_path.glob("setup-*")} >= child_pids
    assert [o.partition for o in summary.failed] == [POISONED]
    assert [o.partition.day for o in summary.outcomes] == [1, 2, 3, 4, 5, 6]


def test_checkpoint_identity_depends_on_every_input(tmp_path: Path) -> None:
    base = {
        "dataset": "trips",
        "start": START,
        "end": START + timedelta(days=9),
        "mode": "missing",
        "output_uri": "/out",
    }
    reference = checkpoint_path(tmp_path, **base)  # type: ignore[arg-type]
    assert reference == checkpoint_path(tmp_path, **base)  # type: ignore[arg-type]
    assert reference.parent == tmp_path
    assert reference.name.startswith("backfill-")
    variants = [
        {**base, "mode": "all"},
        {**base, "end": START},
        {**base, "dataset": "other"},
        {**base, "output_uri": "/elsewhere"},
        {**base, "shard": (1, 3)},
    ]
    assert len({checkpoint_path(tmp_path, **v) for v in variants} | {reference}) == 6  # type: ignore[arg-type]


def test_unreadable_checkpoint_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "backfill.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigurationError, match="checkpoint is unreadable"):
        Checkpoint.open(broken)
    broken.write_text('{"finished": [{"day": 1}]}')
    with pytest.raises(ConfigurationError, match="unexpected shape"):
        Checkpoint.open(broken)


def test_parallel_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--parallel must be at least 1, got 0"):
        run_backfill(planned(1), ports_factory=functools.partial(fake_ports, tmp_path), parallel=0)


def test_worker_processes_share_the_cores_between_their_polars_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    run_backfill(
        planned(4),
        ports_factory=functools.partial(fake_ports, tmp_path),
        process=fake_process,
        parallel=2,
        child_setup=functools.partial(record_polars_threads, tmp_path),
    )
    sizes = {path.read_text() for path in tmp_path.glob("threads-*")}
    assert sizes == {str(max(1, (os.cpu_count() or 1) // 2))}
    assert "POLARS_MAX_THREADS" not in os.environ
