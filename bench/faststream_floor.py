"""What FastStream's own per-message pipeline costs, with no transport at all.

Rerun with ``python -m bench.faststream_floor``. A ``PubSubBroker`` on the in-memory
transport gets one no-op subscriber (``async def handle(body: dict[str, Any]) -> None``,
the ``broker-dict`` handler of ``bench.broker_bench``) and its ``consume`` is called
directly with ready-made deliveries whose ack does nothing: what remains is FastStream's
work per message (context, middlewares, parser and decoder, fast-depends, the
acknowledgement middleware) plus our parser and message class. ``batch`` does the same
through a batch subscriber, ``--batch`` deliveries per call.

Comparing it with the raw client's CPU per message in ``bench.broker_bench`` shows how
close to the raw client any FastStream subscriber can get per message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from faststream_gcp_pubsub import DeliveryBatch, PubSubBroker
from faststream_gcp_pubsub.transport.base import Delivery
from faststream_gcp_pubsub.transport.memory import MemoryTransport

PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)
ATTRIBUTES = {"content-type": "application/json"}


class _ReadyDelivery(Delivery):
    """A delivery already in hand whose settling costs nothing."""

    __slots__ = ("_data", "_id")

    def __init__(self, n: int) -> None:
        super().__init__("floor-sub")
        self._data = json.dumps({"n": n}).encode()
        self._id = str(n)

    @property
    def message_id(self) -> str:
        return self._id

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def attributes(self) -> Mapping[str, str]:
        return ATTRIBUTES

    @property
    def ordering_key(self) -> str:
        return ""

    @property
    def publish_time(self) -> datetime:
        return PUBLISHED

    @property
    def delivery_attempt(self) -> int | None:
        return None

    async def _ack(self) -> None:
        return None

    async def _nack(self) -> None:
        return None

    async def modify_ack_deadline(self, seconds: int) -> None:
        return None


async def _measure(messages: int, warmup: int, batch: int | None) -> dict[str, Any]:
    broker = PubSubBroker(transport=MemoryTransport("floor"), logger=None)
    handled = 0

    if batch is None:

        @broker.subscriber("floor-sub", topic="floor")
        async def handle(body: dict[str, Any]) -> None:
            nonlocal handled
            handled += 1

    else:

        @broker.subscriber("floor-sub", topic="floor", batch=True, max_batch=batch)
        async def handle_batch(bodies: list[dict[str, Any]]) -> None:
            nonlocal handled
            handled += len(bodies)

    [subscriber] = broker.subscribers
    await broker.start()
    try:
        deliveries = [_ReadyDelivery(n) for n in range(warmup + messages)]
        size = batch or 1
        calls: list[Any] = [
            DeliveryBatch("floor-sub", deliveries[i : i + size]) if batch else deliveries[i]
            for i in range(0, len(deliveries), size)
        ]
        split = warmup // size
        for call in calls[:split]:
            await subscriber.consume(call)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for call in calls[split:]:
            await subscriber.consume(call)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        await broker.stop()
    measured = len(deliveries) - split * size
    if handled != len(deliveries):
        msg = f"handled {handled} of {len(deliveries)} deliveries"
        raise RuntimeError(msg)
    return {
        "messages": measured,
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_us_per_message": cpu / measured * 1e6,
    }


def measure(
    messages: int = 10_000, warmup: int = 1_000, batch: int | None = None
) -> dict[str, Any]:
    """CPU per message of FastStream's pipeline on a no-op handler, no transport."""
    return asyncio.run(_measure(messages, warmup, batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=100, help="messages per batch call")
    args = parser.parse_args()
    single = measure(args.messages, args.warmup)
    batched = measure(args.messages, args.warmup, args.batch)
    print(
        json.dumps(
            {
                "single": round(single["cpu_us_per_message"], 1),
                f"batch_{args.batch}": round(batched["cpu_us_per_message"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
