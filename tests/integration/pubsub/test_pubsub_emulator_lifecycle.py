"""Leases, shutdown, reconnect and volume against Google's Pub/Sub emulator."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from pubsub_it_helpers import make_broker, wait_until

from faststream_gcp_pubsub import PubSubMessage, PubSubSubscriber
from worker.devenv.emulators import ManagedProcess, start_pubsub_emulator

pytestmark = pytest.mark.integration


@pytest.mark.slow
async def test_lease_is_extended_for_a_handler_longer_than_the_ack_deadline(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    deliveries: list[str] = []
    finished: list[str] = []

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, ack_deadline=10)
    async def handle(body: str, msg: PubSubMessage) -> None:
        deliveries.append(msg.message_id)
        await asyncio.sleep(30)
        finished.append(msg.message_id)

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish("long work", unique_name)
        await wait_until(lambda: bool(finished), 60, "the 30 s handler")
        await asyncio.sleep(1)

    assert len(deliveries) == 1


async def test_graceful_shutdown_drains_then_gives_back_what_remains(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    subscription = f"{unique_name}-sub"
    first = make_broker(graceful_timeout=2.0)
    started: list[str] = []
    finished: list[str] = []

    @first.subscriber(subscription, topic=unique_name, ack_deadline=10, max_messages=4)
    async def handle(body: str) -> None:
        started.append(body)
        await asyncio.sleep(0.5 if body.startswith("quick") else 60)
        finished.append(body)

    await first.provision()
    await first.start()
    await first.publish_batch("quick-1", "quick-2", "stuck-1", "stuck-2", topic=unique_name)
    await wait_until(lambda: len(started) == 4, 20, "four handlers running")
    await first.stop()

    assert sorted(finished) == ["quick-1", "quick-2"]

    second = make_broker()
    again: list[str] = []

    @second.subscriber(subscription, topic=unique_name)
    async def handle_again(body: str) -> None:
        again.append(body)

    async with second:
        await second.start()
        await wait_until(lambda: len(again) >= 2, 40, "the unprocessed messages")
        # Drained messages were acked before the stream closed: they never come back,
        # though an unacked one would have returned together with the two above.
        await asyncio.sleep(3)

    assert sorted(again) == ["stuck-1", "stuck-2"]


async def test_ten_thousand_messages_are_each_acked_exactly_once(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    seen: Counter[str] = Counter()
    total = 10_000

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, ack_deadline=20, max_messages=500)
    async def handle(body: int, msg: PubSubMessage) -> None:
        seen[msg.message_id] += 1

    await broker.provision()
    async with broker:
        await broker.start()
        published: list[str] = []
        for start in range(0, total, 1000):
            published += await broker.publish_batch(*range(start, start + 1000), topic=unique_name)
        await wait_until(lambda: len(seen) == total, 180, f"{total} messages")
        # An unacked message would come back once its 20 s deadline expires.
        await asyncio.sleep(21)

    assert set(seen) == set(published)
    assert set(seen.values()) == {1}


async def test_stream_survives_an_emulator_restart(
    tmp_path: Path, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = start_pubsub_emulator(tmp_path)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    broker = make_broker(reconnect_backoff=(0.2, 1.0))
    received: set[int] = set()
    processed: set[int] = set()
    gate = asyncio.Event()

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, max_messages=20)
    async def handle(body: int) -> None:
        received.add(body)
        if body < 5:
            await gate.wait()  # these five are in flight while the emulator restarts
        processed.add(body)

    subscriber = next(s for s in broker.subscribers if isinstance(s, PubSubSubscriber))
    try:
        await broker.provision()
        await broker.start()
        await broker.publish_batch(*range(10), topic=unique_name)
        await wait_until(lambda: received >= set(range(10)), 30, "the first ten")

        await asyncio.to_thread(emulator.restart)
        gate.set()
        # The emulator forgot everything: the broker re-provisions before reopening.
        await wait_until(lambda: subscriber.stream_restarts >= 1, 90, "the stream to reopen")
        await broker.publish_batch(*range(10, 20), topic=unique_name)
        await wait_until(lambda: processed >= set(range(20)), 60, "every message")
    finally:
        await broker.stop()
        emulator.stop()

    assert processed == set(range(20))


async def test_messages_held_at_stop_go_straight_to_the_next_subscriber(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    subscription = f"{unique_name}-sub"
    held = [f"held-{n}" for n in range(5)]
    first = make_broker(graceful_timeout=1.0)
    started: list[str] = []

    @first.subscriber(subscription, topic=unique_name, ack_deadline=120, max_messages=10)
    async def hold(body: str) -> None:
        started.append(body)
        await asyncio.sleep(3600)

    await first.provision()
    await first.start()
    await first.publish_batch(*held, topic=unique_name)
    await wait_until(lambda: len(started) == len(held), 20, "every message in a handler")
    await first.stop()

    second = make_broker()
    again: list[str] = []

    @second.subscriber(subscription, topic=unique_name, ack_deadline=120)
    async def take(body: str) -> None:
        again.append(body)

    async with second:
        await second.start()
        # Well inside the 120 s ack deadline: a message left leased to the first
        # subscriber's closed stream would only come back after it.
        await wait_until(lambda: len(again) >= len(held), 40, "the held messages")

    assert sorted(again) == held
