"""The broker's own dead letters carry the same ``x-*`` attributes as the service's."""

from __future__ import annotations

from datetime import UTC, datetime

from pubsub_fakes import RecordingDelivery

from faststream_gcp_pubsub.deadletter import (
    DEAD_LETTER_ATTRIBUTE_KEYS,
    MAX_ERROR_MESSAGE_BYTES,
    error_attributes,
    origin_attributes,
)
from worker.errors import InputDataError
from worker.events.deadletter import ERROR_ATTRIBUTE_KEYS, dead_letter_attributes


def test_the_broker_knows_every_name_the_service_uses() -> None:
    assert frozenset(ERROR_ATTRIBUTE_KEYS) == DEAD_LETTER_ATTRIBUTE_KEYS


def test_broker_and_service_describe_the_same_failure_with_the_same_attributes() -> None:
    error = InputDataError("column 'day' is not a date", where="gs://in/a.csv")
    now = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    by_service = dead_letter_attributes(
        {"origin": "it"},
        error=error,
        stage="validate",
        subscription="in-sub",
        message_id="m-7",
        delivery_attempt=3,
        worker_version="1.0",
        now=now,
    )
    by_broker = {
        "origin": "it",
        **origin_attributes("in-sub", "m-7", 3, now),
        **error_attributes(error),
    }

    shared = set(by_broker) & set(by_service)
    assert shared == set(by_broker)
    assert {key: by_broker[key] for key in shared} == {key: by_service[key] for key in shared}


def test_an_error_message_is_cut_to_fit_a_pubsub_attribute() -> None:
    message = error_attributes(ValueError("é" * 2000))["x-error-message"]

    assert len(message.encode("utf-8")) <= MAX_ERROR_MESSAGE_BYTES
    assert message.endswith("…")


async def test_a_replayed_letter_that_fails_again_describes_only_its_latest_failure() -> None:
    replayed = RecordingDelivery(
        attributes={
            "origin": "it",
            "x-error-type": "OldError",
            "x-error-stage": "validate",
            "x-worker-version": "0.9",
        },
        message_id="m-2",
    )

    await replayed.dead_letter("topic-dlq", error_attributes(KeyError("day")))

    [(_, letter)] = replayed.forwarded
    assert letter.attributes["origin"] == "it"
    assert letter.attributes["x-error-type"] == "KeyError"
    assert letter.attributes["x-original-message-id"] == "m-2"
    assert "x-error-stage" not in letter.attributes
    assert "x-worker-version" not in letter.attributes
    assert replayed.calls == ["forward", "ack"]
