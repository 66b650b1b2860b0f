"""Encode FastStream publish commands into Pub/Sub messages and hand them to the transport."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream._internal.endpoint.utils import ParserComposition
from faststream._internal.parser import BatchCodecProto, DefaultCodec
from faststream._internal.producer import ProducerProto
from faststream.exceptions import FeatureNotSupportedException, IncorrectState
from typing_extensions import override

from faststream_gcp_pubsub.parser import CONTENT_TYPE, CORRELATION_ID, REPLY_TO, PubSubParser
from faststream_gcp_pubsub.response import PubSubPublishCommand
from faststream_gcp_pubsub.transport.base import OutgoingMessage, Transport

if TYPE_CHECKING:
    from fast_depends.library.serializer import SerializerProto
    from faststream._internal.parser import CodecProto
    from faststream._internal.types import AsyncCallable, CustomCallable


def build_attributes(
    headers: dict[str, Any],
    content_type: str | None,
    correlation_id: str | None,
    reply_to: str,
) -> dict[str, str]:
    """Headers become attributes (values as text); FastStream metadata gets its own keys."""
    attributes = {str(k): v if isinstance(v, str) else str(v) for k, v in headers.items()}
    if content_type and CONTENT_TYPE not in attributes:
        attributes[CONTENT_TYPE] = content_type
    if correlation_id:
        attributes.setdefault(CORRELATION_ID, correlation_id)
    if reply_to:
        attributes.setdefault(REPLY_TO, reply_to)
    return attributes


NO_REQUEST_REPLY = (
    "request() is not supported on Pub/Sub: the service has no request/reply (no reply "
    "queue, no correlation of answers), so nothing could wait for a handler's answer. "
    "Publish with reply_to=<topic> and subscribe to that topic instead; TestPubSubBroker "
    "answers request() in memory with the handler's return value."
)


class PubSubProducer(ProducerProto[PubSubPublishCommand]):
    """Publishes through whichever transport the broker was built with."""

    def __init__(
        self,
        parser: CustomCallable | None = None,
        decoder: CustomCallable | None = None,
    ) -> None:
        default = PubSubParser()
        self._parser: AsyncCallable = ParserComposition(parser, default.parse_message)
        self._decoder: AsyncCallable = ParserComposition(decoder, default.decode_message)
        self.codec: CodecProto = DefaultCodec()
        self.serializer: SerializerProto | None = None
        self._transport: Transport | None = None

    def connect(
        self, transport: Transport, serializer: SerializerProto | None, codec: CodecProto | None
    ) -> None:
        self._transport = transport
        self.serializer = serializer
        self.codec = codec or DefaultCodec()

    def disconnect(self) -> None:
        self._transport = None

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            msg = "Pub/Sub producer is not connected: call broker.connect() or start() first"
            raise IncorrectState(msg)
        return self._transport

    async def _encode(
        self, cmd: PubSubPublishCommand, *, batch: bool = False
    ) -> list[OutgoingMessage]:
        out = []
        # An empty publish is still one message (attributes only), as FastStream expects.
        bodies = cmd.batch_bodies or (None,)
        if batch and isinstance(self.codec, BatchCodecProto):
            encoded = await self.codec.encode_batch(bodies, self.serializer)
        else:
            encoded = [await self.codec.encode(body, self.serializer) for body in bodies]
        for data, content_type in encoded:
            attributes = build_attributes(
                cmd.headers, content_type, cmd.correlation_id, cmd.reply_to
            )
            out.append(OutgoingMessage(data, attributes, cmd.ordering_key))
        return out

    @override
    async def publish(self, cmd: PubSubPublishCommand) -> str:
        """Publish one message; returns its Pub/Sub message id."""
        ids = await self.transport.publish(cmd.destination, await self._encode(cmd))
        return ids[0]

    @override
    async def publish_batch(self, cmd: PubSubPublishCommand) -> list[str]:
        """Publish all bodies (batched by the client); returns their message ids in order."""
        if not cmd.batch_bodies:
            return []
        return await self.transport.publish(cmd.destination, await self._encode(cmd, batch=True))

    @override
    async def request(self, cmd: PubSubPublishCommand) -> Any:
        raise FeatureNotSupportedException(NO_REQUEST_REPLY)
