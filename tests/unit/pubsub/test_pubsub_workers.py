"""Handler concurrency: ``max_workers`` handlers run at once, no more, none left idle."""

from __future__ import annotations

import asyncio

from pubsub_fakes import RecordingDelivery

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage
from faststream_gcp_pubsub.transport.base import DeliveryCallback, Stream, StreamOptions
from faststream_gcp_pubsub.transport.memory import MemoryTransport


class BurstTransport(MemoryTransport):
    """Hands deliveries over the way Google's client does: a whole burst in one go."""

    def __init__(self) -> None:
        super().__init__("proj")
        self.deliver: DeliveryCallback | None = None

    def open_stream(
        self, subscription: str, options: StreamOptions, deliver: DeliveryCallback
    ) -> Stream:
        self.deliver = deliver
        return super().open_stream(subscription, options, deliver)


async def test_a_burst_is_spread_over_max_workers_when_handlers_await() -> None:
    transport = BurstTransport()
    broker = PubSubBroker(transport=transport, logger=None)
    release = asyncio.Event()
    running: list[str] = []
    finished: list[str] = []
    three_running = asyncio.Event()
    all_finished = asyncio.Event()
    burst = [RecordingDelivery(message_id=f"m-{n}", subscription="in-sub") for n in range(7)]

    @broker.subscriber("in-sub", topic="in-topic", max_messages=10, max_workers=3)
    async def handle(body: dict[str, int], msg: PubSubMessage) -> None:
        running.append(msg.message_id)
        if len(running) == 3:
            three_running.set()
        await release.wait()
        finished.append(msg.message_id)
        if len(finished) == len(burst):
            all_finished.set()

    async with broker:
        await broker.start()
        assert transport.deliver is not None
        for _ in range(5):
            await asyncio.sleep(0)  # every worker is idle, waiting for work
        for delivery in burst:
            transport.deliver(delivery)
        await asyncio.wait_for(three_running.wait(), timeout=5)
        for _ in range(20):
            await asyncio.sleep(0)  # a fourth worker, if any, would start here
        assert len(running) == 3
        release.set()
        await asyncio.wait_for(all_finished.wait(), timeout=5)

    assert sorted(finished) == sorted(d.message_id for d in burst)


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
