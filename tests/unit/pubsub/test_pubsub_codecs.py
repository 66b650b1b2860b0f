"""Codecs on batch subscribers and ``publish_batch``, as FastStream 0.7 defines them.

FastStream's codec protocol (``faststream._internal.parser``): a codec replaces the
decoder; a batch subscriber decodes with the codec's ``decode_batch`` and refuses a codec
without it ("Batch subscriber requires a codec implementing BatchCodecProto."), and a
batch publish encodes with ``encode_batch`` when the codec has it, as
``faststream.kafka``'s producer does.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from faststream_gcp_pubsub import PubSubBatchMessage, PubSubBroker, PubSubRouter, TestPubSubBroker
from support.pubsub_codecs import CONTENT_TYPE, BatchCodec, PlainCodec


async def test_batch_publish_and_batch_subscriber_use_the_codec_batch_methods() -> None:
    codec = BatchCodec()
    broker = PubSubBroker(codec=codec, logger=None)
    received: list[list[int]] = []
    raw: list[dict[str, object]] = []

    @broker.subscriber("rows-sub", topic="rows", batch=True)
    async def handle(rows: list[int], msg: PubSubBatchMessage) -> None:
        received.append(rows)
        raw.extend(json.loads(d.data) for d in msg.deliveries)
        assert msg.deliveries[0].attributes["content-type"] == CONTENT_TYPE

    async with TestPubSubBroker(broker) as br:
        await br.publish_batch(1, 2, 3, topic="rows")

    assert received == [[1, 2, 3]]
    assert raw == [{"v": n, "batch": True} for n in (1, 2, 3)]
    assert codec.calls == ["encode_batch", "decode_batch"]


async def test_the_codec_batch_methods_apply_on_the_running_broker_too() -> None:
    codec = BatchCodec()
    broker = PubSubBroker(in_memory=True, codec=codec, logger=None)
    received: list[int] = []
    both = asyncio.Event()

    @broker.subscriber("rows-sub", topic="rows", batch=True, max_batch=10)
    async def handle(rows: list[int]) -> None:
        received.extend(rows)
        if len(received) == 2:
            both.set()

    await broker.start()
    try:
        await broker.publish_batch(4, 5, topic="rows")
        await asyncio.wait_for(both.wait(), timeout=10)
    finally:
        await broker.stop()
    assert sorted(received) == [4, 5]
    assert "encode_batch" in codec.calls
    assert "decode_batch" in codec.calls
    assert "decode" not in codec.calls


async def test_a_single_publish_uses_encode_and_a_plain_subscriber_decode() -> None:
    codec = BatchCodec()
    broker = PubSubBroker(codec=codec, logger=None)

    @broker.subscriber("one-sub", topic="one")
    async def handle(body: int) -> None: ...

    async with TestPubSubBroker(broker) as br:
        await br.publish(7, "one")
        handle.mock.assert_called_once_with(7)
    assert codec.calls == ["encode", "decode"]


def test_a_batch_subscriber_refuses_a_codec_without_batch_methods_at_declaration() -> None:
    broker = PubSubBroker(logger=None)
    with pytest.raises(ValueError, match="requires a codec implementing BatchCodecProto"):
        broker.subscriber("rows-sub", topic="rows", batch=True, codec=PlainCodec())

    with_codec = PubSubBroker(codec=PlainCodec(), logger=None)
    with pytest.raises(ValueError, match="requires a codec implementing BatchCodecProto"):
        with_codec.subscriber("rows-sub", topic="rows", batch=True)


async def test_a_router_batch_subscriber_meets_the_broker_codec_at_start() -> None:
    broker = PubSubBroker(codec=PlainCodec(), logger=None)
    router = PubSubRouter()

    @router.subscriber("rows-sub", topic="rows", batch=True)
    async def handle(rows: list[int]) -> None: ...

    broker.include_router(router)
    with pytest.raises(ValueError, match="requires a codec implementing BatchCodecProto"):
        async with TestPubSubBroker(broker):
            pass
