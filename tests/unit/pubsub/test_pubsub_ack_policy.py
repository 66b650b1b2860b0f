"""FastStream's AckPolicy mapped onto Pub/Sub: ack, nack (deadline 0), reject (dead-letter)."""

from __future__ import annotations

import contextlib

import pytest
from faststream import AckPolicy
from faststream.exceptions import NackMessage, RejectMessage
from pubsub_fakes import RecordingDelivery

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, TestPubSubBroker
from faststream_gcp_pubsub.subscriber.usecase import PubSubSubscriber


async def _settle(
    policy: AckPolicy,
    outcome: str,
    *,
    dead_letter_topic: str | None = None,
) -> RecordingDelivery:
    broker = PubSubBroker(logger=None)
    seen_calls: list[list[str]] = []

    @broker.subscriber(
        "sub-policy", topic="topic-policy", dead_letter_topic=dead_letter_topic, ack_policy=policy
    )
    async def handler(body: dict[str, int], msg: PubSubMessage) -> None:
        seen_calls.append(list(delivery.calls))
        if outcome == "error":
            raise ValueError("handler failed")
        if outcome == "nack":
            raise NackMessage
        if outcome == "reject":
            raise RejectMessage(attributes={"why": "told to"})
        if outcome == "manual-ack":
            await msg.ack()

    delivery = RecordingDelivery()
    subscriber = next(s for s in broker.subscribers if isinstance(s, PubSubSubscriber))
    async with TestPubSubBroker(broker):
        with contextlib.suppress(ValueError):
            await subscriber.process_message(delivery)
    delivery.calls.append(f"seen-before-handler={seen_calls[0]}")
    return delivery


@pytest.mark.parametrize(
    ("policy", "outcome", "expected"),
    [
        (AckPolicy.ACK, "ok", ["ack"]),
        (AckPolicy.ACK, "error", ["ack"]),
        (AckPolicy.NACK_ON_ERROR, "ok", ["ack"]),
        (AckPolicy.NACK_ON_ERROR, "error", ["nack"]),
        (AckPolicy.REJECT_ON_ERROR, "ok", ["ack"]),
        (AckPolicy.REJECT_ON_ERROR, "error", ["nack"]),
        (AckPolicy.MANUAL, "error", []),
        (AckPolicy.MANUAL, "manual-ack", ["ack"]),
        (AckPolicy.NACK_ON_ERROR, "nack", ["nack"]),
        (AckPolicy.NACK_ON_ERROR, "reject", ["nack"]),
    ],
)
async def test_policy_outcome_maps_to_pubsub_settlement(
    policy: AckPolicy, outcome: str, expected: list[str]
) -> None:
    delivery = await _settle(policy, outcome)

    assert delivery.calls[:-1] == expected
    assert delivery.settled is bool(expected)


async def test_ack_first_acks_before_the_handler_runs() -> None:
    delivery = await _settle(AckPolicy.ACK_FIRST, "error")

    assert delivery.calls == ["ack", "seen-before-handler=['ack']"]


async def test_reject_with_dead_letter_topic_forwards_original_then_acks() -> None:
    delivery = await _settle(AckPolicy.REJECT_ON_ERROR, "error", dead_letter_topic="topic-dlq")

    assert delivery.calls[:-1] == ["forward", "ack"]
    [(topic, dead_letter)] = delivery.forwarded
    assert topic == "topic-dlq"
    assert dead_letter.data == delivery.data
    assert dead_letter.attributes["x-error-type"] == "ValueError"
    assert dead_letter.attributes["x-error-reason"] == "unexpected"
    assert dead_letter.attributes["x-error-message"] == "handler failed"
    assert dead_letter.attributes["x-source-subscription"] == "sub-test"
    assert dead_letter.attributes["x-original-message-id"] == "m-1"
    assert "x-dead-lettered-at" in dead_letter.attributes
    assert not any(key.startswith("dead-letter-") for key in dead_letter.attributes)


async def test_reject_message_attributes_travel_with_the_dead_letter() -> None:
    delivery = await _settle(AckPolicy.NACK_ON_ERROR, "reject", dead_letter_topic="topic-dlq")

    [(_, dead_letter)] = delivery.forwarded
    assert dead_letter.attributes["why"] == "told to"
    assert "x-error-type" not in dead_letter.attributes
    assert delivery.calls[:-1] == ["forward", "ack"]


async def test_default_policy_nacks_on_error() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("sub-default", topic="topic-default")
    async def handler(body: dict[str, int]) -> None:
        raise ValueError("boom")

    delivery = RecordingDelivery()
    subscriber = next(s for s in broker.subscribers if isinstance(s, PubSubSubscriber))
    async with TestPubSubBroker(broker):
        with pytest.raises(ValueError, match="boom"):
            await subscriber.process_message(delivery)

    assert delivery.calls == ["nack"]
