"""The test client's producer: publishes into the memory transport, then drains it.

``request()`` is answered in memory: the first subscriber's response to the request,
encoded as a message would be (see ``faststream_gcp_pubsub.reply``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from typing_extensions import override

from faststream_gcp_pubsub.publisher.producer import PubSubProducer, build_attributes
from faststream_gcp_pubsub.reply import ReplyDelivery

if TYPE_CHECKING:
    from faststream_gcp_pubsub.response import PubSubPublishCommand
    from faststream_gcp_pubsub.testing import TestPubSubBroker


class DrainingProducer(PubSubProducer):
    """Publishes into the memory transport, then lets the test broker drain it."""

    def __init__(self, test_broker: TestPubSubBroker, real: PubSubProducer) -> None:
        super().__init__()
        self._parser = real._parser
        self._decoder = real._decoder
        self._test_broker = test_broker

    @override
    async def publish(self, cmd: PubSubPublishCommand) -> str:
        self._test_broker.require_topic(cmd.destination)
        message_id = await super().publish(cmd)
        await self._test_broker.drain()
        return message_id

    @override
    async def publish_batch(self, cmd: PubSubPublishCommand) -> list[str]:
        self._test_broker.require_topic(cmd.destination)
        message_ids = await super().publish_batch(cmd)
        await self._test_broker.drain()
        return message_ids

    @override
    async def request(self, cmd: PubSubPublishCommand) -> ReplyDelivery:
        [message] = await self._encode(cmd)
        async with asyncio.timeout(cmd.timeout):
            message_id, response = await self._test_broker.answer(cmd.destination, message)
        data, content_type = await self.codec.encode(response.body, self.serializer)
        correlation_id = response.correlation_id or cmd.correlation_id
        attributes = build_attributes(response.headers, content_type, correlation_id, "")
        return ReplyDelivery(message_id, data, attributes)
