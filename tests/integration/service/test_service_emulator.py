"""The service against the Pub/Sub emulator and a notifying fake-gcs-server, in-process."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from service_it_support import (
    NotifyingGcs,
    completions,
    create_subscription,
    publish_raw,
    pull_until,
    upload_trips,
    wait_for,
)

from conftest import serving
from support.faulty_proxy import Fault, FaultyProxy
from support.gcs_notifications import finalized
from worker.core.manifest import read_manifest
from worker.events import FileArrived, encode, strip_error_attributes
from worker.service.handle import WorkerService
from worker.settings import Settings
from worker.storage.gcs import GcsStorage

pytestmark = pytest.mark.integration

DAY = date(2024, 2, 10)


def object_name(uri: str) -> str:
    return uri.split("/", 3)[3]


async def test_an_upload_is_committed_once_however_often_it_is_announced(
    service_settings: Settings,
    gcs: GcsStorage,
    notifying_gcs: NotifyingGcs,
    landing_bucket: str,
    output_bucket: str,
    completed_probe: str,
    unique_name: str,
) -> None:
    settings = service_settings.model_copy(
        update={
            "output_uri": f"gs://{output_bucket}",
            "topics": service_settings.topics.model_copy(
                update={"file_arrived": notifying_gcs.topic}
            ),
        }
    )
    tap = f"{unique_name}-notifications"
    create_subscription(tap, notifying_gcs.topic)
    async with serving(settings) as service:
        uri = upload_trips(gcs, landing_bucket, DAY, rows=30)
        first = await pull_until(completed_probe, 1)
        (notification,) = await pull_until(
            tap, 1, where=lambda m: m.attributes.get("bucketId") == landing_bucket
        )
        manifest = read_manifest(gcs, completions(first)[0].partition_uri)
        for _ in range(2):
            publish_raw(notifying_gcs.topic, notification.data, notification.attributes)
        again = await pull_until(completed_probe, 2)
        # The server announces the worker's own output too: refused, never processed.
        await wait_for(lambda: ("dead-letter", "forbidden-path") in fates_of(service), 30)

    assert notification.attributes["eventType"] == "OBJECT_FINALIZE"
    assert notification.attributes["payloadFormat"] == "JSON_API_V1"
    assert notification.attributes["objectId"] == object_name(uri)
    (event,) = completions(first)
    info = gcs.stat(uri)
    assert info is not None
    assert event.partition_uri.startswith(f"gs://{output_bucket}/")
    assert (event.dataset, event.partition_date, event.rows_out) == ("trips", DAY, 30)
    assert [(ref.uri, ref.generation) for ref in event.inputs] == [(uri, info.generation)]
    assert manifest is not None
    assert manifest.run_id == event.run_id == event.event_id
    assert read_manifest(gcs, event.partition_uri) == manifest
    assert [message.data for message in again] == [first[0].data] * 2
    samples = service.metrics.partition_duration.collect()[0].samples
    counted = {s.labels["status"]: s.value for s in samples if s.name.endswith("_count")}
    assert counted == {"committed": 1.0, "skipped": 2.0}
    assert all(
        fate == ("ack", "processed") or fate == ("dead-letter", "forbidden-path")
        for fate in fates_of(service)
        if fate[0] != "ignored"
    )


def fates_of(service: WorkerService) -> list[tuple[str, str]]:
    return [(record.fate, record.reason) for record in service.fates]


async def test_poison_lands_in_the_dead_letter_topic_and_the_worker_keeps_serving(
    service: WorkerService, gcs: GcsStorage, landing_bucket: str, completed_probe: str
) -> None:
    topic = service.settings.topics.file_arrived
    unroutable = f"gs://{landing_bucket}/unknown/2024-02-10.csv"
    generation = gcs.write_bytes(unroutable, b"a,b\n1,2\n")
    poison = {
        "decode": (b'{"uri": ', {"content-type": "application/json"}),
        "forbidden-path": (b"", finalized(landing_bucket, "trips/../../s.csv", 3)),
        "schema": (b"", {"eventType": "OBJECT_FINALIZE", "bucketId": landing_bucket}),
        "unroutable": (b"", finalized(landing_bucket, "unknown/2024-02-10.csv", generation)),
    }
    sent = {publish_raw(topic, body, attrs): reason for reason, (body, attrs) in poison.items()}
    good = upload_trips(gcs, landing_bucket, DAY, rows=15)
    info = gcs.stat(good)
    assert info is not None
    publish_raw(topic, b"", finalized(landing_bucket, object_name(good), info.generation))

    (event,) = completions(await pull_until(completed_probe, 1))
    keep = service.settings.dead_letter_topic_for(topic) + "-keep"
    dead = await pull_until(keep, len(poison))

    assert event.rows_out == 15
    by_original = {letter.attributes["x-original-message-id"]: letter for letter in dead}
    assert set(by_original) == set(sent)
    for message_id, reason in sent.items():
        letter = by_original[message_id]
        body, attributes = poison[reason]
        assert letter.attributes["x-error-reason"] == reason
        assert letter.data == body
        assert strip_error_attributes(letter.attributes) == attributes
        assert letter.attributes["x-source-subscription"] == f"{topic}-worker"


async def test_cloudevent_and_avro_inputs_are_processed(
    service: WorkerService,
    gcs: GcsStorage,
    landing_bucket: str,
    completed_probe: str,
    unique_name: str,
) -> None:
    other = date(2024, 2, 11)
    first_uri = upload_trips(gcs, landing_bucket, DAY, rows=11)
    second_uri = upload_trips(gcs, landing_bucket, other, rows=12)
    first, second = gcs.stat(first_uri), gcs.stat(second_uri)
    assert first is not None
    assert second is not None
    topic = service.settings.topics.file_arrived
    resource = {
        "bucket": landing_bucket,
        "name": object_name(first_uri),
        "generation": str(first.generation),
    }
    publish_raw(
        topic,
        json.dumps(resource).encode(),
        {
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.storage.object.v1.finalized",
            "ce-source": f"//storage.googleapis.com/projects/_/buckets/{landing_bucket}",
            "ce-subject": f"objects/{object_name(first_uri)}",
            "ce-id": f"{unique_name}-1",
            "ce-time": "2024-02-10T01:00:00Z",
            "content-type": "application/json",
        },
    )
    own = FileArrived(
        event_id=f"{unique_name}-2",
        uri=second_uri,
        bucket=landing_bucket,
        object=object_name(second_uri),
        generation=second.generation,
        event_time=datetime.now(UTC),
        source="worker",
    )
    body, attributes = encode(own, "application/avro")
    publish_raw(topic, body, attributes)

    announced = completions(await pull_until(completed_probe, 2))
    assert sorted((e.partition_date, e.rows_out) for e in announced) == [(DAY, 11), (other, 12)]
    assert set(fates_of(service)) == {("ack", "processed")}


async def test_a_storage_outage_is_nacked_retried_and_then_succeeds(
    service_settings: Settings,
    notifying_gcs: NotifyingGcs,
    gcs: GcsStorage,
    landing_bucket: str,
    completed_probe: str,
) -> None:
    uri = upload_trips(gcs, landing_bucket, DAY, rows=9)
    info = gcs.stat(uri)
    assert info is not None
    with FaultyProxy(upstream=notifying_gcs.server.host) as proxy:
        settings = service_settings.model_copy(update={"storage_emulator_host": proxy.url})
        # More 503s than the adapter's in-process attempts (5): the first delivery fails.
        proxy.inject(Fault.UNAVAILABLE, times=5)
        async with serving(settings) as service:
            topic = service_settings.topics.file_arrived
            publish_raw(topic, b"", finalized(landing_bucket, object_name(uri), info.generation))
            (event,) = completions(await pull_until(completed_probe, 1, within=90))
        assert proxy.faults_served() == 5

    assert event.rows_out == 9
    assert fates_of(service) == [("nack", "storage-transient"), ("ack", "processed")]
