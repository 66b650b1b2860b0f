"""FastStream broker for Google Cloud Pub/Sub: transport only, no business logic.

```python
from faststream import FastStream
from faststream_gcp_pubsub import PubSubBroker, PubSubMessage

broker = PubSubBroker(project="my-project")  # PUBSUB_EMULATOR_HOST is honored


@broker.subscriber("file-arrived-worker", topic="file-arrived",
                   dead_letter_topic="file-arrived-dlq", retry_backoff=(10, 600))
@broker.publisher("partition-completed")
async def on_file(event: dict, msg: PubSubMessage) -> dict: ...


app = FastStream(broker)
```

See docs/pubsub-broker.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faststream_gcp_pubsub.annotations import (
        PubSubBatchMessage,
        PubSubBrokerAnnotation,
        PubSubMessage,
    )
    from faststream_gcp_pubsub.asyncapi import PubSubAsyncAPI
    from faststream_gcp_pubsub.batch import DeliveryBatch
    from faststream_gcp_pubsub.broker.broker import PubSubBroker
    from faststream_gcp_pubsub.broker.router import PubSubPublisherArgs, PubSubRoute, PubSubRouter
    from faststream_gcp_pubsub.message import PubSubMessage as PubSubStreamMessage
    from faststream_gcp_pubsub.provision import DriftFinding, ProvisionAction, ProvisionReport
    from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher
    from faststream_gcp_pubsub.response import PubSubResponse
    from faststream_gcp_pubsub.specs import RetryBackoff, SubscriptionSpec
    from faststream_gcp_pubsub.subscriber.usecase import (
        PubSubBatchSubscriber,
        PubSubSubscriber,
        PubSubSubscriberBase,
    )
    from faststream_gcp_pubsub.testing import TestPubSubBroker
    from faststream_gcp_pubsub.transport.base import BatchSettings, Delivery, StreamOptions
    from faststream_gcp_pubsub.transport.memory import MemoryTransport

# Importing one module (``faststream_gcp_pubsub.errors``) does not load FastStream and the
# gRPC client; the first public name used loads the whole surface, as ``import
# faststream.redis`` does (the test client among it registers itself with FastStream, which
# the AsyncAPI "try it out" page and ``faststream docs`` look up).
_EXPORTS: dict[str, tuple[str, str]] = {
    "BatchSettings": ("faststream_gcp_pubsub.transport.base", "BatchSettings"),
    "Delivery": ("faststream_gcp_pubsub.transport.base", "Delivery"),
    "DeliveryBatch": ("faststream_gcp_pubsub.batch", "DeliveryBatch"),
    "DriftFinding": ("faststream_gcp_pubsub.provision", "DriftFinding"),
    "MemoryTransport": ("faststream_gcp_pubsub.transport.memory", "MemoryTransport"),
    "ProvisionAction": ("faststream_gcp_pubsub.provision", "ProvisionAction"),
    "ProvisionReport": ("faststream_gcp_pubsub.provision", "ProvisionReport"),
    "PubSubAsyncAPI": ("faststream_gcp_pubsub.asyncapi", "PubSubAsyncAPI"),
    "PubSubBatchMessage": ("faststream_gcp_pubsub.annotations", "PubSubBatchMessage"),
    "PubSubBatchSubscriber": ("faststream_gcp_pubsub.subscriber.usecase", "PubSubBatchSubscriber"),
    "PubSubBroker": ("faststream_gcp_pubsub.broker.broker", "PubSubBroker"),
    "PubSubBrokerAnnotation": ("faststream_gcp_pubsub.annotations", "PubSubBrokerAnnotation"),
    "PubSubMessage": ("faststream_gcp_pubsub.annotations", "PubSubMessage"),
    "PubSubPublisher": ("faststream_gcp_pubsub.publisher.usecase", "PubSubPublisher"),
    "PubSubPublisherArgs": ("faststream_gcp_pubsub.broker.router", "PubSubPublisherArgs"),
    "PubSubResponse": ("faststream_gcp_pubsub.response", "PubSubResponse"),
    "PubSubRoute": ("faststream_gcp_pubsub.broker.router", "PubSubRoute"),
    "PubSubRouter": ("faststream_gcp_pubsub.broker.router", "PubSubRouter"),
    "PubSubStreamMessage": ("faststream_gcp_pubsub.message", "PubSubMessage"),
    "PubSubSubscriber": ("faststream_gcp_pubsub.subscriber.usecase", "PubSubSubscriber"),
    "PubSubSubscriberBase": ("faststream_gcp_pubsub.subscriber.usecase", "PubSubSubscriberBase"),
    "RetryBackoff": ("faststream_gcp_pubsub.specs", "RetryBackoff"),
    "StreamOptions": ("faststream_gcp_pubsub.transport.base", "StreamOptions"),
    "SubscriptionSpec": ("faststream_gcp_pubsub.specs", "SubscriptionSpec"),
    "TestPubSubBroker": ("faststream_gcp_pubsub.testing", "TestPubSubBroker"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for exported, (module, attribute) in _EXPORTS.items():
        globals()[exported] = getattr(importlib.import_module(module), attribute)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = (
    "BatchSettings",
    "Delivery",
    "DeliveryBatch",
    "DriftFinding",
    "MemoryTransport",
    "ProvisionAction",
    "ProvisionReport",
    "PubSubAsyncAPI",
    "PubSubBatchMessage",
    "PubSubBatchSubscriber",
    "PubSubBroker",
    "PubSubBrokerAnnotation",
    "PubSubMessage",
    "PubSubPublisher",
    "PubSubPublisherArgs",
    "PubSubResponse",
    "PubSubRoute",
    "PubSubRouter",
    "PubSubStreamMessage",
    "PubSubSubscriber",
    "PubSubSubscriberBase",
    "RetryBackoff",
    "StreamOptions",
    "SubscriptionSpec",
    "TestPubSubBroker",
)
