"""One message by unary Pull: ``subscriber.get_one()`` and ``async for msg in subscriber``.

The message is leased to the caller, who settles it: ``ack`` is an ``Acknowledge`` call,
``nack`` a ``ModifyAckDeadline`` to 0 (redelivered subject to the retry policy).
Unsettled, it comes back once its ack deadline passes, as any pulled message does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.api_core import exceptions as google_exceptions

from faststream_gcp_pubsub.transport.base import Delivery, PublishFunc
from faststream_gcp_pubsub.transport.grpc_delivery import translate_error

_NOTHING_IN_TIME = (google_exceptions.DeadlineExceeded, google_exceptions.RetryError)


class PulledDelivery(Delivery):
    __slots__ = ("_client", "_path", "_received")

    def __init__(
        self, received: Any, client: Any, path: str, subscription: str, forward: PublishFunc
    ) -> None:
        super().__init__(subscription, forward)
        self._received = received
        self._client = client
        self._path = path

    @property
    def message_id(self) -> str:
        return str(self._received.message.message_id)

    @property
    def data(self) -> bytes:
        return bytes(self._received.message.data)

    @property
    def attributes(self) -> Mapping[str, str]:
        return dict(self._received.message.attributes)

    @property
    def ordering_key(self) -> str:
        return str(self._received.message.ordering_key)

    @property
    def publish_time(self) -> datetime:
        published: datetime = self._received.message.publish_time
        return published

    @property
    def delivery_attempt(self) -> int | None:
        attempt = int(self._received.delivery_attempt)
        return attempt or None  # 0: the subscription has no dead-letter policy

    @property
    def settling_waits_for_server(self) -> bool:
        return True

    async def _ack(self) -> None:
        await self._call("ack", self._client.acknowledge, ack_ids=[self._received.ack_id])

    async def _nack(self) -> None:
        await self.modify_ack_deadline(0)

    async def modify_ack_deadline(self, seconds: int) -> None:
        await self._call(
            "modify ack deadline",
            self._client.modify_ack_deadline,
            ack_ids=[self._received.ack_id],
            ack_deadline_seconds=max(seconds, 0),
        )

    async def _call(self, what: str, method: Any, **request: Any) -> None:
        try:
            await asyncio.to_thread(method, subscription=self._path, **request)
        except Exception as error:
            raise translate_error(error, f"{what} on {self.subscription}") from error


async def pull_one(
    client: Any, project: str, subscription: str, wait_s: float, forward: PublishFunc
) -> PulledDelivery | None:
    """Wait up to ``wait_s`` seconds for one message of ``subscription``."""
    path = client.subscription_path(project, subscription)
    try:
        response = await asyncio.to_thread(
            client.pull, subscription=path, max_messages=1, timeout=wait_s
        )
    except _NOTHING_IN_TIME:
        return None
    except Exception as error:
        raise translate_error(error, f"pull from {subscription}") from error
    if not response.received_messages:
        return None
    received = response.received_messages[0]
    return PulledDelivery(received, client, path, subscription, forward)
