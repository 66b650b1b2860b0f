"""Prometheus metrics for the Pub/Sub broker (FastStream's metric set, by subscription/topic)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from faststream._internal.constants import EMPTY
from faststream.prometheus import ConsumeAttrs, MetricsSettingsProvider
from faststream.prometheus.middleware import PrometheusMiddleware

from faststream_gcp_pubsub.opentelemetry import MESSAGING_SYSTEM
from faststream_gcp_pubsub.response import PubSubPublishCommand
from faststream_gcp_pubsub.transport.base import Delivery

if TYPE_CHECKING:
    from faststream.message import StreamMessage
    from prometheus_client import CollectorRegistry


class PubSubMetricsSettingsProvider(MetricsSettingsProvider[Delivery, PubSubPublishCommand]):
    __slots__ = ("messaging_system",)

    def __init__(self) -> None:
        self.messaging_system = MESSAGING_SYSTEM

    def get_consume_attrs_from_message(self, msg: StreamMessage[Delivery]) -> ConsumeAttrs:
        return {
            "destination_name": msg.raw_message.subscription,
            "message_size": len(msg.body),
            "messages_count": 1,
        }

    def get_publish_destination_name_from_cmd(self, cmd: PubSubPublishCommand) -> str:
        return cmd.destination


class PubSubPrometheusMiddleware(PrometheusMiddleware[Delivery, PubSubPublishCommand]):
    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        app_name: str = EMPTY,
        metrics_prefix: str = "faststream",
        received_messages_size_buckets: Sequence[float] | None = None,
        custom_labels: dict[str, str | Callable[[Any], str]] | None = None,
    ) -> None:
        super().__init__(
            settings_provider_factory=lambda _: PubSubMetricsSettingsProvider(),
            registry=registry,
            app_name=app_name,
            metrics_prefix=metrics_prefix,
            received_messages_size_buckets=received_messages_size_buckets,
            custom_labels=custom_labels,
        )
