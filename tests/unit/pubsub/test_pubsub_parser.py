from __future__ import annotations

import pytest
from faststream.message import decode_message
from pubsub_fakes import RecordingDelivery

from faststream_gcp_pubsub.message import PubSubMessage
from faststream_gcp_pubsub.parser import PubSubParser
from faststream_gcp_pubsub.publisher.producer import build_attributes


async def test_parser_exposes_pubsub_fields_and_attributes_as_headers() -> None:
    delivery = RecordingDelivery(
        b'{"day": "2026-01-02"}',
        {"content-type": "application/json", "correlation-id": "c-9", "origin": "gcs"},
        message_id="42",
        ordering_key="k1",
        delivery_attempt=3,
    )

    message = await PubSubParser("dlq-topic").parse_message(delivery)

    assert isinstance(message, PubSubMessage)
    assert message.body == b'{"day": "2026-01-02"}'
    assert message.headers == {
        "content-type": "application/json",
        "correlation-id": "c-9",
        "origin": "gcs",
    }
    assert message.attributes["origin"] == "gcs"
    assert message.content_type == "application/json"
    assert message.correlation_id == "c-9"
    assert message.message_id == "42"
    assert message.ordering_key == "k1"
    assert message.delivery_attempt == 3
    assert message.publish_time.year == 2026
    assert message.subscription == "sub-test"
    assert message.dead_letter_topic == "dlq-topic"
    assert decode_message(message) == {"day": "2026-01-02"}


async def test_correlation_id_falls_back_to_the_message_id() -> None:
    message = await PubSubParser().parse_message(RecordingDelivery(message_id="77"))

    assert message.correlation_id == "77"
    assert message.content_type is None
    assert message.reply_to == ""


async def test_reply_to_attribute_becomes_reply_to() -> None:
    message = await PubSubParser().parse_message(RecordingDelivery(attributes={"reply-to": "r1"}))

    assert message.reply_to == "r1"


@pytest.mark.parametrize(("asked", "sent"), [(30, 30), (0.2, 1), (3600, 600)])
async def test_extend_lease_modifies_the_ack_deadline_within_pubsub_limits(
    asked: float, sent: int
) -> None:
    delivery = RecordingDelivery()
    message = await PubSubParser().parse_message(delivery)

    await message.extend_lease(asked)

    assert delivery.deadlines == [sent]
    assert delivery.calls == []


def test_headers_become_string_attributes_with_faststream_metadata() -> None:
    attributes = build_attributes(
        {"n": 5, "x": "y"}, "application/json", "corr-1", reply_to="answers"
    )

    assert attributes == {
        "n": "5",
        "x": "y",
        "content-type": "application/json",
        "correlation-id": "corr-1",
        "reply-to": "answers",
    }


def test_explicit_content_type_attribute_wins_over_the_codec() -> None:
    attributes = build_attributes({"content-type": "avro/binary"}, "application/json", None, "")

    assert attributes == {"content-type": "avro/binary"}
