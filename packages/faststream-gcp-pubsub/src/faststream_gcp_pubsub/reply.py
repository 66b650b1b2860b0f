"""A handler's answer to ``request()``, handed back in process by the test client.

Pub/Sub has no request/reply, so nothing travels: the test client encodes the handler's
return value as a message would be, and the broker parses it with its usual parser into
the :class:`~faststream_gcp_pubsub.message.PubSubMessage` that ``request()`` returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faststream_gcp_pubsub.transport.base import Delivery

if TYPE_CHECKING:
    from collections.abc import Mapping


class ReplyDelivery(Delivery):
    """Settling it does nothing: there is no subscription behind it."""

    __slots__ = ("_attributes", "_data", "_message_id", "_publish_time")

    def __init__(self, message_id: str, data: bytes, attributes: Mapping[str, str]) -> None:
        super().__init__(subscription="")
        self._message_id = message_id
        self._data = data
        self._attributes = dict(attributes)
        self._publish_time = datetime.now(UTC)

    @property
    def message_id(self) -> str:
        return self._message_id

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def attributes(self) -> Mapping[str, str]:
        return self._attributes

    @property
    def ordering_key(self) -> str:
        return ""

    @property
    def publish_time(self) -> datetime:
        return self._publish_time

    @property
    def delivery_attempt(self) -> int | None:
        return None

    async def _ack(self) -> None:
        return None

    async def _nack(self) -> None:
        return None

    async def modify_ack_deadline(self, seconds: int) -> None:
        return None
