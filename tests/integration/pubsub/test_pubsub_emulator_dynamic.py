"""Dynamic use on Google's Pub/Sub emulator: get_one, iteration, StopConsume, late subscribers.

FastStream documents ``get_one`` / ``async for msg in subscriber`` and dynamic
subscribers for all its brokers (https://faststream.ag2.ai/latest/getting-started/
subscription/); here they run over a unary Pull
(https://cloud.google.com/pubsub/docs/pull#unary_pull) whose message the caller acks
(``Acknowledge``) or nacks (``ModifyAckDeadline`` to 0, redelivered at once without a
retry policy: https://cloud.google.com/pubsub/docs/handling-failures).
"""

from __future__ import annotations

import pytest
from faststream.exceptions import StopConsume
from pubsub_it_helpers import make_broker, pull_now, wait_until

from faststream_gcp_pubsub.errors import ProvisioningError
from worker.devenv.emulators import ManagedProcess

pytestmark = pytest.mark.integration


async def test_get_one_pulls_a_message_that_nack_gives_back_and_ack_settles(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    jobs = broker.subscriber(f"{unique_name}-sub", topic=unique_name)
    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish({"n": 1}, unique_name)
        first = await jobs.get_one(timeout=20)
        assert first is not None
        assert await first.decode() == {"n": 1}
        await first.nack()
        again = await jobs.get_one(timeout=20)
        assert again is not None
        assert again.message_id == first.message_id
        await again.ack()
        assert await jobs.get_one(timeout=2) is None  # nothing left: an empty Pull
    assert pull_now(f"{unique_name}-sub") == []


async def test_iterating_a_subscriber_reads_each_message(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    jobs = broker.subscriber(f"{unique_name}-sub", topic=unique_name)
    seen: list[str] = []
    await broker.provision()
    async with broker:
        await broker.start()
        await broker.publish_batch("a", "b", topic=unique_name)
        async for message in jobs:
            seen.append(await message.decode())
            await message.ack()
            if len(seen) == 2:
                break
    assert sorted(seen) == ["a", "b"]
    assert pull_now(f"{unique_name}-sub") == []


async def test_stop_consume_stops_one_subscriber_the_other_keeps_consuming(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    stopped: list[str] = []
    kept: list[str] = []

    @broker.subscriber(f"{unique_name}-stop", topic=unique_name)
    async def stopping(body: str) -> None:
        stopped.append(body)
        raise StopConsume

    @broker.subscriber(f"{unique_name}-keep", topic=unique_name)
    async def keeping(body: str) -> None:
        kept.append(body)

    await broker.provision()
    await broker.start()
    try:
        await broker.publish("first", unique_name)
        await wait_until(lambda: bool(stopped) and bool(kept), 30, "both got the first")
        await broker.publish("second", unique_name)
        await wait_until(lambda: len(kept) == 2, 30, "the kept subscriber got the second")
    finally:
        await broker.stop()  # clean: no ExceptionGroup, no RecursionError
    assert stopped == ["first"]
    assert kept == ["first", "second"]


async def test_a_late_subscriber_is_provisioned_when_the_broker_provisioned(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    seen: list[str] = []
    await broker.provision()
    await broker.start()
    try:
        late = broker.subscriber(f"{unique_name}-late", topic=unique_name)

        @late
        async def handle(body: str) -> None:
            seen.append(body)

        await late.start()
        await broker.publish("x", unique_name)
        await wait_until(lambda: seen == ["x"], 30, "the late subscriber's message")
    finally:
        await broker.stop()


async def test_a_late_subscriber_without_its_subscription_names_what_is_missing(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    broker = make_broker()
    await broker.start()
    try:
        late = broker.subscriber(f"{unique_name}-late", topic=unique_name)

        @late
        async def handle(body: str) -> None: ...

        with pytest.raises(ProvisioningError, match=f"'{unique_name}-late' of topic"):
            await late.start()
    finally:
        await broker.stop()
