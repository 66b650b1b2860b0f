"""FastStream's FastAPI integration for Pub/Sub (``pip install faststream-gcp-pubsub[fastapi]``).

As ``faststream.redis.fastapi`` is for Redis: a :class:`PubSubRouter` is a FastAPI
``APIRouter`` that owns a :class:`~faststream_gcp_pubsub.PubSubBroker`; include it in the
app and the app's lifespan starts and stops the broker.
"""

from typing import Annotated

from faststream._internal.fastapi.context import Context, ContextRepo, Logger

from faststream_gcp_pubsub.broker.broker import PubSubBroker as _Broker
from faststream_gcp_pubsub.fastapi.router import PubSubRouter
from faststream_gcp_pubsub.message import PubSubMessage as _Message

PubSubMessage = Annotated[_Message, Context("message")]
"""The message being handled, for a handler's signature."""
PubSubBroker = Annotated[_Broker, Context("broker")]
"""The router's broker, for a handler's signature."""

__all__ = (
    "Context",
    "ContextRepo",
    "Logger",
    "PubSubBroker",
    "PubSubMessage",
    "PubSubRouter",
)
