"""OpenTelemetry tracing: one trace per message, continuing the producer's trace.

The producer's context travels in Pub/Sub message attributes (W3C ``traceparent`` /
``tracestate``). The service opens a ``process <subscription>`` span from it and the core's
stages (extract, validate, transform, load) become child spans through ``Ports.stage``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Literal

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from worker import __version__

TRACER_NAME = "worker"
TraceExporter = Literal["none", "console"]


def configure_tracing(
    exporter: TraceExporter | SpanExporter = "none", *, service_name: str = "worker"
) -> TracerProvider:
    """Install a TracerProvider; ``none`` keeps spans (and context propagation) but exports
    nothing, ``console`` prints them, a SpanExporter instance (tests) receives them."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, "service.version": __version__})
    )
    if isinstance(exporter, SpanExporter):
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME, __version__)


def inject_context(attributes: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current trace context into outgoing message attributes."""
    propagate.inject(attributes)
    return attributes


@contextlib.contextmanager
def message_span(
    name: str, attributes: Mapping[str, str], span_attributes: Mapping[str, str | int]
) -> Iterator[Span]:
    """A consumer span continuing the trace carried by ``attributes`` (if any)."""
    parent = propagate.extract(dict(attributes))
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=dict(span_attributes)
    ) as span:
        yield span


@contextlib.contextmanager
def stage_span(name: str) -> Iterator[None]:
    """A child span for one pipeline stage; plugged into ``Ports.stage``."""
    with tracer().start_as_current_span(name) as span:
        try:
            yield
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
