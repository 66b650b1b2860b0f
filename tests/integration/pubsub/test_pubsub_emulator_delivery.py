"""Delivery semantics against Google's Pub/Sub emulator."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict

import pytest
from faststream import AckPolicy
from pubsub_it_helpers import make_broker, pull_dead_letters, wait_until

from faststream_gcp_pubsub import PubSubMessage
from worker.devenv.emulators import ManagedProcess

pytestmark = pytest.mark.integration


async def test_round_trip_with_attributes(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    seen: list[PubSubMessage] = []
    bodies: list[dict[str, str]] = []

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, enable_message_ordering=True)
    async def handle(body: dict[str, str], msg: PubSubMessage) -> None:
        bodies.append(body)
        seen.append(msg)

    await broker.provision()
    async with broker:
        await broker.start()
        message_id = await broker.publish(
            {"object": "a.csv"},
            unique_name,
            headers={"origin": "it", "n": "1"},
            ordering_key="day-1",
            correlation_id="corr-1",
        )
        await wait_until(lambda: len(seen) == 1, 20, "the message")

    [msg] = seen
    assert bodies == [{"object": "a.csv"}]
    assert msg.message_id == message_id
    assert msg.attributes["origin"] == "it"
    assert msg.attributes["content-type"] == "application/json"
    assert msg.correlation_id == "corr-1"
    assert msg.ordering_key == "day-1"
    assert msg.publish_time.tzinfo is not None
    assert msg.delivery_attempt is None
    assert msg.committed is not None


async def test_nack_redelivers_at_once(pubsub_emulator: ManagedProcess, unique_name: str) -> None:
    broker = make_broker()
    deliveries: list[str] = []

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, ack_deadline=600)
    async def handle(body: str, msg: PubSubMessage) -> None:
        deliveries.append(msg.message_id)
        if len(deliveries) == 1:
            raise ConnectionError("transient")

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish("x", unique_name)
        # Without a nack the message would only come back after the 600 s deadline.
        await wait_until(lambda: len(deliveries) == 2, 20, "the redelivery")

    assert deliveries[0] == deliveries[1]


async def test_dead_letter_after_five_attempts(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    attempts: list[int | None] = []
    dead_letter_topic = f"{unique_name}-dlq"

    @broker.subscriber(
        f"{unique_name}-sub",
        topic=unique_name,
        dead_letter_topic=dead_letter_topic,
        max_delivery_attempts=5,
    )
    async def handle(body: str, msg: PubSubMessage) -> None:
        attempts.append(msg.delivery_attempt)
        raise ConnectionError("always failing")

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish("poison", unique_name, headers={"origin": "it"})
        await wait_until(lambda: len(attempts) >= 5, 30, "five attempts")
        dead = await pull_dead_letters(f"{dead_letter_topic}-keep", 30)

    assert attempts == [1, 2, 3, 4, 5]
    [letter] = dead
    assert letter.data == b"poison"
    assert letter.attributes["origin"] == "it"


async def test_reject_forwards_to_dead_letter_topic_with_reasons_and_acks(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    deliveries: list[int] = []
    dead_letter_topic = f"{unique_name}-dlq"

    @broker.subscriber(
        f"{unique_name}-sub",
        topic=unique_name,
        dead_letter_topic=dead_letter_topic,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
    )
    async def handle(body: str) -> None:
        deliveries.append(1)
        raise ValueError("not a date")

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish("bad", unique_name, headers={"origin": "it"})
        dead = await pull_dead_letters(f"{dead_letter_topic}-keep", 30)
        await asyncio.sleep(1.0)

    assert deliveries == [1]
    [letter] = dead
    attributes = dict(letter.attributes)
    assert letter.data == b"bad"
    assert attributes["origin"] == "it"
    assert attributes["x-error-type"] == "ValueError"
    assert attributes["x-error-message"] == "not a date"
    assert attributes["x-source-subscription"] == f"{unique_name}-sub"
    assert attributes["x-original-message-id"]


async def test_retry_backoff_is_honored(pubsub_emulator: ManagedProcess, unique_name: str) -> None:
    broker = make_broker()
    times: list[float] = []
    minimum = 2.0

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, retry_backoff=(minimum, 4))
    async def handle(body: str) -> None:
        times.append(time.monotonic())
        if len(times) < 4:
            raise ConnectionError("again")

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish("x", unique_name)
        await wait_until(lambda: len(times) == 4, 40, "four deliveries")

    gaps = [b - a for a, b in itertools.pairwise(times)]
    # The emulator redelivers the first nack at once and backs off from the second on.
    assert all(gap >= minimum for gap in gaps[1:]), gaps


async def test_ordering_keys_are_delivered_in_order(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    by_key: dict[str, list[int]] = defaultdict(list)

    @broker.subscriber(
        f"{unique_name}-sub", topic=unique_name, enable_message_ordering=True, max_messages=10
    )
    async def handle(body: int, msg: PubSubMessage) -> None:
        await asyncio.sleep(0.01 * (body % 3))
        by_key[msg.ordering_key].append(body)

    await broker.provision()
    async with broker:
        await broker.start()
        for key in ("a", "b"):
            await broker.publish_batch(*range(15), topic=unique_name, ordering_key=key)
        await wait_until(lambda: sum(map(len, by_key.values())) == 30, 30, "30 messages")

    assert by_key == {"a": list(range(15)), "b": list(range(15))}


async def test_flow_control_limits_concurrent_handlers(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    running = 0
    peak = 0
    done: list[int] = []

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, max_messages=3, max_workers=10)
    async def handle(body: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.2)
        running -= 1
        done.append(body)

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish_batch(*range(12), topic=unique_name)
        await wait_until(lambda: len(done) == 12, 30, "12 messages")

    assert 1 < peak <= 3
