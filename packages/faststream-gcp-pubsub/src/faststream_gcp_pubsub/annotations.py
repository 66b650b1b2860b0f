"""Context annotations for handler signatures: ``msg: PubSubMessage``, ``PubSubBatchMessage``."""

from __future__ import annotations

from typing import Annotated

from faststream import Context

from faststream_gcp_pubsub.batch import PubSubBatchMessage as _PubSubBatchMessage
from faststream_gcp_pubsub.broker.broker import PubSubBroker as _PubSubBroker
from faststream_gcp_pubsub.message import PubSubMessage as _PubSubMessage

PubSubMessage = Annotated[_PubSubMessage, Context("message")]
PubSubBatchMessage = Annotated[_PubSubBatchMessage, Context("message")]
PubSubBrokerAnnotation = Annotated[_PubSubBroker, Context("broker")]

__all__ = ("PubSubBatchMessage", "PubSubBrokerAnnotation", "PubSubMessage")
