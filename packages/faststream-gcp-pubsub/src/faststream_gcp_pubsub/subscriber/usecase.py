"""A Pub/Sub subscriber: one stream, ``max_workers`` handler tasks, supervision, drain.

Deliveries arrive on the event loop (see the transports), wait in an inbox and are
handled by ``max_workers`` tasks. Flow control (``max_messages``/``max_bytes``) bounds
what is leased at all; ``max_workers`` bounds what runs at once. An idle worker is woken
only when no other is already on its way, and a worker that takes a message while more
wait wakes the next one: a handler that awaits I/O gets company, while a burst of quick
handlers costs one wake-up instead of one per message.

Shutdown: stop taking new work, let running handlers finish within
``graceful_timeout``, nack everything still in hand (never ack what was not processed),
then close the stream, which flushes the acks and nacks already issued. The stream is
closed last on purpose: closing Google's streaming pull stops its ack dispatcher, so
in-flight handlers' acks would be lost. Flow control keeps the stream from sending more
than the budget meanwhile.

Reconnect: when the stream ends on its own (emulator restart, NOT_FOUND, retries
exhausted), it is reopened with exponential backoff; when the broker provisioned before,
the subscriber's resources are re-created first.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections import deque
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from faststream._internal.endpoint.subscriber import SubscriberUsecase
from typing_extensions import override

from faststream_gcp_pubsub.batch import DEFAULT_MAX_BATCH, DeliveryBatch, PubSubBatchParser
from faststream_gcp_pubsub.errors import BrokerError, ProvisioningError
from faststream_gcp_pubsub.parser import PubSubParser
from faststream_gcp_pubsub.provision import provision
from faststream_gcp_pubsub.publisher.fake import PubSubFakePublisher
from faststream_gcp_pubsub.specs import ResourceSet, SubscriptionSpec, resources_for
from faststream_gcp_pubsub.subscriber.ended_stream import EndedStream
from faststream_gcp_pubsub.subscriber.pulling import ITERATION_POLL_S, pull_message
from faststream_gcp_pubsub.subscriber.specification import with_prefix
from faststream_gcp_pubsub.transport.base import Delivery, Stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from faststream._internal.endpoint.publisher import PublisherProto
    from faststream._internal.endpoint.subscriber import SubscriberSpecification
    from faststream._internal.endpoint.subscriber.call_item import CallsCollection
    from faststream.message import StreamMessage

    from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
    from faststream_gcp_pubsub.subscriber.config import PubSubSubscriberConfig


RawT = TypeVar("RawT", bound="Delivery | DeliveryBatch")


class PubSubSubscriberBase(SubscriberUsecase[RawT], Generic[RawT]):
    """What single-message and batch subscribers share: stream, inbox, workers, stop."""

    _outer_config: PubSubBrokerConfig

    def __init__(
        self,
        config: PubSubSubscriberConfig,
        specification: SubscriberSpecification[Any, Any],
        calls: CallsCollection[RawT],
    ) -> None:
        parser = self._new_parser(config.spec.dead_letter_topic)
        config.parser, config.decoder = parser.parse_message, parser.decoder
        super().__init__(config, specification, calls)
        self._declared = config.spec
        self.stream_options = config.stream_options
        self.max_workers = config.max_workers
        self._inbox: deque[Delivery] = deque()
        self._idle: deque[asyncio.Future[None]] = deque()
        self._waking = False
        self._log_context = {"subscription": self.subscription, "message_id": ""}
        self._in_hand: set[Delivery] = set()
        self._stream: Stream | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._stop_task: asyncio.Task[None] | None = None
        self.stream_restarts = 0
        """How many times the stream was reopened after ending on its own."""

    @property
    def spec(self) -> SubscriptionSpec:
        """The subscription, with any router prefix applied."""
        return with_prefix(self._declared, self._outer_config.prefix)

    @property
    def subscription(self) -> str:
        return self.spec.name

    def resources(self) -> ResourceSet:
        return resources_for(self.spec)

    @abstractmethod
    def _new_parser(self, dead_letter_topic: str | None) -> PubSubParser | PubSubBatchParser: ...

    @abstractmethod
    def _take(self, inbox: deque[Delivery]) -> RawT | None:
        """What to handle next from a non-empty inbox; None when it was settled already."""

    @override
    async def start(self) -> None:
        # Built again: a router prefix (known only now) renames the dead-letter topic.
        parser = self._new_parser(self.spec.dead_letter_topic)
        self._parser, self._decoder = parser.parse_message, parser.decoder
        await super().start()
        self._log_context = {"subscription": self.subscription, "message_id": ""}
        self._stop_task = None
        in_test_client = self._outer_config.in_test_client
        if self._outer_config.running and not in_test_client:
            await self._ensure_resources()
        if self.calls and not in_test_client:
            self._stopping = False
            self._inbox.clear()
            self._idle.clear()
            self._waking = False
            self._stream = self._open_stream()
            self._tasks = [asyncio.create_task(self._supervise())]
            self._tasks += [asyncio.create_task(self._work()) for _ in range(self.max_workers)]
        self._post_start()

    async def _ensure_resources(self) -> None:
        """Started after the broker (a subscriber or router added later): its resources
        are created if the broker provisioned, else they must exist already."""
        admin = self._outer_config.transport.admin
        if self._outer_config.provisioned:
            await provision(admin, self.resources(), dry_run=False)
        elif await admin.get_subscription(self.subscription) is None:
            topic = f" of topic {self.spec.topic!r}" if self.spec.topic else ""
            msg = (
                f"subscription {self.subscription!r}{topic} does not exist; create it, or "
                "let the broker create it (provision_on_start=True or broker.provision())"
            )
            raise ProvisioningError(msg, where=f"subscriber {self.subscription}")

    def _open_stream(self) -> Stream:
        transport = self._outer_config.transport
        return transport.open_stream(self.subscription, self.stream_options, self._receive)

    def _receive(self, delivery: Delivery) -> None:
        delivery.on_settled(self._in_hand.discard)
        self._in_hand.add(delivery)
        self._inbox.append(delivery)
        self._wake_one()

    def _wake_one(self) -> None:
        if self._waking or not self._idle:
            return
        self._waking = True
        self._idle.popleft().set_result(None)

    async def _work(self) -> None:
        inbox = self._inbox
        while True:
            if not inbox:
                waiter = asyncio.get_running_loop().create_future()
                self._idle.append(waiter)
                try:
                    await waiter
                finally:
                    if waiter.done() and not waiter.cancelled():
                        self._waking = False
                    else:
                        self._idle.remove(waiter)
                continue
            taken = self._take(inbox)
            if inbox:
                self._wake_one()  # in case this handler awaits: the rest need not wait
            if taken is not None:
                # While stopping, ``consume`` skips it: it stays in hand and is nacked.
                await self.consume(taken)

    async def _supervise(self) -> None:
        first, ceiling = self._outer_config.reconnect_backoff
        delay = first
        loop = asyncio.get_running_loop()
        while True:
            stream = self._stream
            if stream is None:
                return
            opened_at = loop.time()
            outcome = await stream.wait_closed()
            if self._stopping:
                return
            if loop.time() - opened_at > ceiling:
                delay = first
            self._log(
                logging.WARNING,
                f"stream of {self.subscription} ended ({outcome or 'closed by the server'}); "
                f"reopening in {delay:g}s",
                extra=self.get_log_context(None),
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, ceiling)
            if self._outer_config.provisioned and self._outer_config.reprovision_on_reconnect:
                try:
                    await provision(
                        self._outer_config.transport.admin, self.resources(), dry_run=False
                    )
                except BrokerError as error:
                    self._log(
                        logging.WARNING,
                        f"re-provisioning {self.subscription} failed: {error}",
                        extra=self.get_log_context(None),
                    )
                    self._stream = EndedStream(error)
                    continue
            self._stream = self._open_stream()
            self.stream_restarts += 1

    @override
    async def stop(self) -> None:
        current = asyncio.current_task()
        if current in self._tasks:
            # A handler raised StopConsume (or called exit()): this very task is one of
            # those to stop, so the stop runs beside it; the broker's stop awaits it.
            self._stopping, self.running = True, False
            if self._stop_task is None:
                self._stop_task = asyncio.create_task(self.stop())
            return
        if self._stop_task is not None and self._stop_task is not current:
            await asyncio.shield(self._stop_task)
        self._stopping = True
        await super().stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        # Marked settled so nothing acks them late; the stream nacks them once it has
        # stopped pulling (nacking earlier could get them redelivered to us at once).
        unsettled = [d for d in list(self._in_hand) if d.mark_settled()]
        self._in_hand.clear()
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.close(unsettled)

    def _make_response_publisher(self, message: StreamMessage[RawT]) -> Sequence[PublisherProto]:
        return (PubSubFakePublisher(self._outer_config.producer, topic=message.reply_to),)

    @abstractmethod
    def wrap_pulled(self, delivery: Delivery) -> RawT:
        """A pulled message as this subscriber's raw message (see ``pulling``)."""

    @override
    async def get_one(self, *, timeout: float = 5.0) -> StreamMessage[RawT] | None:
        """One message by unary Pull (no handler declared); settle it yourself."""
        return await pull_message(self, "get_one", timeout)

    @override
    async def __aiter__(self) -> AsyncIterator[StreamMessage[RawT]]:
        """Messages by unary Pull, one at a time, for as long as the caller iterates."""
        while True:
            message = await pull_message(self, "iterating", ITERATION_POLL_S)
            if message is not None:
                yield message

    def get_log_context(self, message: StreamMessage[RawT] | None) -> dict[str, str]:
        if message is None:
            return self._log_context
        return {**self._log_context, "message_id": message.message_id}


