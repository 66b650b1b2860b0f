from __future__ import annotations

from dataclasses import dataclass, field

from faststream._internal.configs import (
    SubscriberSpecificationConfig,
    SubscriberUsecaseConfig,
)
from faststream._internal.constants import EMPTY
from faststream.middlewares import AckPolicy

from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
from faststream_gcp_pubsub.specs import SubscriptionSpec
from faststream_gcp_pubsub.transport.base import StreamOptions

DEFAULT_ACK_POLICY = AckPolicy.NACK_ON_ERROR
"""Unknown failures are retried; the subscription's dead-letter policy is the backstop."""


@dataclass(kw_only=True)
class PubSubSubscriberSpecificationConfig(SubscriberSpecificationConfig):
    spec: SubscriptionSpec
    max_batch: int | None = None
    """Set for batch subscribers: the most messages one handler call gets."""


@dataclass(kw_only=True)
class PubSubSubscriberConfig(SubscriberUsecaseConfig):
    _outer_config: PubSubBrokerConfig = field(default_factory=PubSubBrokerConfig)

    spec: SubscriptionSpec
    stream_options: StreamOptions
    max_workers: int

    @property
    def ack_policy(self) -> AckPolicy:
        if self._ack_policy is not EMPTY:
            return self._ack_policy
        if self._outer_config.ack_policy is not EMPTY:
            return self._outer_config.ack_policy
        return DEFAULT_ACK_POLICY
