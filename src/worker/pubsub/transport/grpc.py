"""Google Cloud Pub/Sub over gRPC: streaming pull, batching publisher, admin API.

``PUBSUB_EMULATOR_HOST`` is honored by Google's clients themselves. Clients are created
once per transport; blocking calls (admin, shutdown) run in worker threads so the event
loop never waits on the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import Any

from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient, types
from google.cloud.pubsub_v1.subscriber.message import Message

from worker.errors import BrokerError
from worker.pubsub.transport.base import (
    BatchSettings,
    Delivery,
    DeliveryCallback,
    OutgoingMessage,
    StreamOptions,
)
from worker.pubsub.transport.grpc_admin import GrpcAdmin
from worker.pubsub.transport.grpc_delivery import (
    GrpcDelivery,
    LoopScheduler,
    translate_error,
)

RESERVED_ATTRIBUTE_NAMES = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})
"""Keyword names of ``PublisherClient.publish``: attributes cannot use them."""


class GrpcStream:
    """One streaming pull; its end (error or cancel) is observable from the loop."""

    def __init__(
        self,
        client: Any,
        path: str,
        subscription: str,
        options: StreamOptions,
        deliver: DeliveryCallback,
        transport: GrpcTransport,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._subscription = subscription
        self._deliver = deliver
        self._forward = transport.publish
        self._closing = False
        self._ended: asyncio.Future[BaseException | None] = self._loop.create_future()
        flow_control = types.FlowControl(
            max_bytes=options.max_bytes,
            max_messages=options.max_messages,
            max_lease_duration=options.max_lease_duration_s,
            max_duration_per_lease_extension=options.lease_extension_s,
        )
        self._scheduler = LoopScheduler(self._loop, self._on_message)
        self._future: concurrent.futures.Future[Any] = client.subscribe(
            path,
            callback=self._on_message,
            flow_control=flow_control,
            scheduler=self._scheduler,
        )
        self._future.add_done_callback(self._on_done)

    def _on_message(self, message: Message) -> None:
        if self._closing:
            self._scheduler.give_back([message])
            return
        self._deliver(GrpcDelivery(message, self._subscription, self._forward))

    def _on_done(self, future: concurrent.futures.Future[Any]) -> None:
        error = None if future.cancelled() else future.exception()
        if self._closing:
            error = None
        where = f"streaming pull of {self._subscription}"
        outcome = translate_error(error, where) if error is not None else None
        try:
            self._loop.call_soon_threadsafe(self._set_ended, outcome)
        except RuntimeError:
            return  # the loop is gone; nobody is waiting any more

    def _set_ended(self, outcome: BaseException | None) -> None:
        if not self._ended.done():
            self._ended.set_result(outcome)

    async def wait_closed(self) -> BaseException | None:
        return await asyncio.shield(self._ended)

    async def close(self, unsettled: Sequence[Delivery] = ()) -> None:
        """Cancel the pull and wait until the library has flushed its acks and nacks.

        The library nacks what its scheduler gives back after the stream has stopped,
        so ``unsettled`` messages go back without being redelivered to us meanwhile.
        """
        self._closing = True
        self._scheduler.give_back([d.message for d in unsettled if isinstance(d, GrpcDelivery)])
        self._future.cancel()
        await self.wait_closed()


class GrpcTransport:
    """Google's Pub/Sub clients, created on :meth:`connect` and closed on :meth:`close`."""

    def __init__(
        self,
        project: str,
        *,
        batch_settings: BatchSettings | None = None,
        publish_timeout_s: float = 60.0,
    ) -> None:
        self.project = project
        batching = batch_settings or BatchSettings()
        self._batch_settings = types.BatchSettings(
            max_bytes=batching.max_bytes,
            max_latency=batching.max_latency_s,
            max_messages=batching.max_messages,
        )
        self._publish_timeout_s = publish_timeout_s
        self._publisher: Any = None
        self._subscriber: Any = None
        self.admin = GrpcAdmin(project, self._clients)

    @property
    def provisions_on_start(self) -> bool:
        return False

    def _clients(self) -> tuple[Any, Any]:
        if self._publisher is None or self._subscriber is None:
            msg = "the Pub/Sub transport is not connected; start or connect the broker first"
            raise BrokerError(msg, where=f"project {self.project}")
        return self._publisher, self._subscriber

    async def connect(self) -> None:
        if self._publisher is not None:
            return
        options = types.PublisherOptions(
            # Ordering is on for every publish: messages without a key are unaffected,
            # and messages with one keep their order.
            enable_message_ordering=True,
            timeout=self._publish_timeout_s,
        )
        self._publisher = PublisherClient(
            batch_settings=self._batch_settings, publisher_options=options
        )
        self._subscriber = SubscriberClient()

    async def close(self) -> None:
        publisher, subscriber = self._publisher, self._subscriber
        self._publisher = self._subscriber = None
        if publisher is not None:
            await asyncio.to_thread(publisher.stop)
        if subscriber is not None:
            await asyncio.to_thread(subscriber.close)

    async def ping(self) -> bool:
        try:
            await self.admin.list_one_topic()
        except BrokerError:
            return False
        return True

    async def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        publisher, _ = self._clients()
        path = publisher.topic_path(self.project, topic)
        where = f"publish to topic {topic}"
        pending: list[asyncio.Future[Any]] = []
        for message in messages:
            clash = RESERVED_ATTRIBUTE_NAMES.intersection(message.attributes)
            if clash:
                msg = f"attribute names {sorted(clash)} are reserved by the Pub/Sub client"
                raise BrokerError(msg, where=where)
            future = publisher.publish(
                path, message.data, ordering_key=message.ordering_key, **message.attributes
            )
            pending.append(asyncio.wrap_future(future))
        results = await asyncio.gather(*pending, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            for key in {m.ordering_key for m in messages if m.ordering_key}:
                # A failed ordered publish pauses its key; resume so later ones can go.
                publisher.resume_publish(path, key)
            raise translate_error(errors[0], where) from errors[0]
        return [str(r) for r in results]

    def open_stream(
        self, subscription: str, options: StreamOptions, deliver: DeliveryCallback
    ) -> GrpcStream:
        _, subscriber = self._clients()
        path = subscriber.subscription_path(self.project, subscription)
        return GrpcStream(subscriber, path, subscription, options, deliver, self)
