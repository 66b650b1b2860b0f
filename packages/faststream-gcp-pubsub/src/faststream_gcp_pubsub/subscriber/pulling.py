"""``await subscriber.get_one(timeout=...)`` and ``async for msg in subscriber``.

For a subscriber declared without a handler, as FastStream's brokers offer: each message
is fetched by a unary Pull and leased to the caller, who settles it with ``await
msg.ack()`` / ``await msg.nack()`` (unsettled, it comes back after its ack deadline).
The broker's middlewares, the subscriber's parser and decoder apply as to a handled one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream._internal.endpoint.utils import process_msg
from faststream.exceptions import FeatureNotSupportedException, SetupError

from faststream_gcp_pubsub.transport.base import PullingTransport

if TYPE_CHECKING:
    from faststream.message import StreamMessage

    from faststream_gcp_pubsub.subscriber.usecase import PubSubSubscriberBase

ITERATION_POLL_S = 5.0
"""How long one Pull of ``async for`` waits before asking again."""


async def pull_message(
    subscriber: PubSubSubscriberBase[Any], what: str, wait_s: float
) -> StreamMessage[Any] | None:
    """One message of ``subscriber``'s subscription, parsed; None if none came in time."""
    if subscriber.calls:
        msg = (
            f"{what} of subscriber {subscriber.subscription!r} is not available: it has "
            "handlers, which consume its messages; declare a subscriber without a handler"
        )
        raise SetupError(msg)
    transport = subscriber._outer_config.transport
    if not isinstance(transport, PullingTransport):
        msg = f"{what} needs a transport that can pull; {type(transport).__name__} cannot"
        raise FeatureNotSupportedException(msg)
    delivery = await transport.pull(subscriber.subscription, wait_s)
    if delivery is None:
        return None
    return await parse_pulled(subscriber, subscriber.wrap_pulled(delivery))


async def parse_pulled(subscriber: PubSubSubscriberBase[Any], raw: Any) -> StreamMessage[Any]:
    context = subscriber._outer_config.context
    parser, decoder = subscriber._get_parser_and_decoder()
    message: StreamMessage[Any] | None = await process_msg(
        msg=raw,
        middlewares=(m(raw, context=context) for m in subscriber._broker_middlewares),
        parser=parser,
        decoder=decoder,
    )
    if message is None:  # only a middleware that swallowed an error returns nothing
        msg = f"a middleware of {subscriber.subscription!r} dropped the pulled message"
        raise SetupError(msg)
    return message
