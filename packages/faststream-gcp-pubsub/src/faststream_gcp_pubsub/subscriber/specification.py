"""AsyncAPI view of a subscriber: one channel per subscription, its description as given.

The subscription's settings are bindings, added by ``faststream_gcp_pubsub.asyncapi``."""

from __future__ import annotations

import dataclasses

from faststream._internal.endpoint.subscriber import SubscriberSpecification
from faststream.specification.asyncapi.utils import resolve_payloads
from faststream.specification.schema import Message, Operation, SubscriberSpec

from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
from faststream_gcp_pubsub.specs import SubscriptionSpec
from faststream_gcp_pubsub.subscriber.config import PubSubSubscriberSpecificationConfig


def with_prefix(spec: SubscriptionSpec, prefix: str) -> SubscriptionSpec:
    """A router prefix applies to the subscription and to the topics it names."""
    if not prefix:
        return spec
    return dataclasses.replace(
        spec,
        name=prefix + spec.name,
        topic=prefix + spec.topic if spec.topic else None,
        dead_letter_topic=prefix + spec.dead_letter_topic if spec.dead_letter_topic else None,
    )


class PubSubSubscriberSpecification(
    SubscriberSpecification[PubSubBrokerConfig, PubSubSubscriberSpecificationConfig],
):
    __slots__ = ()

    @property
    def subscription(self) -> SubscriptionSpec:
        return with_prefix(self.config.spec, self._outer_config.prefix)

    @property
    def channel_labels(self) -> list[str]:
        return [self.subscription.name]

    def get_schema(self) -> dict[str, SubscriberSpec]:
        spec = self.subscription
        return {
            self.name: SubscriberSpec(
                address=spec.name,
                description=self.description,
                operation=Operation(
                    message=Message(
                        title=f"{self.name}:Message",
                        payload=resolve_payloads(self.get_payloads()),
                    ),
                    bindings=None,
                ),
                bindings=None,
            ),
        }
