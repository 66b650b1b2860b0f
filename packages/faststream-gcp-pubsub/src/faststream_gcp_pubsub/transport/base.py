"""The seam between the broker and a Pub/Sub implementation.

One broker, two transports: :class:`~faststream_gcp_pubsub.transport.grpc.GrpcTransport` (Google's
client: streaming pull, batching publisher, admin API) and
:class:`~faststream_gcp_pubsub.transport.memory.MemoryTransport` (an in-process model of the
service). The broker, its subscribers and the provisioner only see the types here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from faststream_gcp_pubsub.deadletter import origin_attributes, original_attributes
from faststream_gcp_pubsub.specs import SubscriptionSpec


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    data: bytes
    attributes: Mapping[str, str]
    ordering_key: str = ""


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """How the publisher client groups messages into one publish request."""

    max_messages: int = 100
    max_bytes: int = 1_000_000
    max_latency_s: float = 0.01


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Flow control for one subscriber's stream."""

    max_messages: int = 100
    max_bytes: int = 100 * 1024 * 1024
    max_lease_duration_s: float = 3600.0
    lease_extension_s: float = 60.0
    """Each lease extension (and the stream's ack deadline): how soon a message whose
    consumer vanished comes back. The subscriber uses the subscription's ack deadline."""


DeliveryCallback = Callable[["Delivery"], None]
"""Called on the event loop thread, once per delivered message."""

PublishFunc = Callable[[str, Sequence[OutgoingMessage]], Awaitable[list[str]]]


class Delivery(ABC):
    """One delivery of one message to one subscription: the broker's raw message.

    Settling (ack, nack, dead-letter) is idempotent: the first call wins, later ones are
    ignored, so the acknowledgement middleware and a handler can both try safely.
    """

    __slots__ = ("_on_settled", "forward", "settled", "subscription")

    def __init__(
        self,
        subscription: str,
        forward: PublishFunc | None = None,
    ) -> None:
        self.subscription = subscription
        self.settled = False
        self.forward = forward
        self._on_settled: Callable[[Delivery], None] | None = None

    @property
    @abstractmethod
    def message_id(self) -> str: ...

    @property
    @abstractmethod
    def data(self) -> bytes: ...

    @property
    @abstractmethod
    def attributes(self) -> Mapping[str, str]: ...

    @property
    @abstractmethod
    def ordering_key(self) -> str: ...

    @property
    @abstractmethod
    def publish_time(self) -> datetime: ...

    @property
    @abstractmethod
    def delivery_attempt(self) -> int | None:
        """1-based attempt counter; None unless the subscription has a dead-letter policy."""

    @property
    def settling_waits_for_server(self) -> bool:
        """True when ack/nack wait for the server's answer (exactly-once delivery, a
        stream that ended); False when they only queue a request."""
        return False

    @abstractmethod
    async def _ack(self) -> None: ...

    @abstractmethod
    async def _nack(self) -> None: ...

    @abstractmethod
    async def modify_ack_deadline(self, seconds: int) -> None:
        """Keep the lease for ``seconds`` more from now (0 = give the message back)."""

    def on_settled(self, callback: Callable[[Delivery], None]) -> None:
        self._on_settled = callback

    def mark_settled(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        if self._on_settled is not None:
            self._on_settled(self)
        return True

    async def ack(self) -> None:
        if self.mark_settled():
            await self._ack()

    async def nack(self) -> None:
        """Give the message back now: redelivered subject to the retry policy."""
        if self.mark_settled():
            await self._nack()

    async def dead_letter(self, topic: str, extra_attributes: Mapping[str, str]) -> None:
        """Publish the original bytes and attributes (plus why) to ``topic``, then ack.

        Attributes a former dead-lettering added (a replayed message that failed again)
        are dropped first, so the letter describes its latest failure only."""
        if self.settled:
            return
        if self.forward is None:
            msg = f"delivery {self.message_id} of {self.subscription} cannot publish dead letters"
            raise RuntimeError(msg)
        attributes = {
            **original_attributes(self.attributes),
            **self.dead_letter_attributes(),
            **extra_attributes,
        }
        await self.forward(topic, [OutgoingMessage(self.data, attributes, self.ordering_key)])
        await self.ack()

    def dead_letter_attributes(self) -> dict[str, str]:
        """Where the dead letter came from (``x-source-subscription`` and the rest)."""
        return origin_attributes(
            self.subscription, self.message_id, self.delivery_attempt, datetime.now(UTC)
        )


class Stream(Protocol):
    """A running subscription consumer."""

    async def wait_closed(self) -> BaseException | None:
        """Wait until the stream ends; the error that ended it, None when closed by us."""
        ...

    async def close(self, unsettled: Sequence[Delivery] = ()) -> None:
        """Stop pulling, give ``unsettled`` back (nack) once no more can arrive, flush."""
        ...


@dataclass(frozen=True, slots=True)
class TopicState:
    name: str


class Admin(Protocol):
    """Resource management; short names in, short names out (the project is implied)."""

    async def get_topic(self, name: str) -> TopicState | None: ...

    async def create_topic(self, name: str) -> None: ...

    async def get_subscription(self, name: str) -> SubscriptionSpec | None: ...

    async def create_subscription(self, spec: SubscriptionSpec) -> None: ...


class Transport(Protocol):
    project: str

    @property
    def admin(self) -> Admin: ...

    @property
    def provisions_on_start(self) -> bool:
        """True when nothing exists until declared (the in-memory model)."""
        ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the service answers; the caller bounds the wait."""
        ...

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]: ...

    def open_stream(
        self, subscription: str, options: StreamOptions, deliver: DeliveryCallback
    ) -> Stream: ...


@runtime_checkable
class PullingTransport(Transport, Protocol):
    """A transport that can also hand out one message on request (unary Pull)."""

    async def pull(self, subscription: str, wait_s: float) -> Delivery | None:
        """One message leased to the caller; None when none came within ``wait_s`` seconds."""
        ...
