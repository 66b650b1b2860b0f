"""Push delivery on the in-memory runtime: pushed messages run through the subscriber."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from faststream.exceptions import RejectMessage
from faststream.middlewares import AckPolicy

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage
from faststream_gcp_pubsub.errors import TransientBrokerError, UnknownSubscriptionError
from faststream_gcp_pubsub.push import PushEnvelope
from faststream_gcp_pubsub.specs import SubscriptionSpec
from faststream_gcp_pubsub.transport.base import Delivery, StreamOptions
from faststream_gcp_pubsub.transport.memory import MemoryTransport
from faststream_gcp_pubsub.transport.push import PushTransport

PROJECT = "proj"


def envelope(
    data: bytes = b'{"n": 1}',
    *,
    subscription: str = "in-sub",
    project: str = PROJECT,
    message_id: str = "m-1",
    attributes: dict[str, str] | None = None,
    delivery_attempt: int | None = 2,
) -> PushEnvelope:
    return PushEnvelope(
        project=project,
        subscription=subscription,
        message_id=message_id,
        data=data,
        attributes=attributes or {"origin": "test"},
        ordering_key="",
        publish_time=datetime(2024, 1, 15, tzinfo=UTC),
        delivery_attempt=delivery_attempt,
    )


@pytest.fixture
def transport() -> PushTransport:
    return PushTransport(MemoryTransport(PROJECT))


@pytest.fixture
def broker(transport: PushTransport) -> PubSubBroker:
    return PubSubBroker(transport=transport, graceful_timeout=0.2, logger=None)


@pytest.fixture
async def running(broker: PubSubBroker) -> AsyncIterator[PubSubBroker]:
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def test_a_pushed_message_reaches_the_handler_and_acks(
    broker: PubSubBroker, transport: PushTransport
) -> None:
    seen: list[tuple[dict[str, int], str, int | None, dict[str, str]]] = []

    @broker.subscriber("in-sub", topic="in-topic", dead_letter_topic="in-dlq")
    async def handle(body: dict[str, int], message: PubSubMessage) -> None:
        await message.extend_lease(30)  # no lease in push mode: must not fail or settle
        seen.append((body, message.message_id, message.delivery_attempt, dict(message.attributes)))

    await broker.start()
    try:
        assert transport.subscriptions == ("in-sub",)
        assert await transport.push(envelope()) == "ack"
    finally:
        await broker.stop()
    assert seen == [({"n": 1}, "m-1", 2, {"origin": "test"})]


async def test_a_failing_handler_nacks(broker: PubSubBroker, transport: PushTransport) -> None:
    @broker.subscriber("in-sub", topic="in-topic")
    async def handle(body: dict[str, int]) -> None:
        raise RuntimeError("downstream unavailable")

    await broker.start()
    try:
        assert await transport.push(envelope()) == "nack"
    finally:
        await broker.stop()


async def test_a_rejected_message_is_dead_lettered_with_its_bytes_then_acked(
    broker: PubSubBroker, transport: PushTransport
) -> None:
    @broker.subscriber("in-sub", topic="in-topic", dead_letter_topic="in-dlq")
    async def handle(body: bytes) -> None:
        raise RejectMessage

    inner = transport.inner
    assert isinstance(inner, MemoryTransport)
    await broker.start()
    kept: list[Delivery] = []
    keeper = inner.open_stream("in-dlq-keep", StreamOptions(), kept.append)
    try:
        outcome = await transport.push(envelope(b"\x00not json", attributes={"a": "b"}))
    finally:
        await keeper.close()
        await broker.stop()
    assert outcome == "ack"
    assert [d.data for d in kept] == [b"\x00not json"]
    letter = kept[0].attributes
    assert letter["a"] == "b"
    assert letter["x-source-subscription"] == "in-sub"
    assert letter["x-original-message-id"] == "m-1"
    assert letter["x-delivery-attempt"] == "2"


async def test_an_unsettled_message_counts_as_nacked_after_the_lease_would_run_out(
    broker: PubSubBroker, transport: PushTransport
) -> None:
    handled = asyncio.Event()

    @broker.subscriber(
        "in-sub", topic="in-topic", ack_policy=AckPolicy.MANUAL, max_lease_duration=1.0
    )
    async def handle(body: dict[str, int]) -> None:
        handled.set()

    await broker.start()
    try:
        assert await transport.push(envelope()) == "nack"
        assert handled.is_set()
    finally:
        await broker.stop()


async def test_pushes_for_another_subscription_or_project_are_unknown(
    broker: PubSubBroker, transport: PushTransport
) -> None:
    @broker.subscriber("in-sub", topic="in-topic")
    async def handle(body: bytes) -> None: ...

    await broker.start()
    try:
        with pytest.raises(UnknownSubscriptionError, match="other-sub"):
            await transport.push(envelope(subscription="other-sub"))
        with pytest.raises(UnknownSubscriptionError, match="projects/elsewhere"):
            await transport.push(envelope(project="elsewhere"))
    finally:
        await broker.stop()


async def test_stopping_nacks_the_pushes_in_hand_and_refuses_new_ones(
    broker: PubSubBroker, transport: PushTransport
) -> None:
    started = asyncio.Event()

    @broker.subscriber("in-sub", topic="in-topic")
    async def handle(body: dict[str, int]) -> None:
        started.set()
        await asyncio.sleep(3600)

    await broker.start()
    in_flight = asyncio.create_task(transport.push(envelope()))
    await asyncio.wait_for(started.wait(), timeout=5)
    await broker.stop()

    assert await asyncio.wait_for(in_flight, timeout=5) == "nack"
    assert transport.subscriptions == ()
    with pytest.raises(TransientBrokerError, match="stopped"):
        await transport.push(envelope())


async def test_publishing_and_provisioning_go_through_the_wrapped_transport(
    running: PubSubBroker, transport: PushTransport
) -> None:
    inner = transport.inner
    assert isinstance(inner, MemoryTransport)
    await transport.admin.create_topic("out-topic")
    await transport.admin.create_subscription(SubscriptionSpec(name="out-keep", topic="out-topic"))
    await running.publish(b"hello", topic="out-topic")
    assert inner.server.subscriptions["out-keep"].backlog == 1
    assert await running.ping(1.0)
