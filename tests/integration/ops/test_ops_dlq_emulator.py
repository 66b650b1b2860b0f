"""``worker dlq list/replay`` against Google's Pub/Sub emulator, with dead letters
published as the service publishes them: original bytes and attributes plus x-error-*."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient, types
from typer.testing import CliRunner, Result

from worker.cli.app import app
from worker.devenv.emulators import ManagedProcess
from worker.errors import InputFormatError, SchemaError, UnroutableError
from worker.events import FileArrived, dead_letter_attributes, encode

pytestmark = pytest.mark.integration

PROJECT = "local-project"
NOW = datetime(2024, 1, 16, 8, 30, tzinfo=UTC)
EVENT = FileArrived(
    event_id="e-1",
    uri="gs://landing/trips/2024-01-15.csv",
    bucket="landing",
    object="trips/2024-01-15.csv",
    generation=7,
    event_time=NOW,
    source="worker",
    dataset="trips",
)


def originals() -> list[tuple[bytes, dict[str, str]]]:
    json_body, json_attributes = encode(EVENT, "application/json")
    avro_body, avro_attributes = encode(EVENT, "application/avro")
    notification = {
        "bucketId": "landing",
        "objectId": "unknown/x.csv",
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
    }
    return [
        (json_body, {**json_attributes, "traceparent": "00-0af7651916cd43dd-b7ad6b7169203331-01"}),
        (avro_body, avro_attributes),
        (b'{"name": "unknown/x.csv"', notification),
    ]


@dataclass
class DeadLetterTopic:
    source: str
    keep: str
    check: str
    publisher: Any
    subscriber: Any
    sent: list[tuple[bytes, dict[str, str]]]


@pytest.fixture
def dlq(pubsub_emulator: ManagedProcess, unique_name: str) -> Iterator[DeadLetterTopic]:
    publisher, subscriber = PublisherClient(), SubscriberClient()
    source, dead = unique_name, f"{unique_name}-dlq"
    for topic in (source, dead):
        publisher.create_topic(name=publisher.topic_path(PROJECT, topic))
    keep, check = f"{dead}-keep", f"{source}-check"
    subscriber.create_subscription(
        name=subscriber.subscription_path(PROJECT, keep), topic=publisher.topic_path(PROJECT, dead)
    )
    subscriber.create_subscription(
        name=subscriber.subscription_path(PROJECT, check),
        topic=publisher.topic_path(PROJECT, source),
    )
    sent = originals()
    errors = (UnroutableError("no dataset", where="x"), SchemaError("bad", where="y"))
    for index, (body, attributes) in enumerate(sent):
        error = (*errors, InputFormatError("not CSV", where="z"))[index]
        described = dead_letter_attributes(
            attributes,
            error=error,
            stage="route",
            subscription=f"{source}-worker",
            message_id=f"orig-{index}",
            delivery_attempt=index + 1,
            worker_version="0.1.0",
            now=NOW,
        )
        publisher.publish(publisher.topic_path(PROJECT, dead), body, **described).result(30)
    yield DeadLetterTopic(source, keep, check, publisher, subscriber, sent)
    publisher.stop()
    subscriber.close()


def worker(*args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--project", PROJECT, "--wait", "1"])


def listed(keep: str) -> list[dict[str, Any]]:
    result = worker("dlq", "list", "-s", keep, "--json")
    assert result.exit_code == 0, result.output
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def received(dlq: DeadLetterTopic, expected: int, within_s: float = 20.0) -> list[Any]:
    """Messages on the source topic's check subscription (acked as they are read)."""
    path = dlq.subscriber.subscription_path(PROJECT, dlq.check)
    messages: list[Any] = []
    deadline = time.monotonic() + within_s
    while len(messages) < expected and time.monotonic() < deadline:
        response = dlq.subscriber.pull(subscription=path, max_messages=10, timeout=2)
        if response.received_messages:
            dlq.subscriber.acknowledge(
                subscription=path, ack_ids=[m.ack_id for m in response.received_messages]
            )
        messages.extend(m.message for m in response.received_messages)
    return messages


def test_list_shows_dead_letters_and_leaves_them(dlq: DeadLetterTopic) -> None:
    first = listed(dlq.keep)
    assert sorted((r["original_message_id"], r["reason"]) for r in first) == [
        ("orig-0", "unroutable"),
        ("orig-1", "schema"),
        ("orig-2", "input-format"),
    ]
    by_id = {r["original_message_id"]: r for r in first}
    assert by_id["orig-1"]["dataset"] == "trips"
    assert by_id["orig-2"]["object"] == "gs://landing/unknown/x.csv"
    assert by_id["orig-2"]["delivery_attempt"] == 3

    again = listed(dlq.keep)
    assert sorted(r["message_id"] for r in again) == sorted(r["message_id"] for r in first)

    table = worker("dlq", "list", "-s", dlq.keep)
    assert table.exit_code == 0, table.output
    assert "3 dead letters (left in place)" in table.stdout


