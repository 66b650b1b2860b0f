"""OpenTelemetry and Prometheus middlewares on the Pub/Sub broker."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, TestPubSubBroker
from faststream_gcp_pubsub.opentelemetry import PubSubTelemetryMiddleware
from faststream_gcp_pubsub.prometheus import PubSubPrometheusMiddleware


async def test_trace_context_travels_in_attributes_from_publisher_to_consumer() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    broker = PubSubBroker(
        middlewares=[PubSubTelemetryMiddleware(tracer_provider=provider)], logger=None
    )
    seen_attributes: list[dict[str, str]] = []

    @broker.subscriber("in-sub", topic="in-topic")
    async def handle(body: str, msg: PubSubMessage) -> None:
        seen_attributes.append(dict(msg.attributes))

    async with TestPubSubBroker(broker) as br:
        await br.publish("hello", "in-topic")

    [attributes] = seen_attributes
    assert "traceparent" in attributes
    spans = exporter.get_finished_spans()
    producer = next(s for s in spans if s.kind is SpanKind.PRODUCER)
    consumer = next(s for s in spans if s.kind is SpanKind.CONSUMER)
    assert consumer.context.trace_id == producer.context.trace_id
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.system"] == "gcp_pubsub"
    assert consumer.attributes["messaging.message.id"] == "1"
    assert producer.attributes is not None
    assert producer.attributes["messaging.destination.name"] == "in-topic"


async def test_prometheus_counts_received_messages_per_subscription() -> None:
    registry = CollectorRegistry()
    broker = PubSubBroker(
        middlewares=[PubSubPrometheusMiddleware(registry=registry, app_name="worker")],
        logger=None,
    )

    @broker.subscriber("in-sub", topic="in-topic")
    async def handle(body: str) -> None: ...

    async with TestPubSubBroker(broker) as br:
        await br.publish_batch("a", "b", topic="in-topic")

    received = registry.get_sample_value(
        "faststream_received_messages_total",
        {"app_name": "worker", "broker": "gcp_pubsub", "handler": "in-sub"},
    )
    published = registry.get_sample_value(
        "faststream_published_messages_total",
        {
            "app_name": "worker",
            "broker": "gcp_pubsub",
            "destination": "in-topic",
            "status": "success",
        },
    )
    assert received == 2
    assert published == 2
