from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream._internal.endpoint.publisher import PublisherUsecase
from faststream.response.publish_type import PublishType
from typing_extensions import override

from faststream_gcp_pubsub.response import PubSubPublishCommand

if TYPE_CHECKING:
    from collections.abc import Iterable

    from faststream._internal.basic_types import SendableMessage
    from faststream._internal.endpoint.publisher import PublisherSpecification
    from faststream._internal.types import PublisherMiddleware
    from faststream.response.response import PublishCommand

    from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
    from faststream_gcp_pubsub.message import PubSubMessage
    from faststream_gcp_pubsub.publisher.config import PubSubPublisherConfig


class PubSubPublisher(PublisherUsecase):
    """Publishes to one topic; default attributes and ordering key from its declaration."""

    _outer_config: PubSubBrokerConfig

    def __init__(
        self,
        config: PubSubPublisherConfig,
        specification: PublisherSpecification[Any, Any],
    ) -> None:
        super().__init__(config, specification)
        self._topic = config.topic
        self.ordering_key = config.ordering_key
        self.headers = config.headers

    @property
    def topic(self) -> str:
        return self._outer_config.prefix + self._topic

    def _command(
        self,
        messages: tuple[SendableMessage, ...],
        topic: str,
        headers: dict[str, str] | None,
        ordering_key: str | None,
        correlation_id: str | None,
    ) -> PubSubPublishCommand:
        first, *rest = messages or (None,)
        return PubSubPublishCommand(
            first,
            *rest,
            topic=topic or self.topic,
            headers=self.headers | (headers or {}),
            ordering_key=self.ordering_key if ordering_key is None else ordering_key,
            correlation_id=correlation_id or self._outer_config.id_generator(),
            _publish_type=PublishType.PUBLISH,
        )

    @override
    async def publish(
        self,
        message: SendableMessage = None,
        topic: str = "",
        *,
        headers: dict[str, str] | None = None,
        ordering_key: str | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Publish one message; returns its message id."""
        cmd = self._command((message,), topic, headers, ordering_key, correlation_id)
        message_id: str = await self._basic_publish(
            cmd, producer=self._outer_config.producer, _extra_middlewares=()
        )
        return message_id

    async def publish_batch(
        self,
        *messages: SendableMessage,
        topic: str = "",
        headers: dict[str, str] | None = None,
        ordering_key: str | None = None,
        correlation_id: str | None = None,
    ) -> list[str]:
        """Publish several messages at once; returns their message ids in order."""
        if not messages:
            return []
        cmd = self._command(messages, topic, headers, ordering_key, correlation_id)
        message_ids: list[str] = await self._basic_publish_batch(
            cmd, producer=self._outer_config.producer, _extra_middlewares=()
        )
        return message_ids

    @override
    async def _publish(
        self,
        cmd: PublishCommand | PubSubPublishCommand,
        *,
        _extra_middlewares: Iterable[PublisherMiddleware],
    ) -> None:
        """Publish a handler's result (called from the subscriber's flow)."""
        command = PubSubPublishCommand.from_cmd(cmd)
        command.destination = command.destination or self.topic
        command.add_headers(self.headers, override=False)
        command.ordering_key = command.ordering_key or self.ordering_key
        await self._basic_publish(
            command, producer=self._outer_config.producer, _extra_middlewares=_extra_middlewares
        )

    @override
    async def request(
        self,
        message: SendableMessage = None,
        topic: str = "",
        *,
        headers: dict[str, str] | None = None,
        ordering_key: str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = 0.5,
    ) -> PubSubMessage:
        """As :meth:`PubSubBroker.request`: answered under ``TestPubSubBroker`` only."""
        cmd = self._command((message,), topic, headers, ordering_key, correlation_id)
        cmd.publish_type = PublishType.REQUEST
        cmd.timeout = timeout
        answer: PubSubMessage = await self._basic_request(cmd, producer=self._outer_config.producer)
        return answer
