"""The in-memory Pub/Sub model: leases, redelivery, backoff, dead letters, ordering."""

from __future__ import annotations

import itertools

import pytest

from faststream_gcp_pubsub.errors import AckFailedError, BrokerError
from faststream_gcp_pubsub.specs import RetryBackoff, SubscriptionSpec
from faststream_gcp_pubsub.transport.base import Delivery, OutgoingMessage, StreamOptions
from faststream_gcp_pubsub.transport.clock import ManualClock
from faststream_gcp_pubsub.transport.memory import MemoryTransport
from faststream_gcp_pubsub.transport.memory_subscription import MemoryConsumer


def _world(
    *,
    expire_leases: bool = False,
    options: StreamOptions | None = None,
    **spec: object,
) -> tuple[MemoryTransport, ManualClock, list[Delivery]]:
    clock = ManualClock()
    transport = MemoryTransport("proj", clock=clock, expire_leases=expire_leases)
    server = transport.server
    for topic in ("topic-a", "topic-a-dlq"):
        server.create_topic(topic)
    server.create_subscription(SubscriptionSpec(name="sub-a", topic="topic-a", **spec))
    received: list[Delivery] = []
    consumer = MemoryConsumer(received.append, options or StreamOptions())
    server.subscriptions["sub-a"].attach(consumer)
    return transport, clock, received


async def _publish(transport: MemoryTransport, *bodies: bytes, key: str = "") -> list[str]:
    return await transport.publish(
        "topic-a", [OutgoingMessage(b, {"a": "1"}, ordering_key=key) for b in bodies]
    )


async def test_nack_redelivers_and_counts_attempts_with_a_dead_letter_policy() -> None:
    transport, _, received = _world(dead_letter_topic="topic-a-dlq", max_delivery_attempts=5)
    await _publish(transport, b"x")

    await received[0].nack()
    await received[1].nack()

    assert [d.delivery_attempt for d in received] == [1, 2, 3]
    assert {d.message_id for d in received} == {"1"}
    assert received[2].attributes == {"a": "1"}


async def test_delivery_attempt_is_none_without_a_dead_letter_policy() -> None:
    transport, _, received = _world()
    await _publish(transport, b"x")
    await received[0].nack()

    assert [d.delivery_attempt for d in received] == [None, None]


async def test_ack_ends_the_story() -> None:
    transport, clock, received = _world()
    await _publish(transport, b"x")
    await received[0].ack()

    assert not clock.advance()
    assert len(received) == 1
    assert transport.server.subscriptions["sub-a"].backlog == 0


async def test_dead_letter_after_max_attempts_with_source_attributes() -> None:
    transport, _, received = _world(dead_letter_topic="topic-a-dlq", max_delivery_attempts=5)
    server = transport.server
    server.create_subscription(SubscriptionSpec(name="dlq-keep", topic="topic-a-dlq"))
    dead: list[Delivery] = []
    server.subscriptions["dlq-keep"].attach(MemoryConsumer(dead.append, StreamOptions()))
    await _publish(transport, b"poison")

    for attempt in range(5):
        await received[attempt].nack()

    assert len(received) == 5
    [letter] = dead
    assert letter.data == b"poison"
    assert letter.attributes["a"] == "1"
    assert letter.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert letter.attributes["CloudPubSubDeadLetterSourceSubscription"] == "sub-a"
    assert letter.attributes["CloudPubSubDeadLetterSourceSubscriptionProject"] == "proj"


async def test_missing_dead_letter_topic_keeps_redelivering() -> None:
    transport, _, received = _world(dead_letter_topic="nowhere-dlq", max_delivery_attempts=5)
    await _publish(transport, b"x")
    for attempt in range(5):
        await received[attempt].nack()

    assert len(received) == 6


async def test_retry_backoff_delays_redelivery_exponentially() -> None:
    transport, clock, received = _world(retry_backoff=RetryBackoff(10, 25))
    await _publish(transport, b"x")
    times = [clock.now()]
    for _ in range(3):
        await received[-1].nack()
        assert clock.advance()
        times.append(clock.now())

    assert [b - a for a, b in itertools.pairwise(times)] == [10, 20, 25]


async def test_ordering_key_one_at_a_time_in_order_even_after_nack() -> None:
    transport, _, received = _world(enable_message_ordering=True)
    await _publish(transport, b"k1", b"k2", b"k3", key="k")
    await _publish(transport, b"free")

    assert [d.data for d in received] == [b"k1", b"free"]
    await received[0].nack()
    assert [d.data for d in received] == [b"k1", b"free", b"k1"]
    await received[2].ack()
    await received[3].ack()
    assert [d.data for d in received[3:]] == [b"k2", b"k3"]


async def test_without_ordering_enabled_keys_do_not_serialize() -> None:
    transport, _, received = _world()
    await _publish(transport, b"k1", b"k2", key="k")

    assert [d.data for d in received] == [b"k1", b"k2"]
    assert received[0].ordering_key == "k"


async def test_flow_control_caps_outstanding_messages() -> None:
    transport, _, received = _world(options=StreamOptions(max_messages=2))
    await _publish(transport, b"1", b"2", b"3", b"4")

    assert len(received) == 2
    await received[0].ack()
    assert len(received) == 3


async def test_lease_expiry_redelivers_and_extend_lease_postpones_it() -> None:
    transport, clock, received = _world(
        expire_leases=True, options=StreamOptions(max_lease_duration_s=30)
    )
    await _publish(transport, b"x")
    await received[0].modify_ack_deadline(100)

    assert clock.advance()
    assert clock.now() == 100
    assert len(received) == 2


async def test_exactly_once_refuses_an_ack_after_the_lease_expired() -> None:
    transport, clock, received = _world(
        expire_leases=True,
        options=StreamOptions(max_lease_duration_s=30),
        enable_exactly_once_delivery=True,
    )
    await _publish(transport, b"x")
    assert clock.advance()

    with pytest.raises(AckFailedError, match="lease"):
        await received[0].ack()
    await received[1].ack()


async def test_publishing_to_a_missing_topic_fails() -> None:
    transport, _, _ = _world()

    with pytest.raises(BrokerError, match="topic does not exist"):
        await transport.publish("nope-topic", [OutgoingMessage(b"x", {})])


async def test_settling_twice_is_ignored() -> None:
    transport, _, received = _world()
    await _publish(transport, b"x")
    await received[0].ack()
    await received[0].nack()

    assert len(received) == 1
