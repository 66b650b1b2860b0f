from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from worker.observability.tracing import (
    configure_tracing,
    inject_context,
    message_span,
    stage_span,
    tracer,
)


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    memory = InMemorySpanExporter()
    configure_tracing(memory)
    return memory


def test_message_span_continues_the_producer_trace(exporter: InMemorySpanExporter) -> None:
    exporter.clear()
    with tracer().start_as_current_span("publish") as producer:
        attributes: dict[str, str] = {}
        inject_context(attributes)
    assert "traceparent" in attributes

    with (
        message_span("process sub", attributes, {"messaging.message.id": "42"}),
        stage_span("extract"),
    ):
        pass

    spans = {span.name: span for span in exporter.get_finished_spans()}
    producer_trace = producer.get_span_context().trace_id
    assert spans["process sub"].context.trace_id == producer_trace
    assert spans["process sub"].parent is not None
    assert spans["process sub"].parent.span_id == producer.get_span_context().span_id
    assert spans["extract"].parent is not None
    assert spans["extract"].parent.span_id == spans["process sub"].context.span_id


def test_message_without_context_starts_a_new_trace(exporter: InMemorySpanExporter) -> None:
    exporter.clear()
    with message_span("process sub", {}, {}):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.parent is None


def test_stage_span_records_the_failure(exporter: InMemorySpanExporter) -> None:
    exporter.clear()
    with pytest.raises(ValueError, match="boom"), stage_span("load"):
        raise ValueError("boom")
    (span,) = exporter.get_finished_spans()
    assert not span.status.is_ok
    assert span.events[0].name == "exception"
