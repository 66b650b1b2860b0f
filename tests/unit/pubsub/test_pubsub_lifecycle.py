"""Lifecycle and dynamic use, as FastStream documents them for every broker.

- ``StopConsume`` raised in a handler stops that subscriber only
  (https://faststream.ag2.ai/latest/getting-started/subscription/ "stop consuming";
  ``faststream.exceptions.StopConsume``).
- ``await subscriber.get_one(timeout=...)`` and ``async for msg in subscriber`` read a
  subscriber declared without a handler; the caller settles each message
  (https://faststream.ag2.ai/latest/getting-started/subscription/ "Messages consuming
  via get_one / iteration").

On the in-memory transport (same broker machinery as on Google's) and in the test client.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from faststream.exceptions import SetupError, StopConsume

from faststream_gcp_pubsub import PubSubBroker, PubSubRouter, TestPubSubBroker
from faststream_gcp_pubsub.errors import ProvisioningError


async def _until(condition: object, what: str) -> None:
    for _ in range(500):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_stop_consume_stops_only_that_subscriber_and_shutdown_is_clean() -> None:
    broker = PubSubBroker(in_memory=True, logger=None)
    stopped: list[str] = []
    kept: list[str] = []

    @broker.subscriber("stopping-sub", topic="events")
    async def stopping(body: str) -> None:
        stopped.append(body)
        raise StopConsume

    @broker.subscriber("keeping-sub", topic="events")
    async def keeping(body: str) -> None:
        kept.append(body)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # a self-cancelling stop recursed past any limit
    try:
        await broker.start()
        await broker.publish("first", "events")
        await _until(lambda: kept == ["first"] and stopped == ["first"], "first delivered")
        await broker.publish("second", "events")
        await _until(lambda: kept == ["first", "second"], "second delivered")
        running = {s.subscription: s.running for s in broker.subscribers}
        await broker.stop()  # raises nothing: no ExceptionGroup, no RecursionError
    finally:
        sys.setrecursionlimit(limit)

    assert stopped == ["first"]
    assert running == {"stopping-sub": False, "keeping-sub": True}
    # The message it stopped on (nacked, as any error) and the next wait for it.
    assert broker.transport.server.subscriptions["stopping-sub"].backlog == 2


async def test_get_one_pulls_one_message_that_the_caller_settles() -> None:
    broker = PubSubBroker(in_memory=True, logger=None)
    jobs = broker.subscriber("jobs-sub", topic="jobs")
    await broker.start()
    try:
        assert await jobs.get_one(timeout=0.05) is None
        await broker.publish({"n": 1}, "jobs")
        message = await jobs.get_one(timeout=1)
        assert message is not None
        assert await message.decode() == {"n": 1}
        await message.nack()
        again = await jobs.get_one(timeout=1)
        assert again is not None
        assert again.message_id == message.message_id
        await again.ack()
        assert await jobs.get_one(timeout=0.05) is None
    finally:
        await broker.stop()
    assert broker.transport.server.subscriptions["jobs-sub"].backlog == 0


async def test_iterating_a_subscriber_yields_messages_in_turn() -> None:
    broker = PubSubBroker(in_memory=True, logger=None)
    jobs = broker.subscriber("jobs-sub", topic="jobs")
    await broker.start()
    seen: list[str] = []
    try:
        await broker.publish_batch("a", "b", "c", topic="jobs")
        async for message in jobs:
            seen.append(await message.decode())
            await message.ack()
            if len(seen) == 3:
                break
    finally:
        await broker.stop()
    assert seen == ["a", "b", "c"]


async def test_get_one_on_a_subscriber_with_handlers_is_refused() -> None:
    broker = PubSubBroker(in_memory=True, logger=None)

    @broker.subscriber("jobs-sub", topic="jobs")
    async def handle(body: str) -> None: ...

    sub = next(iter(broker.subscribers))
    await broker.start()
    try:
        with pytest.raises(SetupError, match=r"'jobs-sub'.*has handlers"):
            await sub.get_one(timeout=0.05)
    finally:
        await broker.stop()


async def test_get_one_and_iteration_work_in_the_test_client() -> None:
    broker = PubSubBroker(logger=None)
    jobs = broker.subscriber("jobs-sub", topic="jobs")

    async with TestPubSubBroker(broker) as br:
        await br.publish("one", "jobs")
        await br.publish("two", "jobs")
        first = await jobs.get_one(timeout=1)
        assert first is not None
        assert await first.decode() == "one"
        await first.ack()
        async for message in jobs:
            assert await message.decode() == "two"
            await message.ack()
            break
        assert await jobs.get_one(timeout=0.05) is None


async def test_stop_consume_in_the_test_client_reaches_the_caller_as_elsewhere() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("jobs-sub", topic="jobs")
    async def handle(body: str) -> None:
        raise StopConsume

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(StopConsume):
            await br.publish("x", "jobs")


async def test_a_subscriber_added_after_start_is_provisioned_and_consumes() -> None:
    """FastStream's dynamic subscribers: ``broker.subscriber(...)`` on a running broker,
    then ``await sub.start()`` (https://faststream.ag2.ai/latest/getting-started/
    subscription/ "Dynamic subscribers"); a router included later works the same."""
    broker = PubSubBroker(in_memory=True, logger=None)
    seen: list[str] = []
    await broker.start()
    try:
        late = broker.subscriber("late-sub", topic="late")

        @late
        async def handle(body: str) -> None:
            seen.append(body)

        await late.start()
        router = PubSubRouter(prefix="r-")

        @router.subscriber("routed-sub", topic="routed")
        async def routed(body: str) -> None:
            seen.append(f"routed {body}")

        broker.include_router(router)
        for subscriber in router.subscribers:
            await subscriber.start()
        await broker.publish("x", "late")
        await broker.publish("y", "r-routed")
        await _until(lambda: len(seen) == 2, "both late subscribers consumed")
    finally:
        await broker.stop()
    assert sorted(seen) == ["routed y", "x"]


async def test_a_late_subscriber_whose_subscription_is_missing_names_it() -> None:
    broker = PubSubBroker(in_memory=True, provision_on_start=False, logger=None)
    await broker.start()
    try:
        late = broker.subscriber("late-sub", topic="late-topic")

        @late
        async def handle(body: str) -> None: ...

        with pytest.raises(ProvisioningError, match="'late-sub' of topic 'late-topic'"):
            await late.start()
    finally:
        await broker.stop()


async def test_a_subscriber_added_inside_the_test_client_is_delivered_to() -> None:
    broker = PubSubBroker(logger=None)

    async with TestPubSubBroker(broker) as br:
        late = br.subscriber("late-sub", topic="late")

        @late
        async def handle(body: str) -> None: ...

        await late.start()
        await br.publish("x", "late")
        handle.mock.assert_called_once_with("x")


async def test_a_late_subscriber_without_handler_is_provisioned_for_get_one() -> None:
    broker = PubSubBroker(in_memory=True, logger=None)
    await broker.start()
    try:
        late = broker.subscriber("late-pull-sub", topic="late-pull")
        await late.start()
        await broker.publish("x", "late-pull")
        message = await late.get_one(timeout=1)
        assert message is not None
        assert await message.decode() == "x"
        await message.ack()
    finally:
        await broker.stop()
