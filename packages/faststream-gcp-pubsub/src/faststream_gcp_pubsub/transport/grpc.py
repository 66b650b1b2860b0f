"""Google Cloud Pub/Sub over gRPC: streaming pull, batching publisher, admin API.

``PUBSUB_EMULATOR_HOST`` is honored by Google's clients themselves. Clients are created
once per transport; blocking calls (admin, shutdown) run in worker threads so the event
loop never waits on the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient, types

from faststream_gcp_pubsub.errors import BrokerError
from faststream_gcp_pubsub.transport.base import (
    BatchSettings,
    DeliveryCallback,
    OutgoingMessage,
    StreamOptions,
)
from faststream_gcp_pubsub.transport.grpc_admin import GrpcAdmin
from faststream_gcp_pubsub.transport.grpc_delivery import translate_error
from faststream_gcp_pubsub.transport.grpc_pull import PulledDelivery, pull_one
from faststream_gcp_pubsub.transport.grpc_stream import GrpcStream

RESERVED_ATTRIBUTE_NAMES = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})
"""Keyword names of ``PublisherClient.publish``: attributes cannot use them."""


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
        return GrpcStream(subscriber, path, subscription, options, deliver, self.publish)

    async def pull(self, subscription: str, wait_s: float) -> PulledDelivery | None:
        _, subscriber = self._clients()
        return await pull_one(subscriber, self.project, subscription, wait_s, self.publish)
