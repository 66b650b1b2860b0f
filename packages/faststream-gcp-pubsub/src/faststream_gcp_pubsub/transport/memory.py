"""An in-process Pub/Sub: the transport behind ``WORKER_BROKER=memory`` and the test broker.

Topics fan out to their subscriptions; each subscription is a
:class:`~faststream_gcp_pubsub.transport.memory_subscription.MemorySubscription` with the same
settings a real one has. Nothing survives the process. Subscription filters are not
applied (as on Google's emulator).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from faststream_gcp_pubsub.errors import BrokerError
from faststream_gcp_pubsub.specs import SubscriptionSpec
from faststream_gcp_pubsub.transport.base import (
    Delivery,
    DeliveryCallback,
    OutgoingMessage,
    StreamOptions,
    TopicState,
)
from faststream_gcp_pubsub.transport.clock import Clock, LoopClock
from faststream_gcp_pubsub.transport.memory_subscription import (
    MemoryConsumer,
    MemoryDelivery,
    MemorySubscription,
    StoredMessage,
)


class MemoryServer:
    """The state of one in-memory Pub/Sub project."""

    def __init__(self, project: str, clock: Clock, *, expire_leases: bool) -> None:
        self.project = project
        self.clock = clock
        self.expire_leases = expire_leases
        self._topics: dict[str, list[MemorySubscription]] = {}
        self.subscriptions: dict[str, MemorySubscription] = {}
        self._ids = itertools.count(1)

    def has_topic(self, name: str) -> bool:
        return name in self._topics

    def create_topic(self, name: str) -> None:
        self._topics.setdefault(name, [])

    def create_subscription(self, spec: SubscriptionSpec) -> None:
        if spec.name in self.subscriptions:
            return
        if spec.topic is None or spec.topic not in self._topics:
            msg = f"cannot create subscription: topic {spec.topic!r} does not exist"
            raise BrokerError(msg, where=f"memory pubsub subscription {spec.name}")
        subscription = MemorySubscription(spec, self)
        self.subscriptions[spec.name] = subscription
        self._topics[spec.topic].append(subscription)

    def publish_now(
        self, topic: str, data: bytes, attributes: Mapping[str, str], ordering_key: str
    ) -> str:
        subscriptions = self._topics.get(topic)
        if subscriptions is None:
            msg = "topic does not exist"
            raise BrokerError(msg, where=f"memory pubsub topic {topic}")
        message = StoredMessage(
            message_id=str(next(self._ids)),
            data=data,
            attributes=dict(attributes),
            ordering_key=ordering_key,
            publish_time=datetime.now(UTC),
        )
        for subscription in subscriptions:
            subscription.enqueue(message)
        return message.message_id

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        return [self.publish_now(topic, m.data, m.attributes, m.ordering_key) for m in messages]


class MemoryAdmin:
    def __init__(self, server: MemoryServer) -> None:
        self._server = server

    async def get_topic(self, name: str) -> TopicState | None:
        return TopicState(name) if self._server.has_topic(name) else None

    async def create_topic(self, name: str) -> None:
        self._server.create_topic(name)

    async def get_subscription(self, name: str) -> SubscriptionSpec | None:
        subscription = self._server.subscriptions.get(name)
        return subscription.spec if subscription else None

    async def create_subscription(self, spec: SubscriptionSpec) -> None:
        self._server.create_subscription(spec)


class MemoryStream:
    def __init__(self, server: MemoryServer, subscription: str, consumer: MemoryConsumer) -> None:
        self._consumer = consumer
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._subscription = server.subscriptions.get(subscription)
        if self._subscription is None:
            error = BrokerError(
                "subscription does not exist", where=f"memory pubsub subscription {subscription}"
            )
            self._closed.set_result(error)
        else:
            self._subscription.attach(consumer)

    async def wait_closed(self) -> BaseException | None:
        return await asyncio.shield(self._closed)

    async def close(self, unsettled: Sequence[Delivery] = ()) -> None:
        if self._subscription is not None:
            self._subscription.detach(self._consumer)
            for delivery in unsettled:
                if isinstance(delivery, MemoryDelivery):
                    self._subscription.nack(delivery)
        if not self._closed.done():
            self._closed.set_result(None)


class MemoryTransport:
    """The in-memory transport. ``expire_leases=False`` keeps leases until settled."""

    def __init__(
        self,
        project: str = "local-project",
        *,
        clock: Clock | None = None,
        expire_leases: bool = True,
    ) -> None:
        self.project = project
        self.server = MemoryServer(project, clock or LoopClock(), expire_leases=expire_leases)
        self.admin = MemoryAdmin(self.server)

    @property
    def provisions_on_start(self) -> bool:
        return True

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        return await self.server.publish(topic, messages)

    def open_stream(
        self, subscription: str, options: StreamOptions, deliver: DeliveryCallback
    ) -> MemoryStream:
        return MemoryStream(self.server, subscription, MemoryConsumer(deliver, options))

    async def pull(self, subscription: str, wait_s: float) -> Delivery | None:
        """One message leased to the caller (a unary Pull), None if none within ``wait_s`` s."""
        target = self.server.subscriptions.get(subscription)
        if target is None:
            msg = "subscription does not exist"
            raise BrokerError(msg, where=f"memory pubsub subscription {subscription}")
        got: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()

        def deliver(delivery: Delivery) -> None:
            if got.done() and isinstance(delivery, MemoryDelivery):
                target.nack(delivery)
            elif not got.done():
                got.set_result(delivery)

        consumer = MemoryConsumer(deliver, StreamOptions(max_messages=1))
        target.attach(consumer)
        try:
            async with asyncio.timeout(wait_s):
                return await got
        except TimeoutError:
            return None
        finally:
            target.detach(consumer)
