"""Publish commands and handler responses carrying Pub/Sub's ordering key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream.response.publish_type import PublishType
from faststream.response.response import BatchPublishCommand, PublishCommand, Response
from typing_extensions import override

if TYPE_CHECKING:
    from faststream._internal.basic_types import SendableMessage


class PubSubResponse(Response):
    """Return this from a handler to set attributes or an ordering key on its output."""

    def __init__(
        self,
        body: SendableMessage,
        *,
        headers: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        ordering_key: str = "",
    ) -> None:
        super().__init__(body=body, headers=headers, correlation_id=correlation_id)
        self.ordering_key = ordering_key

    @override
    def as_publish_command(self) -> PubSubPublishCommand:
        return PubSubPublishCommand(
            self.body,
            headers=self.headers,
            correlation_id=self.correlation_id,
            ordering_key=self.ordering_key,
            _publish_type=PublishType.PUBLISH,
        )


class PubSubPublishCommand(BatchPublishCommand):
    def __init__(
        self,
        message: SendableMessage,
        /,
        *messages: SendableMessage,
        topic: str = "",
        ordering_key: str = "",
        headers: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        reply_to: str = "",
        timeout: float | None = None,
        _publish_type: PublishType,
    ) -> None:
        super().__init__(
            message,
            *messages,
            destination=topic,
            headers=headers,
            correlation_id=correlation_id,
            reply_to=reply_to,
            _publish_type=_publish_type,
        )
        self.ordering_key = ordering_key
        self.timeout = timeout
        """How long ``request()`` waits for its answer (the test client's only)."""

    @classmethod
    def from_cmd(
        cls, cmd: PublishCommand | PubSubPublishCommand, *, batch: bool = False
    ) -> PubSubPublishCommand:
        if isinstance(cmd, PubSubPublishCommand):
            return cmd
        body, extra = cls._parse_bodies(cmd.body, batch=batch)
        return cls(
            body,
            *extra,
            topic=cmd.destination,
            headers=cmd.headers,
            correlation_id=cmd.correlation_id,
            reply_to=cmd.reply_to,
            ordering_key=getattr(cmd, "ordering_key", ""),
            _publish_type=cmd.publish_type,
        )
