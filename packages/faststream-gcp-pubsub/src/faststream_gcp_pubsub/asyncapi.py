"""AsyncAPI 3.0 with Pub/Sub's settings as ``googlepubsub`` channel bindings.

FastStream 0.7.8 has no ``googlepubsub`` binding of its own, so :class:`PubSubAsyncAPI`
(FastStream's ``AsyncAPI`` factory, same arguments) adds one to each channel of a
``PubSubBroker``, following the AsyncAPI Google Cloud Pub/Sub bindings 0.2.0
(https://www.asyncapi.com/docs/reference/bindings/googlepubsub). That binding describes
topics only, so what a worker needs to know of its subscription travels in the binding's
specification extensions, with the field names of Pub/Sub's REST ``Subscription``
resource:

- ``x-topic``: the topic the channel publishes to or the subscription is attached to;
- ``x-subscription``: ``name``, ``ackDeadlineSeconds``, ``deadLetterPolicy``
  (``deadLetterTopic``, ``maxDeliveryAttempts``, ``keptBy``: the subscription keeping the
  dead letters), ``retryPolicy`` (``minimumBackoff``, ``maximumBackoff``),
  ``enableMessageOrdering``, ``enableExactlyOnceDelivery``, ``filter``, and ``maxBatch``
  for a batch subscriber.

Descriptions stay exactly as the user wrote them. Use it as the app's specification:
``FastStream(broker, specification=PubSubAsyncAPI(title=...))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.v3_0_0.schema.bindings import ChannelBinding

from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher
from faststream_gcp_pubsub.specs import keep_subscription
from faststream_gcp_pubsub.subscriber.usecase import PubSubBatchSubscriber, PubSubSubscriberBase

if TYPE_CHECKING:
    from faststream._internal.broker import BrokerUsecase
    from faststream.specification.base import Specification

    from faststream_gcp_pubsub.specs import SubscriptionSpec

BINDING = "googlepubsub"
BINDING_VERSION = "0.2.0"


class PubSubAsyncAPI(AsyncAPI):
    """FastStream's AsyncAPI factory, adding ``googlepubsub`` bindings (AsyncAPI 3.0)."""

    def to_specification(self) -> Specification:
        specification = super().to_specification()
        channels = getattr(specification, "channels", None)
        if not self.schema_version.startswith("3.") or not channels:
            return specification
        bindings = channel_bindings(self.brokers)
        for channel in channels.values():
            binding = bindings.get(channel.address)
            if binding is not None:
                channel.bindings = ChannelBinding(**{BINDING: binding})
        return specification


def channel_bindings(brokers: list[BrokerUsecase[Any, Any, Any]]) -> dict[str, dict[str, Any]]:
    """The ``googlepubsub`` binding of each channel, keyed by channel address."""
    bindings: dict[str, dict[str, Any]] = {}
    for broker in brokers:
        for publisher in broker.publishers:
            if isinstance(publisher, PubSubPublisher):
                bindings[publisher.topic] = {
                    "bindingVersion": BINDING_VERSION,
                    "x-topic": publisher.topic,
                }
        for subscriber in broker.subscribers:
            if isinstance(subscriber, PubSubSubscriberBase):
                spec = subscriber.spec
                binding: dict[str, Any] = {"bindingVersion": BINDING_VERSION}
                binding["x-topic"] = spec.topic or spec.name
                settings = subscription_settings(spec)
                if isinstance(subscriber, PubSubBatchSubscriber):
                    settings["maxBatch"] = subscriber.max_batch
                binding["x-subscription"] = settings
                bindings[spec.name] = binding
    return bindings


def subscription_settings(spec: SubscriptionSpec) -> dict[str, Any]:
    """A subscription's settings, named as in Pub/Sub's REST ``Subscription`` resource."""
    settings: dict[str, Any] = {"name": spec.name, "ackDeadlineSeconds": spec.ack_deadline_s}
    if spec.dead_letter_topic:
        settings["deadLetterPolicy"] = {
            "deadLetterTopic": spec.dead_letter_topic,
            "maxDeliveryAttempts": spec.max_delivery_attempts,
            "keptBy": keep_subscription(spec.dead_letter_topic).name,
        }
    if spec.retry_backoff:
        settings["retryPolicy"] = {
            "minimumBackoff": f"{spec.retry_backoff.minimum_s:g}s",
            "maximumBackoff": f"{spec.retry_backoff.maximum_s:g}s",
        }
    settings["enableMessageOrdering"] = spec.enable_message_ordering
    settings["enableExactlyOnceDelivery"] = spec.enable_exactly_once_delivery
    if spec.filter:
        settings["filter"] = spec.filter
    return settings
