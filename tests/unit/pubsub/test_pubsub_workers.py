"""Handler concurrency: ``max_workers`` handlers run at once, no more, none left idle."""

from __future__ import annotations

import asyncio

from worker.pubsub import PubSubBroker
from worker.pubsub.transport.memory import MemoryTransport


async def test_a_burst_is_spread_over_max_workers_when_handlers_await() -> None:
    broker = PubSubBroker(transport=MemoryTransport("proj"), logger=None)
    release = asyncio.Event()
    running: list[int] = []
    finished: list[int] = []
    three_running = asyncio.Event()
    all_finished = asyncio.Event()

    @broker.subscriber("in-sub", topic="in-topic", max_messages=10, max_workers=3)
    async def handle(body: int) -> None:
        running.append(body)
        if len(running) == 3:
            three_running.set()
        await release.wait()
        finished.append(body)
        if len(finished) == 7:
            all_finished.set()

    async with broker:
        await broker.start()
        await broker.publish_batch(*range(7), topic="in-topic")
        await asyncio.wait_for(three_running.wait(), timeout=5)
        for _ in range(20):
            await asyncio.sleep(0)  # a fourth worker, if any, would start here
        assert len(running) == 3
        release.set()
        await asyncio.wait_for(all_finished.wait(), timeout=5)

    assert sorted(finished) == list(range(7))


async def test_quick_handlers_drain_a_burst_and_later_messages_still_wake_a_worker() -> None:
    broker = PubSubBroker(transport=MemoryTransport("proj"), logger=None)
    handled: list[int] = []
    arrived = asyncio.Event()

    @broker.subscriber("in-sub", topic="in-topic", max_messages=100, max_workers=4)
    async def handle(body: int) -> None:
        handled.append(body)
        if len(handled) in (50, 51):
            arrived.set()

    async with broker:
        await broker.start()
        await broker.publish_batch(*range(50), topic="in-topic")
        await asyncio.wait_for(arrived.wait(), timeout=5)
        arrived.clear()
        await broker.publish(50, "in-topic")
        await asyncio.wait_for(arrived.wait(), timeout=5)

    assert sorted(handled) == list(range(51))
