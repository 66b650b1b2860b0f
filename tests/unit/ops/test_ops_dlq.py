"""DeadLetterQueue over stand-in clients: peeking leaves letters, replay acks only after publish."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from google.api_core.exceptions import NotFound, PermissionDenied, ServiceUnavailable
from ops_fakes import FakePublisher, FakeSubscriber, StoredMessage

from faststream_gcp_pubsub.errors import BrokerError, TransientBrokerError
from worker.errors import ConfigurationError
from worker.errors import DecodeError as WorkerDecodeError
from worker.events import dead_letter_attributes
from worker.ops.deadletters import listing_record
from worker.ops.dlq import DeadLetterQueue
from worker.ops.pubsub_clients import translate_error

NOW = datetime(2024, 1, 16, tzinfo=UTC)
KEEP = "file-arrived-dlq-keep"


def dead(message_id: str, data: bytes, original: dict[str, str]) -> StoredMessage:
    attributes = dead_letter_attributes(
        original,
        error=WorkerDecodeError("not JSON", where="file-arrived message"),
        stage="decode",
        subscription="file-arrived-worker",
        message_id=f"orig-{message_id}",
        delivery_attempt=1,
        worker_version="0.1.0",
        now=NOW,
    )
    return StoredMessage(message_id, data, attributes)


def queue_of(
    messages: list[StoredMessage], missing_topics: frozenset[str] = frozenset()
) -> tuple[DeadLetterQueue, FakeSubscriber, FakePublisher]:
    subscriber = FakeSubscriber(messages)
    publisher = FakePublisher(subscriber.events, missing_topics)
    return DeadLetterQueue("p", clients=(subscriber, publisher)), subscriber, publisher


ORIGINALS = [
    ("1", b"\x00\x01avro", {"content-type": "application/avro", "event-type": "file-arrived"}),
    ("2", b'{"broken', {"content-type": "application/json", "traceparent": "00-ab-cd-01"}),
    ("3", b"", {"bucketId": "landing", "objectId": "a/b.csv", "eventType": "OBJECT_FINALIZE"}),
]


def test_peek_returns_letters_and_gives_every_one_back() -> None:
    queue, subscriber, _ = queue_of([dead(i, d, a) for i, d, a in ORIGINALS])
    letters = queue.peek(KEEP, limit=10)

    assert [letter.message_id for letter in letters] == ["1", "2", "3"]
    assert subscriber.acked == []
    assert sorted(subscriber.released) == ["1", "2", "3"]
    assert sorted(subscriber.available) == ["1", "2", "3"]
    assert [letter.message_id for letter in queue.peek(KEEP, limit=10)] == ["1", "2", "3"]


def test_peek_stops_at_the_limit() -> None:
    queue, subscriber, _ = queue_of([dead(i, d, a) for i, d, a in ORIGINALS])
    assert len(queue.peek(KEEP, limit=2)) == 2
    assert len(subscriber.available) == 3


def test_replay_republishes_exact_originals_to_the_source_topic_then_acks() -> None:
    queue, subscriber, publisher = queue_of([dead(i, d, a) for i, d, a in ORIGINALS])
    report = queue.replay(KEEP, limit=10)

    assert publisher.published == [
        ("projects/p/topics/file-arrived", data, attributes) for _, data, attributes in ORIGINALS
    ]
    assert [o.status for o in report.outcomes] == ["replayed"] * 3
    assert sorted(subscriber.acked) == ["1", "2", "3"]
    assert subscriber.available == {}
    # each ack comes after its own publish resolved
    for index, (message_id, _, _) in enumerate(ORIGINALS):
        resolved = subscriber.events.index(("resolved", f"projects/p/topics/file-arrived#{index}"))
        assert resolved < subscriber.events.index(("ack", message_id))


def test_replay_honors_x_source_topic_and_to_topic() -> None:
    declared = dead("1", b"x", {"a": "1"})
    declared.attributes["x-source-topic"] = "landing-events"
    queue, _, publisher = queue_of([declared])
    queue.replay(KEEP, limit=10)
    assert publisher.published[0][0] == "projects/p/topics/landing-events"

    queue, _, publisher = queue_of([dead("1", b"x", {"a": "1"})])
    queue.replay(KEEP, limit=10, to_topic="projects/q/topics/elsewhere")
    assert publisher.published[0][0] == "projects/q/topics/elsewhere"


def test_a_failed_publish_leaves_its_letter_and_names_it() -> None:
    good = dead("1", b"ok", {"k": "v"})
    bad = dead("2", b"bad", {"k": "v"})
    bad.attributes["x-source-topic"] = "gone-topic"
    queue, subscriber, _ = queue_of([good, bad], missing_topics=frozenset({"gone-topic"}))

    report = queue.replay(KEEP, limit=10)

    assert subscriber.acked == ["1"]
    assert "2" in subscriber.available
    assert [(o.letter.message_id, o.status) for o in report.problems] == [("2", "failed")]
    assert "gone-topic" in (report.problems[0].error or "")


def test_replay_keeps_each_ordering_key_and_invents_none() -> None:
    keyed = [replace(dead(i, d, a), ordering_key=f"key-{i}") for i, d, a in ORIGINALS[:2]]
    unkeyed = dead(*ORIGINALS[2])
    queue, subscriber, publisher = queue_of([*keyed, unkeyed])

    report = queue.replay(KEEP, limit=10)

    assert publisher.ordering_keys == ["key-1", "key-2", ""]
    assert [attributes for _, _, attributes in publisher.published] == [
        attributes for _, _, attributes in ORIGINALS
    ]
    assert [o.status for o in report.outcomes] == ["replayed"] * 3
    assert sorted(subscriber.acked) == ["1", "2", "3"]


def test_listing_shows_the_ordering_key() -> None:
    queue, _, _ = queue_of([replace(dead(*ORIGINALS[0]), ordering_key="trips/2024-01-15")])
    (letter,) = queue.peek(KEEP, limit=10)
    assert letter.ordering_key == "trips/2024-01-15"
    assert listing_record(letter)["ordering_key"] == "trips/2024-01-15"


def test_after_a_failed_keyed_publish_later_letters_of_that_key_stay_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One letter per pull, so the failure is known before the next letter of its key.
    monkeypatch.setattr("worker.ops.dlq.MAX_PULL_BATCH", 1)
    first, second, other = (
        replace(dead(i, b"x", {"n": i}), ordering_key=key)
        for i, key in (("1", "k"), ("2", "k"), ("3", "other"))
    )
    for letter in (first, second):
        letter.attributes["x-source-topic"] = "gone-topic"
    queue, subscriber, publisher = queue_of(
        [first, second, other], missing_topics=frozenset({"gone-topic"})
    )

    report = queue.replay(KEEP, limit=10)

    gone = "projects/p/topics/gone-topic"
    assert [(o.letter.message_id, o.status) for o in report.outcomes] == [
        ("1", "failed"),
        ("2", "failed"),
        ("3", "replayed"),
    ]
    assert "ordering key 'k'" in (report.outcomes[1].error or "")
    assert [topic for topic, _, _ in publisher.published] == [
        gone,
        "projects/p/topics/file-arrived",
    ]
    assert subscriber.acked == ["3"]
    assert sorted(subscriber.available) == ["1", "2"]
    # the key the publisher paused is resumed when the run ends
    assert publisher.resumed == [(gone, "k")]
    assert publisher.paused == set()


def test_a_letter_with_no_source_topic_is_a_failure_not_a_guess() -> None:
    queue, subscriber, publisher = queue_of([dead("1", b"x", {})])
    report = queue.replay("custom-subscription", limit=10)
    assert publisher.published == []
    assert report.problems[0].status == "failed"
    assert "--to-topic" in (report.problems[0].error or "")
    assert "1" in subscriber.available


def test_attributes_named_like_publish_keywords_are_refused_not_mangled() -> None:
    queue, subscriber, publisher = queue_of([dead("1", b"x", {"timeout": "30"})])
    report = queue.replay(KEEP, limit=10)
    assert publisher.published == []
    assert "timeout" in (report.problems[0].error or "")
    assert subscriber.acked == []


def test_dry_run_publishes_and_acks_nothing() -> None:
    queue, subscriber, publisher = queue_of([dead(i, d, a) for i, d, a in ORIGINALS])
    report = queue.replay(KEEP, limit=10, dry_run=True)

    assert [o.status for o in report.outcomes] == ["dry-run"] * 3
    assert {o.topic for o in report.outcomes} == {"projects/p/topics/file-arrived"}
    assert publisher.published == []
    assert subscriber.acked == []
    assert sorted(subscriber.available) == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotFound("Subscription does not exist"), ConfigurationError),
        (ServiceUnavailable("down"), TransientBrokerError),
        (PermissionDenied("no"), BrokerError),
    ],
)
def test_google_errors_become_worker_errors(error: Exception, expected: type) -> None:
    translated = translate_error(error, "pull from projects/p/subscriptions/s")
    assert type(translated) is expected
    assert "projects/p/subscriptions/s" in str(translated)


def test_pull_errors_are_translated() -> None:
    class Missing(FakeSubscriber):
        def pull(self, **_: object) -> object:
            raise NotFound("Subscription does not exist")

    queue = DeadLetterQueue("p", clients=(Missing([]), FakePublisher([])))
    with pytest.raises(ConfigurationError, match="nope-keep"):
        queue.peek("nope-keep", limit=1)
