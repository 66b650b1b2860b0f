"""Test doubles for the Pub/Sub broker's unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from faststream_gcp_pubsub.transport.base import Delivery, OutgoingMessage


class RecordingDelivery(Delivery):
    """A delivery that records how it was settled and what it forwarded."""

    def __init__(
        self,
        data: bytes = b'{"n": 1}',
        attributes: Mapping[str, str] | None = None,
        *,
        message_id: str = "m-1",
        ordering_key: str = "",
        delivery_attempt: int | None = None,
        subscription: str = "sub-test",
    ) -> None:
        super().__init__(subscription, self._record_forward)
        self._data = data
        self._attributes = dict(attributes or {})
        self._message_id = message_id
        self._ordering_key = ordering_key
        self._delivery_attempt = delivery_attempt
        self.calls: list[str] = []
        self.forwarded: list[tuple[str, OutgoingMessage]] = []
        self.deadlines: list[int] = []

    async def _record_forward(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        self.calls.append("forward")
        self.forwarded += [(topic, m) for m in messages]
        return [f"f-{len(self.forwarded)}"]

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
        return self._ordering_key

    @property
    def publish_time(self) -> datetime:
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    @property
    def delivery_attempt(self) -> int | None:
        return self._delivery_attempt

    async def _ack(self) -> None:
        self.calls.append("ack")

    async def _nack(self) -> None:
        self.calls.append("nack")

    async def modify_ack_deadline(self, seconds: int) -> None:
        self.deadlines.append(seconds)
