"""Following a backfill from the CLI: ``publish backfill --wait``, ``status --backfill-id``
and the record ``worker backfill`` keeps (memory broker, in-process CLI).

Exit codes are the ones DESIGN.md gives the CLI: 0 success, 1 error, 2 partial failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner, Result

from worker.cli.app import app
from worker.datasets.trips_sample import generate_trips_csv, sample_name

DAYS = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]


@pytest.fixture(autouse=True)
def memory_broker_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("WORKER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKER_BROKER", "memory")
    monkeypatch.setenv("WORKER_LOG_FORMAT", "json")
    yield
    structlog.reset_defaults()


def worker(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def land(day: date, *, duplicate_a_trip: bool = False) -> None:
    path = Path("data/landing") / sample_name(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = generate_trips_csv(day, 12).split(b"\n")
    if duplicate_a_trip:
        lines.insert(2, lines[1])
    path.write_bytes(b"\n".join(lines))


def last_json(output: str) -> dict[str, object]:
    start = output.index("{\n")
    parsed: dict[str, object] = json.loads(output[start:])
    return parsed


def range_args() -> list[str]:
    return [
        "--dataset",
        "trips",
        "--start-date",
        DAYS[0].isoformat(),
        "--end-date",
        DAYS[-1].isoformat(),
    ]


def test_wait_exits_0_when_every_partition_committed() -> None:
    for day in DAYS:
        land(day)
    result = worker("publish", "backfill", *range_args(), "--wait", "--json")
    assert result.exit_code == 0, result.output
    completion = last_json(result.stdout)
    assert (completion["committed"], completion["failed"], completion["planned"]) == (3, 0, 3)


def test_wait_exits_2_naming_the_failed_day_and_status_shows_it_from_storage() -> None:
    land(DAYS[0])
    land(DAYS[1], duplicate_a_trip=True)
    land(DAYS[2])
    result = worker("publish", "backfill", *range_args(), "--wait")
    assert result.exit_code == 2, result.output
    assert "2 committed, 1 failed, 0 skipped" in result.stdout
    assert "2024-03-02  quality: 1 partition check(s) failed: unique:trip_id" in result.stdout
    backfill_id = result.stdout.split("backfill id ", 1)[1].split()[0]

    status = worker("status", "--dataset", "trips", "--backfill-id", backfill_id, "--json")
    assert status.exit_code == 0, status.output
    view = json.loads(status.stdout)
    assert (view["committed"], view["failed"], view["pending"]) == (2, 1, 0)
    assert view["announced"] is True
    assert [p["status"] for p in view["partitions"]] == ["committed", "failed", "committed"]


def test_the_batch_backfill_keeps_the_same_record() -> None:
    land(DAYS[0])
    land(DAYS[1], duplicate_a_trip=True)
    result = worker(
        "backfill", "--dataset", "trips", "--start-date", "2024-03-01", "--end-date", "2024-03-02"
    )
    assert result.exit_code == 2, result.output
    (record,) = Path("data/output/trips/_backfills").glob("*.json")
    status = worker("status", "--dataset", "trips", "--backfill-id", record.stem, "--json")
    view = json.loads(status.stdout)
    assert view["planned_by"] == "cli"
    assert (view["committed"], view["failed"], view["completed"]) == (1, 1, True)
    assert view["partitions"][1]["reason"] == "quality"


def test_status_of_an_unknown_backfill_is_a_configuration_error() -> None:
    result = worker("status", "--dataset", "trips", "--backfill-id", "bf-nope")
    assert result.exit_code == 3
    assert "no backfill 'bf-nope'" in result.output


def test_cloud_run_tasks_of_one_execution_share_one_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cloud Run Jobs sets CLOUD_RUN_EXECUTION, CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT
    in every task (https://cloud.google.com/run/docs/container-contract#jobs-env-vars)."""
    for day in DAYS:
        land(day)
    monkeypatch.setenv("CLOUD_RUN_EXECUTION", "worker-backfill-x7k2p")
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "2")
    views = []
    for index in ("0", "1"):
        monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", index)
        result = worker("backfill", *range_args())
        assert result.exit_code == 0, result.output
        status = worker(
            "status", "--dataset", "trips", "--backfill-id", "bf-worker-backfill-x7k2p", "--json"
        )
        views.append(json.loads(status.stdout))
    first, last = views
    assert (first["planned"], first["completed"]) == (3, False)
    assert first["pending"] == 1  # task 1's day
    assert (last["committed"], last["pending"], last["completed"]) == (3, 0, True)
