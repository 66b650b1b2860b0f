"""A codec's batch methods on Google's Pub/Sub emulator (FastStream's ``BatchCodecProto``:
``publish_batch`` encodes with ``encode_batch``, a batch subscriber decodes with
``decode_batch``)."""

from __future__ import annotations

import asyncio

import pytest
from pubsub_it_helpers import make_broker

from support.pubsub_codecs import BatchCodec
from worker.devenv.emulators import ManagedProcess

pytestmark = pytest.mark.integration


async def test_batch_codec_round_trip_on_the_emulator(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    codec = BatchCodec()
    broker = make_broker(codec=codec)
    received: list[int] = []
    all_in = asyncio.Event()

    @broker.subscriber(f"{unique_name}-sub", topic=unique_name, batch=True, max_batch=10)
    async def handle(rows: list[int]) -> None:
        received.extend(rows)
        if len(received) >= 3:
            all_in.set()

    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish_batch(1, 2, 3, topic=unique_name)
        await asyncio.wait_for(all_in.wait(), timeout=30)

    assert sorted(received) == [1, 2, 3]
    assert "encode_batch" in codec.calls
    assert "decode_batch" in codec.calls
    assert "decode" not in codec.calls
