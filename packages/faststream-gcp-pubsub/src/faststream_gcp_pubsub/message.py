"""The message a handler sees: FastStream's ``StreamMessage`` over one Pub/Sub delivery."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from faststream.exceptions import HandlerException
from faststream.message import StreamMessage

from faststream_gcp_pubsub.deadletter import error_attributes
from faststream_gcp_pubsub.transport.base import Delivery

MAX_ACK_EXTENSION_S = 600
"""Pub/Sub refuses ack deadlines beyond ten minutes."""


class Settleable(Protocol):
    """What a received message settles through: one delivery, or a batch of them."""

    async def ack(self) -> None: ...

    async def nack(self) -> None: ...

    async def dead_letter(self, topic: str, extra_attributes: Mapping[str, str]) -> None: ...

    async def modify_ack_deadline(self, seconds: int) -> None: ...


SettleT = TypeVar("SettleT", bound=Settleable)


class SettlingMessage(StreamMessage[SettleT]):
    """FastStream's acknowledgement calls mapped onto Pub/Sub (one message or a batch).

    ``ack`` acks; ``nack`` gives back at once (modify ack deadline 0; the subscription's
    retry policy decides when it comes again); ``reject`` sends to the subscriber's
    ``dead_letter_topic`` (original bytes and attributes plus the worker's ``x-*``
    dead-letter attributes, then ack) or, without one, nacks so the subscription's
    dead-letter policy applies.
    """

    dead_letter_topic: str | None = None

    async def extend_lease(self, seconds: float) -> None:
        """Ask for ``seconds`` more (capped at 600) before Pub/Sub may redeliver."""
        await self.raw_message.modify_ack_deadline(max(1, min(MAX_ACK_EXTENSION_S, round(seconds))))

    async def ack(self, **_: Any) -> None:
        if self.committed is None:
            await self.raw_message.ack()
        await super().ack()

    async def nack(self, **_: Any) -> None:
        if self.committed is None:
            await self.raw_message.nack()
        await super().nack()

    async def reject(self, *, attributes: Mapping[str, str] | None = None, **_: Any) -> None:
        """Dead-letter now, adding ``attributes`` (``RejectMessage(attributes=...)``)."""
        if self.committed is None:
            if self.dead_letter_topic:
                await self.raw_message.dead_letter(
                    self.dead_letter_topic, dead_letter_why(attributes)
                )
            else:
                await self.raw_message.nack()
        await super().reject()


class PubSubMessage(SettlingMessage[Delivery]):
    """A received Pub/Sub message (settled as ``SettlingMessage`` says)."""

    @property
    def attributes(self) -> Mapping[str, str]:
        return self.raw_message.attributes

    @property
    def publish_time(self) -> datetime:
        return self.raw_message.publish_time

    @property
    def ordering_key(self) -> str:
        return self.raw_message.ordering_key

    @property
    def delivery_attempt(self) -> int | None:
        """1, 2, ... when the subscription has a dead-letter policy; otherwise None."""
        return self.raw_message.delivery_attempt

    @property
    def subscription(self) -> str:
        return self.raw_message.subscription


def dead_letter_why(attributes: Mapping[str, str] | None) -> dict[str, str]:
    """The error being handled while a message is rejected (AckPolicy.REJECT_ON_ERROR),
    plus ``attributes`` given to ``RejectMessage``."""
    error = sys.exc_info()[1]
    if error is None or isinstance(error, HandlerException):
        return dict(attributes or {})
    return {**error_attributes(error), **(attributes or {})}
