"""Google's synchronous Pub/Sub clients for operator tools, and their error translation.

The adapter boundary of :mod:`worker.ops`: nothing above it sees a ``google.*`` exception.
"""

from __future__ import annotations

from typing import Any

from faststream_gcp_pubsub.errors import BrokerError, TransientBrokerError
from worker.errors import ConfigurationError, WorkerError


def translate_error(error: Exception, where: str) -> WorkerError | BrokerError:
    """A Google client error as the worker's error tree names it."""
    from google.api_core import exceptions as google

    if isinstance(error, WorkerError | BrokerError):
        return error
    text = f"{type(error).__name__}: {getattr(error, 'message', None) or error}"
    if isinstance(error, google.NotFound):
        return ConfigurationError(f"not found: {text}", where=where)
    if isinstance(
        error,
        google.ServiceUnavailable
        | google.DeadlineExceeded
        | google.InternalServerError
        | google.TooManyRequests
        | google.Aborted,
    ):
        return TransientBrokerError(text, where=where)
    return BrokerError(text, where=where)


def make_clients(emulator_host: str | None = None) -> tuple[Any, Any]:
    """Google's subscriber and publisher clients; ``emulator_host`` wins over the
    environment's ``PUBSUB_EMULATOR_HOST`` (which the clients read themselves).

    The publisher has message ordering enabled, so a message can be republished with its
    ordering key (messages without one are published as before)."""
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient, types

    ordered = types.PublisherOptions(enable_message_ordering=True)
    if not emulator_host:
        return SubscriberClient(), PublisherClient(publisher_options=ordered)
    # grpcio ships no type information and the project pins no stubs for it.
    import grpc  # type: ignore[import-untyped]
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    # The emulator speaks plaintext gRPC; an api_endpoint alone would attempt TLS.
    subscriber = SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(emulator_host))
    )
    publisher = PublisherClient(
        publisher_options=ordered,
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(emulator_host)),
    )
    return subscriber, publisher
