"""``TestPubSubBroker``: FastStream's in-memory test client, with Pub/Sub's semantics.

Inside ``async with TestPubSubBroker(broker) as br:`` the broker talks to a fresh
:class:`~faststream_gcp_pubsub.transport.memory.MemoryTransport` whose topics and subscriptions
are created from the declarations. ``await br.publish(...)`` returns once everything it
set off has settled: handlers ran, nacks were redelivered (retry backoff is played on a
virtual clock, so ten minutes take no time), dead letters were forwarded, and handlers'
own publications were handled too. As in FastStream's other test clients, the first
unhandled handler error is raised from ``publish`` (after redeliveries ran their course).

Leases never run out here (no real time passes). A subscription without a declared
topic is attached to a topic of the same name.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import deque
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, overload
from unittest import mock

from faststream._internal.testing.broker import EnterType, TestBroker, change_producer
from typing_extensions import override

from faststream_gcp_pubsub.batch import DeliveryBatch
from faststream_gcp_pubsub.broker.broker import PubSubBroker
from faststream_gcp_pubsub.publisher.producer import PubSubProducer
from faststream_gcp_pubsub.response import PubSubPublishCommand
from faststream_gcp_pubsub.subscriber.usecase import (
    PubSubBatchSubscriber,
    PubSubSubscriberBase,
)
from faststream_gcp_pubsub.transport.base import Delivery, StreamOptions
from faststream_gcp_pubsub.transport.clock import ManualClock
from faststream_gcp_pubsub.transport.memory import MemoryTransport
from faststream_gcp_pubsub.transport.memory_subscription import MemoryConsumer

if TYPE_CHECKING:
    from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher

DEFAULT_MAX_DELIVERIES = 10_000


class TestPubSubBroker(TestBroker[PubSubBroker, EnterType], broker=PubSubBroker):
    """In-memory test client for :class:`PubSubBroker`.

    Args:
        max_deliveries_per_publish: guard against a message nacked forever (no
            dead-letter policy): ``publish`` raises once this many deliveries ran.
    """

    @overload
    def __init__(
        self: TestPubSubBroker[PubSubBroker],
        broker: PubSubBroker,
        /,
        *,
        with_real: bool = False,
        connect_only: bool | None = None,
        max_deliveries_per_publish: int = DEFAULT_MAX_DELIVERIES,
    ) -> None: ...

    @overload
    def __init__(
        self: TestPubSubBroker[tuple[PubSubBroker, ...]],
        *brokers: PubSubBroker,
        with_real: bool = False,
        connect_only: bool | None = None,
        max_deliveries_per_publish: int = DEFAULT_MAX_DELIVERIES,
    ) -> None: ...

    def __init__(
        self,
        *brokers: PubSubBroker,
        with_real: bool = False,
        connect_only: bool | None = None,
        max_deliveries_per_publish: int = DEFAULT_MAX_DELIVERIES,
    ) -> None:
        super().__init__(*brokers, with_real=with_real, connect_only=connect_only)
        self.clock = ManualClock()
        project = brokers[0].project if brokers else "local-project"
        self.transport = MemoryTransport(project, clock=self.clock, expire_leases=False)
        self.max_deliveries_per_publish = max_deliveries_per_publish
        self._pending: deque[tuple[PubSubSubscriberBase[Any], Delivery]] = deque()
        self._attached: set[str] = set()
        self._draining = False
        self._fake_names = itertools.count(1)

    def _subscribers(self) -> Iterator[PubSubSubscriberBase[Any]]:
        for broker in self.brokers:
            for subscriber in broker.subscribers:
                if isinstance(subscriber, PubSubSubscriberBase):
                    yield subscriber

    @override
    def create_publisher_fake_subscriber(
        self, broker: PubSubBroker, publisher: PubSubPublisher
    ) -> tuple[PubSubSubscriberBase[Any], bool]:
        for subscriber in self._subscribers():
            if subscriber.spec.topic == publisher.topic:
                return subscriber, True
        fake = broker.subscriber(
            f"{publisher.topic}-test-{next(self._fake_names)}",
            topic=publisher.topic,
            persistent=False,
        )
        return fake, False

    @contextmanager
    def _patch_broker(self, broker: PubSubBroker) -> Generator[None, None, None]:
        with mock.patch.object(broker, "transport", self.transport), super()._patch_broker(broker):
            yield

    @contextmanager
    def _patch_producer(self, broker: PubSubBroker) -> Generator[None, None, None]:
        producer = _DrainingProducer(self, broker.config.broker_config.producer)
        with change_producer(broker.config.broker_config, producer):
            yield

    @override
    async def _fake_connect(self, broker: PubSubBroker, *args: Any, **kwargs: Any) -> None:
        broker.config.broker_config.connect(self.transport)

    @override
    def _fake_start(self, broker: PubSubBroker, *args: Any, **kwargs: Any) -> None:
        super()._fake_start(broker, *args, **kwargs)
        if self.with_real:
            return
        server = self.transport.server
        for subscriber in self._subscribers():
            topic = subscriber.spec.topic or subscriber.subscription
            spec = dataclasses.replace(subscriber.spec, topic=topic)
            resources = subscriber.resources()
            for name in (topic, *resources.topics):
                server.create_topic(name)
            for subscription in (spec, *resources.subscriptions[1:]):
                server.create_subscription(subscription)
            if spec.name not in self._attached:
                self._attached.add(spec.name)
                deliver = functools.partial(self._collect, subscriber)
                server.subscriptions[spec.name].attach(MemoryConsumer(deliver, StreamOptions()))
        for publisher in broker.publishers:
            server.create_topic(getattr(publisher, "topic", ""))

    def _collect(self, subscriber: PubSubSubscriberBase[Any], delivery: Delivery) -> None:
        self._pending.append((subscriber, delivery))

    async def drain(self) -> None:
        """Handle every delivery due, jumping the virtual clock over retry backoffs."""
        if self._draining:
            return  # a handler published: the outer drain picks the deliveries up
        self._draining = True
        errors: list[Exception] = []
        handled = 0
        try:
            while True:
                while self._pending:
                    subscriber, delivery = self._pending.popleft()
                    handled += 1
                    if handled > self.max_deliveries_per_publish:
                        msg = (
                            f"more than {self.max_deliveries_per_publish} deliveries for one "
                            f"publish; is {subscriber.subscription} nacking a message forever?"
                        )
                        raise RuntimeError(msg)
                    try:
                        await self._handle(subscriber, delivery)
                    except Exception as error:
                        errors.append(error)
                if not self.clock.advance():
                    break
        finally:
            self._draining = False
        if errors:
            raise errors[0]

    async def _handle(self, subscriber: PubSubSubscriberBase[Any], delivery: Delivery) -> None:
        """One delivery; for a batch subscriber, with the next ones due to it (the
        batch a real stream would have had waiting), up to its ``max_batch``."""
        if not isinstance(subscriber, PubSubBatchSubscriber):
            await subscriber.process_message(delivery)
            return
        max_batch: int = subscriber.max_batch
        batch = [delivery]
        while self._pending and len(batch) < max_batch:
            if self._pending[0][0] is not subscriber:
                break
            batch.append(self._pending.popleft()[1])
        await subscriber.process_message(DeliveryBatch(subscriber.subscription, batch))


class _DrainingProducer(PubSubProducer):
    """Publishes into the memory transport, then lets the test broker drain it."""

    def __init__(self, test_broker: TestPubSubBroker, real: PubSubProducer) -> None:
        super().__init__()
        self._parser = real._parser
        self._decoder = real._decoder
        self._test_broker = test_broker

    @override
    async def publish(self, cmd: PubSubPublishCommand) -> str:
        message_id = await super().publish(cmd)
        await self._test_broker.drain()
        return message_id

    @override
    async def publish_batch(self, cmd: PubSubPublishCommand) -> list[str]:
        message_ids = await super().publish_batch(cmd)
        await self._test_broker.drain()
        return message_ids
