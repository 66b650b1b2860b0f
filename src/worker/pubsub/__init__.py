"""FastStream broker for Google Cloud Pub/Sub: transport only, no business logic.

```python
from faststream import FastStream
from worker.pubsub import PubSubBroker, PubSubMessage

broker = PubSubBroker(project="my-project")  # PUBSUB_EMULATOR_HOST is honored


@broker.subscriber("file-arrived-worker", topic="file-arrived",
                   dead_letter_topic="file-arrived-dlq", retry_backoff=(10, 600))
@broker.publisher("partition-completed")
async def on_file(event: dict, msg: PubSubMessage) -> dict: ...


app = FastStream(broker)
```

See docs/pubsub-broker.md.
"""

from worker.pubsub.annotations import PubSubBatchMessage, PubSubBrokerAnnotation, PubSubMessage
from worker.pubsub.batch import DeliveryBatch
from worker.pubsub.broker.broker import PubSubBroker
from worker.pubsub.broker.router import PubSubPublisherArgs, PubSubRoute, PubSubRouter
from worker.pubsub.message import PubSubMessage as PubSubStreamMessage
from worker.pubsub.provision import DriftFinding, ProvisionAction, ProvisionReport
from worker.pubsub.publisher.usecase import PubSubPublisher
from worker.pubsub.response import PubSubResponse
from worker.pubsub.specs import RetryBackoff, SubscriptionSpec
from worker.pubsub.subscriber.usecase import (
    PubSubBatchSubscriber,
    PubSubSubscriber,
    PubSubSubscriberBase,
)
from worker.pubsub.testing import TestPubSubBroker
from worker.pubsub.transport.base import BatchSettings, Delivery, StreamOptions
from worker.pubsub.transport.memory import MemoryTransport

__all__ = (
    "BatchSettings",
    "Delivery",
    "DeliveryBatch",
    "DriftFinding",
    "MemoryTransport",
    "ProvisionAction",
    "ProvisionReport",
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
