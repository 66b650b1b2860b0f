"""Batch subscribers against Google's Pub/Sub emulator."""

from __future__ import annotations

from collections import Counter

import pytest
from pubsub_it_helpers import make_broker, pull_now, wait_until

from faststream_gcp_pubsub import PubSubBatchMessage
from worker.devenv.emulators import ManagedProcess

pytestmark = pytest.mark.integration


async def test_batches_get_every_message_once_and_ack_them_all(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    sizes: list[int] = []
    seen: Counter[int] = Counter()
    total = 300

    @broker.subscriber(
        f"{unique_name}-sub", topic=unique_name, batch=True, max_batch=50, ack_deadline=600
    )
    async def handle(rows: list[dict[str, int]], msg: PubSubBatchMessage) -> None:
        sizes.append(len(rows))
        seen.update(row["n"] for row in rows)
        assert len(msg.batch_headers) == len(rows)

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish_batch(*({"n": n} for n in range(total)), topic=unique_name)
        await wait_until(lambda: sum(seen.values()) >= total, 30, f"{total} messages")

    assert set(seen) == set(range(total))
    assert max(seen.values()) == 1, "a message was handled twice"
    assert max(sizes) <= 50
    assert len(sizes) < total, "messages were not batched at all"
    # Every one was acked: stopping hands unsettled messages back, so any not acked
    # would be pulled here (and an unsettled lease would outlive the test: 10 minutes).
    assert pull_now(f"{unique_name}-sub") == []
