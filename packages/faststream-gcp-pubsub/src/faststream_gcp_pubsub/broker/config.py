"""Broker-wide state shared by subscribers and publishers through FastStream's config chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from faststream._internal.configs import (
    BrokerConfig,
    UnderlyingDriverAnnotation,
    UnderlyingDriverAnnotations,
)
from faststream._internal.parser import DefaultCodec
from faststream.exceptions import IncorrectState

from faststream_gcp_pubsub.publisher.producer import PubSubProducer

if TYPE_CHECKING:
    from faststream_gcp_pubsub.transport.base import Transport


def _driver_annotations() -> UnderlyingDriverAnnotations:
    # Imported late: the annotations module imports the broker, which imports this one.
    import faststream_gcp_pubsub.annotations as annotations
    from faststream_gcp_pubsub.broker.broker import PubSubBroker
    from faststream_gcp_pubsub.message import PubSubMessage

    return MappingProxyType(
        {
            PubSubMessage: UnderlyingDriverAnnotation(
                type_hint=annotations.PubSubMessage,
                module="faststream_gcp_pubsub",
                name="PubSubMessage",
            ),
            PubSubBroker: UnderlyingDriverAnnotation(
                type_hint=annotations.PubSubBrokerAnnotation,
                module="faststream_gcp_pubsub.annotations",
                name="PubSubBrokerAnnotation",
            ),
        }
    )


@dataclass(kw_only=True)
class PubSubBrokerConfig(BrokerConfig):
    producer: PubSubProducer = field(default_factory=PubSubProducer)
    reconnect_backoff: tuple[float, float] = (0.5, 30.0)
    """Wait before re-opening a failed stream: starts at the first, doubles up to the second."""
    reprovision_on_reconnect: bool = True
    """Re-create a subscriber's resources before re-opening its stream, once provisioned."""
    provisioned: bool = False
    running: bool = False
    """Set once the broker started: a subscriber started later checks its resources."""
    in_test_client: bool = False
    """Under ``TestPubSubBroker``: subscribers open no streams, the client delivers."""
    default_driver_annotations: UnderlyingDriverAnnotations = field(
        default_factory=_driver_annotations
    )
    _transport: Transport | None = field(default=None, repr=False)

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            msg = "Pub/Sub broker is not connected: call connect() or start() first"
            raise IncorrectState(msg)
        return self._transport

    def connect(self, transport: Transport) -> None:
        self._transport = transport
        self.producer.connect(
            transport, self.fd_config._serializer, self.broker_codec or DefaultCodec()
        )

    def disconnect(self) -> None:
        self._transport = None
        self.producer.disconnect()
