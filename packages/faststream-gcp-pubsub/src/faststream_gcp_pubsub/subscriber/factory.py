from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream._internal.endpoint.subscriber.call_item import CallsCollection

from faststream_gcp_pubsub.subscriber.config import (
    PubSubSubscriberConfig,
    PubSubSubscriberSpecificationConfig,
)
from faststream_gcp_pubsub.subscriber.specification import PubSubSubscriberSpecification
from faststream_gcp_pubsub.subscriber.usecase import (
    PubSubBatchSubscriber,
    PubSubSubscriber,
    PubSubSubscriberBase,
)

if TYPE_CHECKING:
    from faststream.middlewares import AckPolicy

    from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
    from faststream_gcp_pubsub.specs import SubscriptionSpec
    from faststream_gcp_pubsub.transport.base import StreamOptions


def create_subscriber(
    *,
    spec: SubscriptionSpec,
    stream_options: StreamOptions,
    max_workers: int,
    max_batch: int | None,
    ack_policy: AckPolicy,
    no_reply: bool,
    config: PubSubBrokerConfig,
    title_: str | None,
    description_: str | None,
    include_in_schema: bool,
) -> PubSubSubscriberBase[Any]:
    """A single-message subscriber, or a batch one when ``max_batch`` is given."""
    if max_workers < 1:
        msg = f"max_workers of subscriber {spec.name!r} must be >= 1, got {max_workers}"
        raise ValueError(msg)
    if max_batch is not None and max_batch < 1:
        msg = f"max_batch of subscriber {spec.name!r} must be >= 1, got {max_batch}"
        raise ValueError(msg)
    subscriber_config = PubSubSubscriberConfig(
        spec=spec,
        stream_options=stream_options,
        max_workers=max_workers,
        no_reply=no_reply,
        _outer_config=config,
        _ack_policy=ack_policy,
    )
    calls = CallsCollection[Any]()
    specification = PubSubSubscriberSpecification(
        config,
        PubSubSubscriberSpecificationConfig(
            spec=spec,
            title_=title_,
            description_=description_,
            include_in_schema=include_in_schema,
            max_batch=max_batch,
        ),
        calls,
    )
    if max_batch is None:
        return PubSubSubscriber(subscriber_config, specification, calls)
    return PubSubBatchSubscriber(subscriber_config, specification, calls, max_batch=max_batch)
