"""The failure policy end to end: poison → dead letter (original kept), transient → nack."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from service_support import DAY, FlakyStorage, Harness, running_harness

from worker.core.model import Ports
from worker.events import encode, strip_error_attributes
from worker.events.models import FileArrived
from worker.runtime import build_ports, utc_now
from worker.service.publishing import file_arrived_event
from worker.settings import Settings


def own_event_json(uri: str, **changes: object) -> tuple[bytes, dict[str, str]]:
    event = file_arrived_event(uri, generation=1, size=10, event_time=utc_now())
    body, attributes = encode(event, "application/json")
    record = json.loads(body)
    record.update(changes)
    return json.dumps(record).encode(), attributes


def truncated_avro(_: Harness) -> tuple[bytes, dict[str, str]]:
    event = FileArrived(
        event_id="e1",
        uri="gs://landing/trips/2024-01-15.csv",
        bucket="landing",
        object="trips/2024-01-15.csv",
        generation=3,
        event_time=utc_now(),
        source="worker",
    )
    body, attributes = encode(event, "application/avro")
    return body[:12], attributes


def notification(object_id: str | None) -> dict[str, str]:
    attributes = {
        "eventType": "OBJECT_FINALIZE",
        "bucketId": "landing",
        "objectGeneration": "5",
        "payloadFormat": "NONE",
        "eventTime": "2024-01-15T10:00:00Z",
    }
    if object_id is not None:
        attributes["objectId"] = object_id
    return attributes


def renamed_event(harness: Harness, name: str) -> tuple[bytes, dict[str, str]]:
    """Our own event naming ``name`` (which the event builder itself would refuse)."""
    body, attributes = own_event_json(str(harness.landing / "trips/2024-01-15.csv"))
    record = json.loads(body)
    record.update(uri=name, object=name)
    return json.dumps(record).encode(), attributes


def escaping_symlink(harness: Harness) -> tuple[bytes, dict[str, str]]:
    """A day file in the landing root that is a symlink to a file outside it."""
    link = harness.write_trips(day=date(2024, 1, 16))
    outside = harness.landing.parent / "outside.csv"
    link.rename(outside)
    link.symlink_to(outside)
    return own_event_json(str(link))


POISON = {
    "malformed JSON": (
        lambda h: (b'{"event_id": "x", ', {"content-type": "application/json"}),
        "decode",
    ),
    "truncated Avro": (truncated_avro, "decode"),
    "wrong types": (
        lambda h: own_event_json(str(h.landing / "trips/2024-01-15.csv"), generation="many"),
        "schema",
    ),
    "missing attributes": (lambda h: (b"", notification(None)), "schema"),
    "traversal name": (lambda h: (b"", notification("trips/../../etc/passwd")), "forbidden-path"),
    "outside the landing root": (lambda h: own_event_json("/etc/passwd"), "forbidden-path"),
    "over-long object name": (
        lambda h: (b"", notification("trips/" + "x" * 1020 + ".csv")),
        "forbidden-path",
    ),
    "over-long local segment": (
        lambda h: renamed_event(h, str(h.landing / "trips" / ("x" * 300 + ".csv"))),
        "forbidden-path",
    ),
    "symlink out of the landing root": (escaping_symlink, "forbidden-path"),
    "unroutable object": (
        lambda h: own_event_json(str(h.landing / "unknown/2024-01-15.csv")),
        "unroutable",
    ),
}


@pytest.mark.parametrize("case", list(POISON))
async def test_poison_is_dead_lettered_as_it_arrived_and_the_worker_keeps_serving(
    harness: Harness, case: str
) -> None:
    make, reason = POISON[case]
    body, attributes = make(harness)
    topic = harness.settings.topics.file_arrived

    await harness.publish_raw(topic, body, attributes)

    (dead,) = harness.dead_letters[topic]
    assert dead.attributes["x-error-reason"] == reason
    assert dead.body == body
    assert strip_error_attributes(dead.attributes) == attributes
    assert dead.attributes["x-source-subscription"] == harness.settings.subscription_for(topic)
    assert dead.attributes["x-delivery-attempt"] == "1"
    assert harness.fates() == [("dead-letter", reason)]

    path = harness.write_trips()
    await harness.service.publish_file_arrived(str(path))
    assert harness.fates()[-1] == ("ack", "processed")
    assert len(harness.completed) == 1


async def test_too_many_bad_rows_dead_letters_with_the_quarantine_reason(
    harness: Harness,
) -> None:
    path = harness.write_trips(rows=40, bad_row_fraction=0.5)
    await harness.service.publish_file_arrived(str(path))

    (dead,) = harness.dead_letters[harness.settings.topics.file_arrived]
    assert dead.attributes["x-error-reason"] == "quarantine-threshold"
    assert dead.attributes["x-error-stage"] == "load"
    assert harness.completed == []
    assert list(harness.output.rglob("_manifest.json")) == []


def flaky_ports(failures: int) -> tuple[list[FlakyStorage], Callable[[Settings], Ports]]:
    made: list[FlakyStorage] = []

    def build(settings: Settings) -> Ports:
        ports = build_ports(settings)
        made.append(FlakyStorage(ports.storage, failures))
        return dataclasses.replace(ports, storage=made[-1])

    return made, build


async def test_a_transient_storage_failure_is_nacked_then_succeeds_on_redelivery(
    tmp_path: Path,
) -> None:
    made, build = flaky_ports(failures=1)
    async with running_harness(tmp_path, ports=build) as harness:
        path = harness.write_trips()
        await harness.service.publish_file_arrived(str(path))

        assert made[0].failures == 0
        assert harness.fates() == [("nack", "storage-transient"), ("ack", "processed")]
        assert harness.dead_letters[harness.settings.topics.file_arrived] == []
        (completed,) = harness.completion_events()
        assert completed.partition_date == DAY


async def test_a_lasting_outage_ends_in_the_subscription_dead_letter_policy(
    tmp_path: Path,
) -> None:
    _, build = flaky_ports(failures=1000)
    async with running_harness(tmp_path, ports=build) as harness:
        path = harness.write_trips()
        await harness.service.publish_file_arrived(str(path))

        attempts = harness.settings.max_delivery_attempts
        assert harness.fates() == [("nack", "storage-transient")] * attempts
        (dead,) = harness.dead_letters[harness.settings.topics.file_arrived]
        # Forwarded by the subscription's dead-letter policy, not by the worker.
        assert "x-error-reason" not in dead.attributes
        assert dead.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(attempts)
