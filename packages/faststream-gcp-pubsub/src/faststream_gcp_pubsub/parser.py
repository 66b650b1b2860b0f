"""Raw delivery → :class:`PubSubMessage`; attributes are the headers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faststream.message import decode_message

from faststream_gcp_pubsub.message import PubSubMessage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from faststream._internal.basic_types import DecodedMessage
    from faststream.message import StreamMessage

    from faststream_gcp_pubsub.transport.base import Delivery

CONTENT_TYPE = "content-type"
CORRELATION_ID = "correlation-id"
REPLY_TO = "reply-to"


class PubSubParser:
    __slots__ = ("_dead_letter_topic",)

    def __init__(self, dead_letter_topic: str | None = None) -> None:
        self._dead_letter_topic = dead_letter_topic

    async def parse_message(self, delivery: Delivery) -> PubSubMessage:
        # One copy into a plain dict: lookups on the client's protobuf map cost more.
        headers = dict(delivery.attributes)
        message_id = delivery.message_id
        message = PubSubMessage(
            raw_message=delivery,
            body=delivery.data,
            headers=headers,
            content_type=headers.get(CONTENT_TYPE),
            # Redeliveries keep their message id: falling back to it keeps one story per message.
            correlation_id=headers.get(CORRELATION_ID) or message_id,
            message_id=message_id,
            reply_to=headers.get(REPLY_TO, ""),
        )
        message.dead_letter_topic = self._dead_letter_topic
        return message

    @property
    def decoder(self) -> Callable[[StreamMessage[Delivery]], Awaitable[DecodedMessage]]:
        return self.decode_message

    async def decode_message(self, msg: StreamMessage[Delivery]) -> DecodedMessage:
        return decode_message(msg)