class PubSubSubscriber(PubSubSubscriberBase[Delivery]):
    """Handles one message per call."""

    def _new_parser(self, dead_letter_topic: str | None) -> PubSubParser:
        return PubSubParser(dead_letter_topic)

    def _take(self, inbox: deque[Delivery]) -> Delivery | None:
        delivery = inbox.popleft()
        return None if delivery.settled else delivery

    def wrap_pulled(self, delivery: Delivery) -> Delivery:
        return delivery


class PubSubBatchSubscriber(PubSubSubscriberBase[DeliveryBatch]):
    """Handles up to ``max_batch`` messages per call: those waiting when a worker is free
    (see ``faststream_gcp_pubsub.batch``)."""

    def __init__(
        self,
        config: PubSubSubscriberConfig,
        specification: SubscriberSpecification[Any, Any],
        calls: CallsCollection[DeliveryBatch],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        super().__init__(config, specification, calls)
        self.max_batch = max_batch

    def _new_parser(self, dead_letter_topic: str | None) -> PubSubBatchParser:
        return PubSubBatchParser(dead_letter_topic)

    def _take(self, inbox: deque[Delivery]) -> DeliveryBatch | None:
        taken: list[Delivery] = []
        while inbox and len(taken) < self.max_batch:
            delivery = inbox.popleft()
            if not delivery.settled:
                taken.append(delivery)
        return DeliveryBatch(self.subscription, taken) if taken else None

    def wrap_pulled(self, delivery: Delivery) -> DeliveryBatch:
        return DeliveryBatch(self.subscription, [delivery])
