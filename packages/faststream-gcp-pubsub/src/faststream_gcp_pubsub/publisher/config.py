from __future__ import annotations

from dataclasses import dataclass, field

from faststream._internal.configs import (
    PublisherSpecificationConfig,
    PublisherUsecaseConfig,
)

from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig


@dataclass(kw_only=True)
class PubSubPublisherSpecificationConfig(PublisherSpecificationConfig):
    topic: str


@dataclass(kw_only=True)
class PubSubPublisherConfig(PublisherUsecaseConfig):
    _outer_config: PubSubBrokerConfig = field(default_factory=PubSubBrokerConfig)

    topic: str
    ordering_key: str
    headers: dict[str, str]
