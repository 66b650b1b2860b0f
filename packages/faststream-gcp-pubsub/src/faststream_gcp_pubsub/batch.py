"""Batch consumption: one handler call for up to ``max_batch`` deliveries.

A batch subscriber (``@broker.subscriber(..., batch=True)``) hands its handler the list
of decoded bodies (``async def handle(rows: list[Row]) -> None``), as FastStream's Kafka
and Redis batch subscribers do. FastStream's per-message work (context, middlewares,
injection, acknowledgement) then runs once per batch, which is what makes batches cheap.

The batch settles as a whole: ``ack`` acks every message of it, ``nack`` gives every one
back (each is redelivered on its own, with its own ``delivery_attempt``), ``reject``
dead-letters every one. Messages a handler settled one by one (``msg.deliveries[i]``)
keep their fate: settling is idempotent per delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from faststream.message import StreamMessage
from faststream.message import decode_message as decode_one

from faststream_gcp_pubsub.message import SettlingMessage
from faststream_gcp_pubsub.parser import CONTENT_TYPE, CORRELATION_ID, REPLY_TO
from faststream_gcp_pubsub.transport.base import Delivery

DEFAULT_MAX_BATCH = 100


class DeliveryBatch(Sequence[Delivery]):
    """Deliveries of one subscription handed to one handler call: the raw batch message."""

    __slots__ = ("_deliveries", "subscription")

    def __init__(self, subscription: str, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            msg = f"a batch of {subscription} needs at least one delivery"
            raise ValueError(msg)
        self.subscription = subscription
        self._deliveries = tuple(deliveries)

    def __getitem__(self, index: Any) -> Any:
        return self._deliveries[index]

    def __len__(self) -> int:
        return len(self._deliveries)

    def __iter__(self) -> Iterator[Delivery]:
        return iter(self._deliveries)

    @property
    def settled(self) -> bool:
        return all(delivery.settled for delivery in self._deliveries)

    async def ack(self) -> None:
        await self._settle(delivery.ack() for delivery in self._deliveries)

    async def nack(self) -> None:
        await self._settle(delivery.nack() for delivery in self._deliveries)

    async def dead_letter(self, topic: str, extra_attributes: Mapping[str, str]) -> None:
        # Publishing is I/O: all at once.
        outcomes = await asyncio.gather(
            *(d.dead_letter(topic, extra_attributes) for d in self._deliveries),
            return_exceptions=True,
        )
        _raise_first(outcomes)

    async def modify_ack_deadline(self, seconds: int) -> None:
        await _one_by_one(d.modify_ack_deadline(seconds) for d in self._deliveries if not d.settled)

    async def _settle(self, calls: Iterator[Coroutine[Any, Any, None]]) -> None:
        """All at once when settling waits for the server (one round trip for the batch,
        not one per message); otherwise one by one."""
        if any(d.settling_waits_for_server for d in self._deliveries):
            _raise_first(await asyncio.gather(*calls, return_exceptions=True))
        else:
            await _one_by_one(calls)


async def _one_by_one(calls: Iterator[Coroutine[Any, Any, None]]) -> None:
    """Await every call, even after one failed; then raise the first failure.

    One after the other: on a live stream they only queue a request for the client's
    dispatcher (no I/O), and a task per message would cost more than the call itself.
    """
    outcomes: list[BaseException | None] = []
    for call in calls:
        try:
            await call
        except Exception as error:
            outcomes.append(error)
    _raise_first(outcomes)


def _raise_first(outcomes: Sequence[object]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


class PubSubBatchMessage(SettlingMessage[DeliveryBatch]):
    """A received batch; the body is the list of message bodies, one per delivery.

    ``headers`` are the first message's attributes, ``batch_headers`` every message's;
    ``deliveries`` gives each message's id, attributes, ordering key, publish time and
    delivery attempt. Settling (and ``extend_lease``) applies to every message of it.
    """

    @property
    def deliveries(self) -> DeliveryBatch:
        return self.raw_message

    @property
    def subscription(self) -> str:
        return self.raw_message.subscription

    @property
    def delivery_attempts(self) -> list[int | None]:
        return [delivery.delivery_attempt for delivery in self.raw_message]

    @property
    def publish_times(self) -> list[datetime]:
        return [delivery.publish_time for delivery in self.raw_message]


class _Body:
    """What FastStream's decoder reads of one message: its bytes and content type."""

    __slots__ = ("body", "content_type")

    def __init__(self, body: bytes, content_type: str | None) -> None:
        self.body = body
        self.content_type = content_type


class PubSubBatchParser:
    __slots__ = ("_dead_letter_topic",)

    def __init__(self, dead_letter_topic: str | None = None) -> None:
        self._dead_letter_topic = dead_letter_topic

    async def parse_message(self, batch: DeliveryBatch) -> PubSubBatchMessage:
        batch_headers = [dict(delivery.attributes) for delivery in batch]
        first = batch_headers[0]
        first_id = batch[0].message_id
        message = PubSubBatchMessage(
            raw_message=batch,
            body=[delivery.data for delivery in batch],
            headers=first,
            batch_headers=batch_headers,
            content_type=first.get(CONTENT_TYPE),
            correlation_id=first.get(CORRELATION_ID) or first_id,
            message_id=first_id if len(batch) == 1 else f"{first_id}..{batch[-1].message_id}",
            reply_to=first.get(REPLY_TO, ""),
        )
        message.dead_letter_topic = self._dead_letter_topic
        return message

    @property
    def decoder(self) -> Callable[[StreamMessage[DeliveryBatch]], Awaitable[list[Any]]]:
        return self.decode_batch

    async def decode_batch(self, msg: StreamMessage[DeliveryBatch]) -> list[Any]:
        """Each body by its own content type (JSON, text, else the bytes).

        Named ``decode_batch`` as FastStream expects of a batch decoder: a codec given to
        a batch subscriber then decodes with its own ``decode_batch``."""
        return [
            # FastStream's decoder only reads ``body`` and ``content_type``: no full message.
            decode_one(_Body(body, headers.get(CONTENT_TYPE)))  # type: ignore[arg-type]
            for body, headers in zip(msg.body, msg.batch_headers, strict=True)
        ]
