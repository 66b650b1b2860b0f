"""Graceful shutdown on the in-memory runtime: drain, then nack what was not processed."""

from __future__ import annotations

import asyncio

from faststream_gcp_pubsub import PubSubBroker
from faststream_gcp_pubsub.transport.base import Delivery, StreamOptions
from faststream_gcp_pubsub.transport.memory import MemoryTransport
from faststream_gcp_pubsub.transport.memory_subscription import MemoryConsumer


async def test_stop_finishes_in_flight_work_and_gives_back_the_rest() -> None:
    transport = MemoryTransport("proj")
    broker = PubSubBroker(transport=transport, graceful_timeout=1.0, logger=None)
    started: list[str] = []
    finished: list[str] = []
    release_quick = asyncio.Event()
    two_started = asyncio.Event()

    @broker.subscriber("in-sub", topic="in-topic", max_messages=4, max_workers=2)
    async def handle(body: str) -> None:
        started.append(body)
        if len(started) == 2:
            two_started.set()
        if body == "quick":
            await release_quick.wait()
        else:
            await asyncio.sleep(3600)
        finished.append(body)

    await broker.start()
    await broker.publish_batch("quick", "slow", "queued-1", "queued-2", topic="in-topic")
    await asyncio.wait_for(two_started.wait(), timeout=5)

    stopping = asyncio.create_task(broker.stop())
    await asyncio.sleep(0.05)
    release_quick.set()
    await asyncio.wait_for(stopping, timeout=5)

    assert started == ["quick", "slow"]
    assert finished == ["quick"]
    subscription = transport.server.subscriptions["in-sub"]
    assert subscription.backlog == 3
    redelivered: list[Delivery] = []
    subscription.attach(MemoryConsumer(redelivered.append, StreamOptions()))
    assert sorted(d.data for d in redelivered) == [b"queued-1", b"queued-2", b"slow"]
