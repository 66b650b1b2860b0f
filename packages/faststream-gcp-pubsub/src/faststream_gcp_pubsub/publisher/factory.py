from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream_gcp_pubsub.publisher.config import (
    PubSubPublisherConfig,
    PubSubPublisherSpecificationConfig,
)
from faststream_gcp_pubsub.publisher.specification import PubSubPublisherSpecification
from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher

if TYPE_CHECKING:
    from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig


def create_publisher(
    *,
    topic: str,
    ordering_key: str,
    headers: dict[str, str] | None,
    config: PubSubBrokerConfig,
    schema_: Any | None,
    title_: str | None,
    description_: str | None,
    include_in_schema: bool,
) -> PubSubPublisher:
    if len(topic) < 3:
        msg = f"topic id {topic!r} is shorter than 3 characters"
        raise ValueError(msg)
    publisher_config = PubSubPublisherConfig(
        topic=topic, ordering_key=ordering_key, headers=headers or {}, _outer_config=config
    )
    specification = PubSubPublisherSpecification(
        config,
        PubSubPublisherSpecificationConfig(
            topic=topic,
            schema_=schema_,
            title_=title_,
            description_=description_,
            include_in_schema=include_in_schema,
        ),
    )
    return PubSubPublisher(publisher_config, specification)
