"""Context annotations for handler signatures: ``msg: PubSubMessage``, ``PubSubBatchMessage``."""

from __future__ import annotations

from typing import Annotated

from faststream import Context

from worker.pubsub.batch import PubSubBatchMessage as _PubSubBatchMessage
from worker.pubsub.broker.broker import PubSubBroker as _PubSubBroker
from worker.pubsub.message import PubSubMessage as _PubSubMessage

PubSubMessage = Annotated[_PubSubMessage, Context("message")]
PubSubBatchMessage = Annotated[_PubSubBatchMessage, Context("message")]
PubSubBrokerAnnotation = Annotated[_PubSubBroker, Context("broker")]

__all__ = ("PubSubBatchMessage", "PubSubBrokerAnnotation", "PubSubMessage")
