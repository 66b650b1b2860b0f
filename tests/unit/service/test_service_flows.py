"""Each flow of the service on the test broker: file arrival, duplicates, backfill fan-out."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from service_support import DAY, Harness, running_harness

from worker.core.manifest import read_manifest
from worker.events import PartitionRequested, encode
from worker.events.models import FileArrived
from worker.events.wire import CONTENT_TYPE
from worker.runtime import utc_now
from worker.service.publishing import file_arrived_event, wire_message
from worker.storage.local import LocalStorage


def arrival(path: Path, generation: int | None = None) -> FileArrived:
    info = LocalStorage().stat(str(path))
    assert info is not None
    return file_arrived_event(
        str(path),
        generation=info.generation if generation is None else generation,
        size=info.size,
        event_time=utc_now(),
    )


async def publish_arrival(harness: Harness, event: FileArrived, encoding: str = "json") -> None:
    body, attributes = encode(
        event, "application/json" if encoding == "json" else "application/avro"
    )
    await harness.broker.publish(body, harness.settings.topics.file_arrived, headers=attributes)


async def test_an_arrived_file_becomes_a_committed_partition_and_one_completion(
    harness: Harness,
) -> None:
    path = harness.write_trips(rows=25)
    await publish_arrival(harness, arrival(path))

    assert harness.fates() == [("ack", "processed")]
    (completed,) = harness.completion_events()
    manifest = read_manifest(LocalStorage(), completed.partition_uri)
    assert manifest is not None
    assert completed.event_id == completed.run_id == manifest.run_id
    assert completed.dataset == "trips"
    assert completed.partition_date == DAY
    assert completed.rows_out == manifest.rows_out == 25
    assert [ref.uri for ref in completed.inputs] == [str(path)]
    assert all(LocalStorage().stat(uri) is not None for uri in completed.files)
    assert completed.backfill_id is None
    attributes = harness.completed[0].attributes
    assert attributes[CONTENT_TYPE] == "application/json"
    assert "traceparent" in attributes


async def test_avro_arrivals_and_avro_completions(tmp_path: Path) -> None:
    async with running_harness(tmp_path, event_encoding="avro") as harness:
        path = harness.write_trips()
        await publish_arrival(harness, arrival(path), encoding="avro")

    (message,) = harness.completed
    assert message.attributes[CONTENT_TYPE] == "application/avro"
    assert harness.completion_events()[0].rows_out == 20


async def test_a_duplicate_does_no_work_and_repeats_the_same_completion(harness: Harness) -> None:
    path = harness.write_trips()
    event = arrival(path)
    await publish_arrival(harness, event)
    first_manifest = (harness.output / "trips").rglob("_manifest.json")
    (manifest_path,) = list(first_manifest)
    committed = manifest_path.read_bytes()

    await publish_arrival(harness, event)  # the same delivery again
    await publish_arrival(harness, arrival(path).model_copy(update={"event_id": "other-producer"}))

    assert manifest_path.read_bytes() == committed
    first, *again = harness.completed
    assert len(again) == 2
    assert all(message.body == first.body for message in again)
    events = harness.completion_events()
    assert events[0] == events[1] == events[2]
    statuses = harness.service.metrics.partition_duration.collect()[0].samples
    counted = {s.labels["status"]: s.value for s in statuses if s.name.endswith("_count")}
    assert counted == {"committed": 1.0, "skipped": 2.0}


async def test_a_reupload_of_the_same_bytes_repeats_the_same_completion(harness: Harness) -> None:
    path = harness.write_trips(rows=10)
    await publish_arrival(harness, arrival(path))
    first_generation = arrival(path).generation
    path.unlink()
    harness.write_trips(rows=10)  # the same bytes again, as a new file: a new generation
    os.utime(path, ns=(first_generation + 1, first_generation + 1))
    reuploaded = arrival(path)
    assert reuploaded.generation != first_generation
    await publish_arrival(harness, reuploaded)

    assert harness.fates() == [("ack", "processed"), ("ack", "processed")]
    first, again = harness.completed
    assert again.body == first.body
    events = harness.completion_events()
    assert events[0].event_id == events[1].event_id == events[0].run_id
    assert [ref.generation for ref in events[1].inputs] == [first_generation]


async def test_new_content_recomputes_the_partition(harness: Harness) -> None:
    path = harness.write_trips(rows=10)
    await publish_arrival(harness, arrival(path))
    harness.write_trips(rows=12, seed=1)
    await publish_arrival(harness, arrival(path))

    first, second = harness.completion_events()
    assert first.run_id != second.run_id
    assert (first.rows_out, second.rows_out) == (10, 12)


async def test_a_storage_delete_notification_is_acked_and_ignored(harness: Harness) -> None:
    attributes = {
        "eventType": "OBJECT_DELETE",
        "bucketId": "landing",
        "objectId": "trips/2024-01-15.csv",
        "objectGeneration": "7",
        "payloadFormat": "NONE",
        "eventTime": "2024-01-15T10:00:00Z",
    }
    await harness.broker.publish(b"", harness.settings.topics.file_arrived, headers=attributes)

    ((fate, reason),) = harness.fates()
    assert fate == "ignored"
    assert "OBJECT_DELETE" in reason
    assert harness.completed == []
    assert harness.dead_letters[harness.settings.topics.file_arrived] == []


async def test_backfill_fans_out_one_request_per_partition_and_tags_every_completion(
    harness: Harness,
) -> None:
    days = [DAY + timedelta(days=offset) for offset in range(3)]
    for day in days:
        harness.write_trips(day)
    await harness.service.publish_backfill("trips", days[0], days[-1], requested_by="test")
    requested = harness.requested_events()

    backfill_ids = {request.backfill_id for request in requested}
    assert len(backfill_ids) == 1
    (backfill_id,) = backfill_ids
    assert sorted(request.partition_date for request in requested) == days
    events = harness.completion_events()
    assert sorted(event.partition_date for event in events) == days
    assert {event.backfill_id for event in events} == {backfill_id}
    for event in events:
        manifest = read_manifest(LocalStorage(), event.partition_uri)
        assert manifest is not None
        assert manifest.backfill_id == backfill_id


async def test_backfill_in_mode_missing_skips_committed_partitions(harness: Harness) -> None:
    first, second = DAY, DAY + timedelta(days=1)
    await publish_arrival(harness, arrival(harness.write_trips(first)))
    harness.write_trips(second)

    await harness.service.publish_backfill("trips", first, second, mode="missing")

    events = harness.completion_events()
    assert [event.partition_date for event in events] == [first, second]
    assert events[0].backfill_id is None
    assert events[1].backfill_id is not None


async def test_a_partition_request_for_an_unknown_dataset_is_dead_lettered(
    harness: Harness,
) -> None:
    request = PartitionRequested(dataset="nope", partition_date=DAY, requested_at=utc_now())
    body, attributes = wire_message(request, "json")
    topic = harness.settings.topics.partition_requested
    await harness.broker.publish(body, topic, headers=attributes)

    (dead,) = harness.dead_letters[topic]
    assert dead.attributes["x-error-reason"] == "unknown-dataset"
    assert json.loads(dead.body)["dataset"] == "nope"