def test_replay_republishes_exact_originals_and_consumes_the_dead_letters(
    dlq: DeadLetterTopic,
) -> None:
    result = worker("dlq", "replay", "-s", dlq.keep)
    assert result.exit_code == 0, result.output
    assert "replayed 3 of 3" in result.stdout

    messages = received(dlq, expected=3)
    got = sorted((bytes(m.data), sorted(dict(m.attributes).items())) for m in messages)
    assert got == sorted((body, sorted(attributes.items())) for body, attributes in dlq.sent)
    assert not any(key.startswith("x-") for m in messages for key in m.attributes)
    assert listed(dlq.keep) == []


def test_dry_run_changes_nothing(dlq: DeadLetterTopic) -> None:
    result = worker("dlq", "replay", "-s", dlq.keep, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 of 3 would be replayed" in result.stdout

    assert received(dlq, expected=1, within_s=3) == []
    assert len(listed(dlq.keep)) == 3


def test_a_failed_republish_leaves_the_dead_letters_and_exits_2(dlq: DeadLetterTopic) -> None:
    dlq.publisher.delete_topic(topic=dlq.publisher.topic_path(PROJECT, dlq.source))

    result = worker("dlq", "replay", "-s", dlq.keep)

    assert result.exit_code == 2, result.output
    assert "3 of 3 dead letters not replayed" in result.output
    assert dlq.source in result.output
    assert len(listed(dlq.keep)) == 3


def ordered_publisher() -> Any:
    return PublisherClient(publisher_options=types.PublisherOptions(enable_message_ordering=True))


def test_replay_republishes_with_the_original_ordering_key_and_invents_none(
    dlq: DeadLetterTopic,
) -> None:
    # As the service dead-letters: the original's ordering key stays on the message.
    publisher = ordered_publisher()
    body, attributes = dlq.sent[0]
    described = dead_letter_attributes(
        attributes,
        error=SchemaError("bad", where="y"),
        stage="decode",
        subscription=f"{dlq.source}-worker",
        message_id="orig-keyed",
        delivery_attempt=1,
        worker_version="0.1.0",
        now=NOW,
    )
    dead_topic = publisher.topic_path(PROJECT, f"{dlq.source}-dlq")
    publisher.publish(dead_topic, body, ordering_key="trips/2024-01-15", **described).result(30)
    publisher.stop()
    by_id = {record["original_message_id"]: record for record in listed(dlq.keep)}
    assert by_id["orig-keyed"]["ordering_key"] == "trips/2024-01-15"
    assert by_id["orig-0"]["ordering_key"] is None

    result = worker("dlq", "replay", "-s", dlq.keep)
    assert result.exit_code == 0, result.output

    messages = received(dlq, expected=4)
    keys = sorted(m.ordering_key for m in messages)
    assert keys == ["", "", "", "trips/2024-01-15"]


def test_letters_forwarded_by_the_dead_letter_policy_replay_as_they_arrived(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    publisher, subscriber = ordered_publisher(), SubscriberClient()
    source, dead = (
        publisher.topic_path(PROJECT, unique_name),
        publisher.topic_path(PROJECT, f"{unique_name}-dlq"),
    )
    for topic in (source, dead):
        publisher.create_topic(name=topic)
    worker_sub = subscriber.subscription_path(PROJECT, f"{unique_name}-worker")
    keep = f"{unique_name}-dlq-keep"
    subscriber.create_subscription(
        request={
            "name": worker_sub,
            "topic": source,
            "dead_letter_policy": {"dead_letter_topic": dead, "max_delivery_attempts": 5},
        }
    )
    subscriber.create_subscription(name=subscriber.subscription_path(PROJECT, keep), topic=dead)
    publisher.publish(
        source, b'{"late": true}', ordering_key="k-1", **{"content-type": "application/json"}
    ).result(30)
    # Nack it until the subscription's policy forwards it, as a worker that keeps failing
    # would; the emulator forwards when it would deliver a sixth time, hence pulls go on.
    deadline = time.monotonic() + 60
    records: list[dict[str, Any]] = []
    while not records and time.monotonic() < deadline:
        response = subscriber.pull(subscription=worker_sub, max_messages=1, timeout=2)
        for received in response.received_messages:
            subscriber.modify_ack_deadline(
                subscription=worker_sub, ack_ids=[received.ack_id], ack_deadline_seconds=0
            )
        if not response.received_messages:
            records = listed(keep)
    (record,) = records
    assert (record["reason"], record["delivery_attempt"]) == ("max-delivery-attempts", 5)
    # Pub/Sub's dead-letter policy keeps the ordering key on the letter it forwards.
    assert record["ordering_key"] == "k-1"

    result = worker("dlq", "replay", "-s", keep)
    assert result.exit_code == 0, result.output
    response = subscriber.pull(subscription=worker_sub, max_messages=1, timeout=10)
    (received,) = response.received_messages
    assert received.message.data == b'{"late": true}'
    assert dict(received.message.attributes) == {"content-type": "application/json"}
    assert received.message.ordering_key == "k-1"
    publisher.stop()
    subscriber.close()
