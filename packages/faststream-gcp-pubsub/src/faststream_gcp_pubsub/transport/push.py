"""Push delivery: Pub/Sub POSTs each message; the broker's subscribers handle it as if pulled.

:class:`PushTransport` wraps the transport the broker would use anyway (gRPC or the
in-memory model): publishing, provisioning and ``ping`` go through it unchanged. Only
consuming differs: a subscriber's ``open_stream`` opens no streaming pull but registers
a :class:`PushStream`, and :meth:`PushTransport.push` hands each pushed message, as a
:class:`PushDelivery`, to the subscriber that owns its subscription. The subscriber
processes it exactly as a pulled one (same parser, middlewares, handler, ack policy);
settling the delivery resolves what ``push`` returns:

- ack, including a dead letter published by the worker then acked → ``"ack"`` (the
  endpoint answers 2xx and Pub/Sub drops the message);
- nack → ``"nack"`` (the endpoint answers 5xx; the subscription's retry policy backs
  off and its dead-letter policy is the backstop).

Leases do not exist in push mode: Pub/Sub waits for the response up to the
subscription's ack deadline, so extending one is a no-op. A delivery nobody settles
within the stream's ``max_lease_duration_s`` counts as nacked, as a pulled message
whose lease ran out would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from faststream_gcp_pubsub.errors import TransientBrokerError, UnknownSubscriptionError
from faststream_gcp_pubsub.push import PushEnvelope
from faststream_gcp_pubsub.transport.base import (
    Admin,
    Delivery,
    DeliveryCallback,
    OutgoingMessage,
    PublishFunc,
    StreamOptions,
    Transport,
)

PushOutcome = Literal["ack", "nack"]


class PushDelivery(Delivery):
    """One pushed message; its first settlement resolves ``outcome``."""

    __slots__ = ("_envelope", "outcome")

    def __init__(
        self,
        envelope: PushEnvelope,
        forward: PublishFunc,
        outcome: asyncio.Future[PushOutcome],
    ) -> None:
        super().__init__(envelope.subscription, forward)
        self._envelope = envelope
        self.outcome = outcome

    @property
    def message_id(self) -> str:
        return self._envelope.message_id

    @property
    def data(self) -> bytes:
        return self._envelope.data

    @property
    def attributes(self) -> Mapping[str, str]:
        return self._envelope.attributes

    @property
    def ordering_key(self) -> str:
        return self._envelope.ordering_key

    @property
    def publish_time(self) -> datetime:
        return self._envelope.publish_time

    @property
    def delivery_attempt(self) -> int | None:
        return self._envelope.delivery_attempt

    async def _ack(self) -> None:
        self._resolve("ack")

    async def _nack(self) -> None:
        self._resolve("nack")

    async def modify_ack_deadline(self, seconds: int) -> None:
        # The push request's own deadline is the lease; only "give it back" means anything.
        if seconds <= 0:
            await self.nack()

    def _resolve(self, outcome: PushOutcome) -> None:
        if not self.outcome.done():
            self.outcome.set_result(outcome)


class PushStream:
    """Stands where a streaming pull would: the subscriber's inbox for pushed messages."""

    def __init__(self, subscription: str, deliver: DeliveryCallback, max_wait_s: float) -> None:
        self.subscription = subscription
        self.deliver = deliver
        self.max_wait_s = max_wait_s
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )

    @property
    def closed(self) -> bool:
        return self._closed.done()

    async def wait_closed(self) -> BaseException | None:
        return await asyncio.shield(self._closed)

    async def close(self, unsettled: Sequence[Delivery] = ()) -> None:
        # The subscriber marked these settled already; their requests still wait for an answer.
        for delivery in unsettled:
            await delivery._nack()
        if not self._closed.done():
            self._closed.set_result(None)


class PushTransport:
    """``inner`` for everything but consuming; consuming is fed by :meth:`push`."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.project = inner.project
        self._streams: dict[str, PushStream] = {}

    @property
    def admin(self) -> Admin:
        return self.inner.admin

    @property
    def provisions_on_start(self) -> bool:
        return self.inner.provisions_on_start

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """The subscriptions a running subscriber takes pushes for."""
        return tuple(name for name, stream in self._streams.items() if not stream.closed)

    async def connect(self) -> None:
        await self.inner.connect()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        return await self.inner.publish(topic, messages)

    def open_stream(
        self, subscription: str, options: StreamOptions, deliver: DeliveryCallback
    ) -> PushStream:
        stream = PushStream(subscription, deliver, options.max_lease_duration_s)
        self._streams[subscription] = stream
        return stream

    async def push(self, envelope: PushEnvelope) -> PushOutcome:
        """Have the owning subscriber handle ``envelope``; how it was settled.

        Raises :class:`UnknownSubscriptionError` when no subscriber of this project ever
        consumed the subscription, :class:`TransientBrokerError` when its subscriber is
        stopped (shutting down: Pub/Sub should try again, elsewhere or later).
        """
        where = f"push to projects/{envelope.project}/subscriptions/{envelope.subscription}"
        stream = self._streams.get(envelope.subscription)
        if stream is None or envelope.project != self.project:
            msg = f"no subscriber consumes it (project {self.project})"
            raise UnknownSubscriptionError(msg, where=where)
        if stream.closed:
            raise TransientBrokerError("its subscriber is stopped", where=where)
        outcome: asyncio.Future[PushOutcome] = asyncio.get_running_loop().create_future()
        delivery = PushDelivery(envelope, self.inner.publish, outcome)
        stream.deliver(delivery)
        try:
            async with asyncio.timeout(stream.max_wait_s):
                # Shielded: a request that goes away must not cancel the settlement.
                return await asyncio.shield(outcome)
        except TimeoutError:
            # Like a lease that ran out: a late ack or nack is ignored.
            delivery.mark_settled()
            return "nack"


def push_transport(
    project: str, *, in_memory: bool, publish_timeout_s: float = 60.0
) -> PushTransport:
    """A push transport over the in-memory model or Google's client."""
    if in_memory:
        from faststream_gcp_pubsub.transport.memory import MemoryTransport

        return PushTransport(MemoryTransport(project))
    # Imported here so the in-memory runtime never loads Google's client.
    from faststream_gcp_pubsub.transport.grpc import GrpcTransport

    return PushTransport(GrpcTransport(project, publish_timeout_s=publish_timeout_s))
