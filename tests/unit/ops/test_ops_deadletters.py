"""Reading a dead letter: error attributes, the original message, its subject and source."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from worker.errors import ConfigurationError, UnroutableError
from worker.events import (
    BackfillRequested,
    FileArrived,
    PartitionRequested,
    dead_letter_attributes,
    encode,
)
from worker.ops.deadletters import (
    DeadLetter,
    listing_record,
    source_topic,
    subject_of,
    topic_from_keep_subscription,
)

NOW = datetime(2024, 1, 16, 8, 30, tzinfo=UTC)
FILE = FileArrived(
    event_id="e-1",
    uri="gs://landing/trips/2024-01-15.csv",
    bucket="landing",
    object="trips/2024-01-15.csv",
    generation=7,
    event_time=NOW,
    source="worker",
    dataset="trips",
)


def letter(data: bytes, original: dict[str, str], **error: str | None) -> DeadLetter:
    attributes = dead_letter_attributes(
        original,
        error=UnroutableError("no dataset matches the object", where="gs://landing/x.csv"),
        stage="route",
        subscription="file-arrived-worker",
        message_id="orig-42",
        delivery_attempt=3,
        worker_version="9.9.9",
        now=NOW,
        topic=error.get("topic"),
    )
    return DeadLetter(ack_id="a", message_id="dlq-1", data=data, attributes=attributes)


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        ("file-arrived-dlq-keep", "file-arrived"),
        ("projects/p/subscriptions/backfill-requested-dlq-keep", "backfill-requested"),
        ("t1-dlq-keep", "t1"),
        ("-dlq-keep", None),
        ("file-arrived-keep", None),
        ("file-arrived-dlq", None),
    ],
)
def test_the_source_topic_is_derived_from_the_keep_subscription_name(
    subscription: str, expected: str | None
) -> None:
    assert topic_from_keep_subscription(subscription) == expected


def test_source_topic_prefers_the_override_then_the_attribute_then_the_name() -> None:
    body, original = encode(FILE, "application/json")
    declared = letter(body, original, topic="landing-events")
    undeclared = letter(body, original)

    assert source_topic(declared, "file-arrived-dlq-keep", "other") == "other"
    assert source_topic(declared, "file-arrived-dlq-keep") == "landing-events"
    assert source_topic(undeclared, "file-arrived-dlq-keep") == "file-arrived"


def test_a_dead_letter_with_no_known_source_asks_for_to_topic() -> None:
    body, original = encode(FILE, "application/json")
    with pytest.raises(ConfigurationError, match="--to-topic") as caught:
        source_topic(letter(body, original), "my-own-subscription")
    assert "dlq-1" in str(caught.value)


def test_original_attributes_are_exactly_what_arrived() -> None:
    body, original = encode(FILE, "application/avro")
    original["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    dead = letter(body, original, topic="file-arrived")

    assert dead.original_attributes == original
    assert dead.data == body
    assert dead.reason == "unroutable"
    assert dead.error_type == "UnroutableError"
    assert dead.stage == "route"
    assert dead.original_message_id == "orig-42"
    assert dead.delivery_attempt == "3"


@pytest.mark.parametrize("content_type", ["application/json", "application/avro"])
def test_the_subject_is_decoded_from_our_own_events(content_type: str) -> None:
    body, attributes = encode(FILE, content_type)  # type: ignore[arg-type]
    subject = subject_of(body, attributes)
    assert (subject.dataset, subject.object, subject.event_type) == (
        "trips",
        "gs://landing/trips/2024-01-15.csv",
        "file-arrived",
    )


def test_backfill_and_partition_requests_name_their_dates() -> None:
    backfill = BackfillRequested(
        backfill_id="b-1",
        dataset="trips",
        start_date=date(2024, 1, 1),
        end_date=date(2024, 1, 31),
        mode="missing",
        requested_by="ops",
        requested_at=NOW,
    )
    partition = PartitionRequested(
        dataset="trips", partition_date=date(2024, 1, 15), requested_at=NOW
    )
    # Without an event-type attribute (e.g. `gcloud pubsub topics publish`), each of our
    # decoders is tried in turn.
    assert subject_of(backfill.model_dump_json().encode(), {}).partition == (
        "2024-01-01..2024-01-31"
    )
    body, attributes = encode(partition, "application/avro")
    assert subject_of(body, attributes).describe() == "dataset trips, partition 2024-01-15"


def test_undecodable_bodies_fall_back_to_storage_notification_attributes() -> None:
    subject = subject_of(
        b"{not json", {"bucketId": "landing", "objectId": "trips/x.csv", "eventType": "X"}
    )
    assert subject.object == "gs://landing/trips/x.csv"
    assert subject.dataset is None


def test_undecodable_cloudevents_fall_back_to_their_subject_attribute() -> None:
    subject = subject_of(
        b"\xff",
        {
            "ce-type": "google.cloud.storage.object.v1.finalized",
            "ce-source": "//storage.googleapis.com/projects/_/buckets/landing",
            "ce-subject": "objects/trips/y.csv",
            "content-type": "application/json",
        },
    )
    assert subject.object == "gs://landing/trips/y.csv"


def test_listing_record_shows_what_an_operator_needs() -> None:
    body, original = encode(FILE, "application/json")
    record = listing_record(letter(body, original, topic="file-arrived"))
    assert record == {
        "message_id": "dlq-1",
        "original_message_id": "orig-42",
        "dead_lettered_at": "2024-01-16T08:30:00.000+00:00",
        "reason": "unroutable",
        "error_type": "UnroutableError",
        "error_message": "no dataset matches the object (gs://landing/x.csv)",
        "stage": "route",
        "source_subscription": "file-arrived-worker",
        "source_topic": "file-arrived",
        "delivery_attempt": 3,
        "worker_version": "9.9.9",
        "event_type": "file-arrived",
        "dataset": "trips",
        "object": "gs://landing/trips/2024-01-15.csv",
        "partition": None,
        "ordering_key": None,
        "body_bytes": len(body),
        "attributes": dict(sorted(original.items())),
    }


def test_server_forwarded_dead_letters_are_dated_by_their_publish_time() -> None:
    forwarded = DeadLetter(
        ack_id="a",
        message_id="m",
        data=b"{}",
        attributes={},
        publish_time=datetime(2024, 2, 1, 10, 0, 0, 123456, tzinfo=UTC),
    )
    record = listing_record(forwarded)
    assert record["dead_lettered_at"] == "2024-02-01T10:00:00.123+00:00"
    assert record["reason"] is None


def test_letters_forwarded_by_pubsub_replay_without_its_attributes() -> None:
    # What the emulator (and Pub/Sub) attach when a subscription's dead-letter policy
    # forwards a message after max delivery attempts.
    forwarded = DeadLetter(
        ack_id="a",
        message_id="m",
        data=b"hello",
        attributes={
            "content-type": "application/json",
            "CloudPubSubDeadLetterSourceSubscriptionProject": "local-project",
            "CloudPubSubDeadLetterSourceSubscription": "file-arrived-worker",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
            "CloudPubSubDeadLetterSourceTopicPublishTime": "2024-01-15T12:00:00.000Z",
        },
    )
    assert forwarded.original_attributes == {"content-type": "application/json"}
    record = listing_record(forwarded)
    assert (record["reason"], record["source_subscription"], record["delivery_attempt"]) == (
        "max-delivery-attempts",
        "file-arrived-worker",
        5,
    )
