from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream._internal.endpoint.publisher.fake import FakePublisher

from faststream_gcp_pubsub.response import PubSubPublishCommand

if TYPE_CHECKING:
    from faststream._internal.producer import ProducerProto
    from faststream.response.response import PublishCommand


class PubSubFakePublisher(FakePublisher):
    """Publishes a handler's result to the topic named by the message's ``reply-to``."""

    __slots__ = ("topic",)

    def __init__(self, producer: ProducerProto[Any], topic: str) -> None:
        super().__init__(producer=producer)
        self.topic = topic

    def patch_command(self, cmd: PublishCommand) -> PubSubPublishCommand:
        cmd = super().patch_command(cmd)
        command = PubSubPublishCommand.from_cmd(cmd)
        command.destination = self.topic
        return command
