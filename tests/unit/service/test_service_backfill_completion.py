"""A backfill on the test broker: its record in storage and its one ``backfill-completed``.

FastStream's test client delivers every message in-process, redeliveries included
(https://faststream.ag2.ai/latest/getting-started/subscription/test/), so a redelivered
``backfill-requested`` is simply published twice.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from service_support import DAY, Harness

from worker.core.backfill_announce import claim_uri
from worker.core.backfill_record import read_progress, record_uri
from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.events import BackfillRequested
from worker.runtime import utc_now
from worker.service.publishing import wire_message
from worker.storage.local import LocalStorage


def write_duplicated_trips(harness: Harness, day: date) -> None:
    """A day whose first data row appears twice: trips' unique trip_id fails it."""
    lines = generate_trips_csv(day, 10).split(b"\n")
    path = harness.landing / sample_name(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join([*lines[:2], lines[1], *lines[2:]]))


async def test_a_finished_backfill_is_announced_once_with_counts_and_failed_dates(
    harness: Harness,
) -> None:
    days = [DAY + timedelta(days=offset) for offset in range(3)]
    harness.write_trips(days[0])
    harness.write_trips(days[1])
    write_duplicated_trips(harness, days[2])

    await harness.service.publish_backfill("trips", days[0], days[-1], requested_by="test")

    (completed,) = harness.backfill_completed_events()
    (backfill_id,) = {event.backfill_id for event in harness.requested_events()}
    assert completed.event_id == completed.backfill_id == backfill_id
    assert (completed.dataset, completed.start_date, completed.end_date) == (
        "trips",
        days[0],
        days[-1],
    )
    assert completed.mode == "missing"
    assert (completed.planned, completed.committed, completed.failed, completed.skipped) == (
        3,
        2,
        1,
        0,
    )
    (failure,) = completed.failures
    assert failure.partition_date == days[2]
    assert failure.reason == "quality"
    assert "unique:trip_id" in failure.message
    assert completed.started_at <= completed.finished_at

    storage, output = LocalStorage(), str(harness.output)
    progress = read_progress(storage, output, "trips", backfill_id)
    assert progress is not None
    assert [entry.partition for entry in progress.record.partitions] == days
    assert progress.record.planned_by == "service"
    assert progress.done
    claim = storage.read_bytes(claim_uri(output, "trips", backfill_id))
    assert claim is not None
    assert json.loads(claim[0])["published"] is True


async def test_a_redelivered_request_keeps_the_first_plan_and_one_announcement(
    harness: Harness,
) -> None:
    days = [DAY, DAY + timedelta(days=1)]
    for day in days:
        harness.write_trips(day)
    request = BackfillRequested(
        backfill_id="bf-redelivered",
        dataset="trips",
        start_date=days[0],
        end_date=days[-1],
        mode="missing",
        requested_by="test",
        requested_at=utc_now(),
    )
    body, attributes = wire_message(request, "json")
    topic = harness.settings.topics.backfill_requested
    await harness.publish_raw(topic, body, attributes)
    record_path = record_uri(str(harness.output), "trips", "bf-redelivered")
    first_record = LocalStorage().read_bytes(record_path)

    await harness.publish_raw(topic, body, attributes)

    assert LocalStorage().read_bytes(record_path) == first_record
    (completed,) = harness.backfill_completed_events()
    assert (completed.committed, completed.skipped) == (2, 0)


async def test_a_backfill_with_nothing_to_run_is_announced_at_planning(harness: Harness) -> None:
    harness.write_trips(DAY)
    await harness.service.publish_backfill("trips", DAY, DAY, requested_by="test")
    await harness.service.publish_backfill("trips", DAY, DAY, mode="missing", requested_by="test")

    first, second = harness.backfill_completed_events()
    assert (first.committed, first.skipped) == (1, 0)
    assert (second.planned, second.committed, second.skipped, second.failed) == (1, 0, 1, 0)


async def test_quality_reaches_the_completion_event_and_failed_checks_the_metrics(
    harness: Harness,
) -> None:
    """Prometheus counters are exposed as ``<name>_total`` in the text format
    (https://prometheus.github.io/client_python/instrumenting/counter/)."""
    harness.write_trips(DAY, rows=3)  # last pickup hours before midnight: freshness warns
    write_duplicated_trips(harness, DAY + timedelta(days=1))
    await harness.service.publish_backfill(
        "trips", DAY, DAY + timedelta(days=1), requested_by="test"
    )

    (completed,) = harness.completion_events()
    report = {check.name: check for check in completed.quality}
    assert set(report) == {"unique:trip_id", "row_count", "freshness:pickup_at"}
    assert report["unique:trip_id"].passed
    assert not report["freshness:pickup_at"].passed
    assert report["freshness:pickup_at"].severity == "warn"
    exposition = harness.service.metrics.exposition().decode()
    assert (
        'worker_quality_check_failures_total{check="freshness:pickup_at",dataset="trips"} 1.0'
        in exposition
    )
    assert (
        'worker_quality_check_failures_total{check="unique:trip_id",dataset="trips"} 1.0'
        in exposition
    )
    (dead,) = harness.dead_letters[harness.settings.topics.partition_requested]
    assert dead.attributes["x-error-reason"] == "quality"
