"""``TestPubSubBroker``: FastStream's in-memory test client, with Pub/Sub's semantics.

Inside ``async with TestPubSubBroker(broker) as br:`` the broker talks to a fresh
:class:`~faststream_gcp_pubsub.transport.memory.MemoryTransport` whose topics and subscriptions
are created from the declarations. ``await br.publish(...)`` returns once everything it
set off has settled: handlers ran, dead letters were forwarded, and handlers' own
publications were handled too. As in FastStream's other test clients:

- the first exception a handler, parser or decoder raised is raised from ``publish``
  (with its traceback), whatever the ack policy or dead-letter policy;
- ``request()`` is answered in memory by the handler's return value;
- publishing to a topic no subscriber or publisher declared raises ``SubscriberNotFound``.

By default each message is handled once per subscription: a message that was nacked
(by the ack policy after an error, or by the handler) is not delivered again. With
``redeliver=True`` the client models Pub/Sub's redelivery instead: nacked messages come
back with a growing ``delivery_attempt``, retry backoff is played on a virtual clock (ten
minutes take no time) and the dead-letter policy forwards them after their last attempt;
the first error is then raised once redeliveries ran their course.

Leases never run out here (no real time passes). A subscription without a declared
topic is attached to a topic of the same name.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import deque
from collections.abc import AsyncGenerator, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, overload
from unittest import mock

from faststream._internal.testing.broker import EnterType, TestBroker, change_producer
from faststream.exceptions import SubscriberNotFound
from typing_extensions import override

from faststream_gcp_pubsub.batch import DeliveryBatch
from faststream_gcp_pubsub.broker.broker import PubSubBroker
from faststream_gcp_pubsub.subscriber.usecase import (
    PubSubBatchSubscriber,
    PubSubSubscriberBase,
)
from faststream_gcp_pubsub.testing_producer import DrainingProducer
from faststream_gcp_pubsub.transport.base import Delivery, OutgoingMessage, StreamOptions
from faststream_gcp_pubsub.transport.clock import ManualClock
from faststream_gcp_pubsub.transport.memory import MemoryTransport
from faststream_gcp_pubsub.transport.memory_subscription import MemoryConsumer, MemoryDelivery

if TYPE_CHECKING:
    from faststream.response import Response

    from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher

DEFAULT_MAX_DELIVERIES = 10_000


class TestPubSubBroker(TestBroker[PubSubBroker, EnterType], broker=PubSubBroker):
    """In-memory test client for :class:`PubSubBroker`.

    Args:
        redeliver: model Pub/Sub's redelivery of nacked messages (retry backoff,
            ``delivery_attempt``, dead-letter policy) instead of handling each message
            once per subscription.
        max_deliveries_per_publish: with ``redeliver``, a guard against a message nacked
            forever (no dead-letter policy): ``publish`` raises once this many ran.
    """

    @overload
    def __init__(
        self: TestPubSubBroker[PubSubBroker],
        broker: PubSubBroker,
        /,
        *,
        with_real: bool = False,
        connect_only: bool | None = None,
        redeliver: bool = False,
        max_deliveries_per_publish: int = DEFAULT_MAX_DELIVERIES,
    ) -> None: ...

    @overload
    def __init__(
        self: TestPubSubBroker[tuple[PubSubBroker, ...]],
        *brokers: PubSubBroker,
        with_real: bool = False,
        connect_only: bool | None = None,
        redeliver: bool = False,
        max_deliveries_per_publish: int = DEFAULT_MAX_DELIVERIES,
    ) -> None: ...

    def __init__(
        self,
        *brokers: PubSubBroker,
        with_real: bool = False,
        connect_only: bool | None = None,
        redeliver: bool = False,
        max_deliveries_per_publish: int = DEFAULT_MAX_DELIVERIES,
    ) -> None:
        super().__init__(*brokers, with_real=with_real, connect_only=connect_only)
        self.redeliver = redeliver
        self.max_deliveries_per_publish = max_deliveries_per_publish
        self._project = brokers[0].project if brokers else "local-project"
        self._pending: deque[tuple[PubSubSubscriberBase[Any], Delivery]] = deque()
        self._attached: set[str] = set()
        self._draining = False
        self._fake_names = itertools.count(1)
        self._fresh_transport()

    def _fresh_transport(self) -> None:
        self.clock = ManualClock()
        self.transport = MemoryTransport(self._project, clock=self.clock, expire_leases=False)
        self._pending.clear()
        self._attached.clear()

    @asynccontextmanager
    async def _create_ctx(self) -> AsyncGenerator[list[PubSubBroker], None]:
        # Entered again, the client starts from nothing, as a new one would.
        self._fresh_transport()
        async with super()._create_ctx() as brokers:
            yield brokers

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
            if _topic_of(subscriber) == publisher.topic:
                return subscriber, True
        fake = broker.subscriber(
            f"{publisher.topic}-test-{next(self._fake_names)}",
            topic=publisher.topic,
            persistent=False,
        )
        return fake, False

    @contextmanager
    def _patch_broker(self, broker: PubSubBroker) -> Generator[None, None, None]:
        with (
            mock.patch.object(broker, "transport", self.transport),
            mock.patch.object(broker.config.broker_config, "in_test_client", new=True),
            super()._patch_broker(broker),
        ):
            yield

    @contextmanager
    def _patch_producer(self, broker: PubSubBroker) -> Generator[None, None, None]:
        producer = DrainingProducer(self, broker.config.broker_config.producer)
        with change_producer(broker.config.broker_config, producer):
            yield

    @override
    async def _fake_connect(self, broker: PubSubBroker, *args: Any, **kwargs: Any) -> None:
        broker.config.broker_config.connect(self.transport)

    @override
    def _fake_start(self, broker: PubSubBroker, *args: Any, **kwargs: Any) -> None:
        super()._fake_start(broker, *args, **kwargs)
        if not self.with_real:
            self.declare_new()

    def declare_new(self) -> None:
        """Create what declared subscribers and publishers need and attach the
        subscribers with handlers; again at each publish, for those added since."""
        server = self.transport.server
        for subscriber in self._subscribers():
            if subscriber.subscription in self._attached:
                continue
            topic = _topic_of(subscriber)
            spec = dataclasses.replace(subscriber.spec, topic=topic)
            resources = subscriber.resources()
            for name in (topic, *resources.topics):
                server.create_topic(name)
            for subscription in (spec, *resources.subscriptions[1:]):
                server.create_subscription(subscription)
            # A subscriber without handler is read with get_one / async for instead.
            if subscriber.calls:
                self._attached.add(spec.name)
                subscriber._build_fastdepends_model()
                for call in subscriber.calls:
                    call.handler.set_test()
                deliver = functools.partial(self._collect, subscriber)
                server.subscriptions[spec.name].attach(MemoryConsumer(deliver, StreamOptions()))
        for broker in self.brokers:
            for publisher in broker.publishers:
                server.create_topic(getattr(publisher, "topic", ""))

    def _collect(self, subscriber: PubSubSubscriberBase[Any], delivery: Delivery) -> None:
        self._pending.append((subscriber, delivery))

    def require_topic(self, topic: str) -> None:
        """FastStream's test clients refuse a destination nothing declared."""
        self.declare_new()
        if not self.transport.server.has_topic(topic):
            msg = f"no subscriber or publisher declares topic {topic!r}"
            raise SubscriberNotFound(msg)

    async def drain(self) -> None:
        """Handle every delivery due (with ``redeliver``, jumping the virtual clock over
        retry backoffs); raise the first error a handler raised."""
        if self._draining:
            return  # a handler published: the outer drain picks the deliveries up
        self._draining = True
        errors: list[Exception] = []
        handled = 0
        try:
            while True:
                while self._pending:
                    subscriber, delivery = self._pending.popleft()
                    if _finished(delivery):
                        continue
                    handled += 1
                    if self.redeliver and handled > self.max_deliveries_per_publish:
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

    async def answer(self, topic: str, message: OutgoingMessage) -> tuple[str, Response]:
        """Publish a request and return the first subscriber's response to it; the copies
        other subscriptions got are handled as a publish's would be."""
        self.require_topic(topic)
        [message_id] = await self.transport.publish(topic, [message])
        due = [
            i for i, (_, delivery) in enumerate(self._pending) if delivery.message_id == message_id
        ]
        if not due:
            msg = f"no subscriber consumes topic {topic!r} to answer the request"
            raise SubscriberNotFound(msg)
        subscriber, delivery = self._pending[due[0]]
        del self._pending[due[0]]
        try:
            response = await self._handle(subscriber, delivery)
        finally:
            await self.drain()
        return message_id, response

    async def _handle(self, subscriber: PubSubSubscriberBase[Any], delivery: Delivery) -> Response:
        """One delivery; for a batch subscriber, with the next ones due to it (the
        batch a real stream would have had waiting), up to its ``max_batch``."""
        batch = [delivery]
        try:
            if isinstance(subscriber, PubSubBatchSubscriber):
                limit: int = subscriber.max_batch
                while self._pending and len(batch) < limit:
                    if self._pending[0][0] is not subscriber:
                        break
                    batch.append(self._pending.popleft()[1])
                raw = DeliveryBatch(subscriber.subscription, batch)
                return await subscriber.process_message(raw)
            return await subscriber.process_message(delivery)
        finally:
            if not self.redeliver:
                for handled in batch:
                    self._forget_if_nacked(handled)

    def _forget_if_nacked(self, delivery: Delivery) -> None:
        """Without ``redeliver``, a nacked message is not delivered again."""
        if isinstance(delivery, MemoryDelivery) and delivery.settled and not delivery.finished:
            self.transport.server.subscriptions[delivery.subscription].drop(delivery)


def _topic_of(subscriber: PubSubSubscriberBase[Any]) -> str:
    return subscriber.spec.topic or subscriber.subscription


def _finished(delivery: Delivery) -> bool:
    return isinstance(delivery, MemoryDelivery) and delivery.finished
