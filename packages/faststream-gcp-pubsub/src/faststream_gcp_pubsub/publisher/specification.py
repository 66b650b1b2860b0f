from __future__ import annotations

from faststream._internal.endpoint.publisher import PublisherSpecification
from faststream.specification.asyncapi.utils import resolve_payloads
from faststream.specification.schema import Message, Operation, PublisherSpec

from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
from faststream_gcp_pubsub.publisher.config import PubSubPublisherSpecificationConfig


class PubSubPublisherSpecification(
    PublisherSpecification[PubSubBrokerConfig, PubSubPublisherSpecificationConfig],
):
    __slots__ = ()

    @property
    def topic(self) -> str:
        return self._outer_config.prefix + self.config.topic

    @property
    def name(self) -> str:
        return self.config.title_ or f"{self.topic}:Publisher"

    def get_schema(self) -> dict[str, PublisherSpec]:
        return {
            self.name: PublisherSpec(
                address=self.topic,
                description=self.config.description_,
                operation=Operation(
                    message=Message(
                        title=f"{self.name}:Message",
                        payload=resolve_payloads(self.get_payloads(), "Publisher"),
                    ),
                    bindings=None,
                ),
                bindings=None,
            ),
        }
