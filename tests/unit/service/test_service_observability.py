"""One trace per message continuing the producer's, one log line per fate, lease heartbeats."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from service_support import Harness

from faststream_gcp_pubsub.message import PubSubMessage
from worker.events import encode
from worker.observability.tracing import inject_context, tracer
from worker.runtime import utc_now
from worker.service.lease import LeaseHeartbeat
from worker.service.publishing import file_arrived_event


async def test_one_trace_per_message_continues_the_producers_trace(
    harness: Harness, span_exporter: InMemorySpanExporter
) -> None:
    path = harness.write_trips()
    event = file_arrived_event(str(path), generation=1, size=None, event_time=utc_now())
    body, attributes = encode(event, "application/json")
    with tracer().start_as_current_span("producer") as producer:
        inject_context(attributes)
    span_exporter.clear()

    await harness.publish_raw(harness.settings.topics.file_arrived, body, attributes)

    trace_id = producer.get_span_context().trace_id
    in_trace = {
        s.name for s in span_exporter.get_finished_spans() if s.context.trace_id == trace_id
    }
    stages = {"decode", "extract", "validate", "transform", "load", "publish"}
    assert {"process file-arrived-worker", *stages} <= in_trace
    (completion,) = harness.completed
    assert f"{trace_id:032x}" in completion.attributes["traceparent"]


async def test_each_fate_is_one_log_line_with_the_message_context(harness: Harness) -> None:
    path = harness.write_trips()
    with structlog.testing.capture_logs() as logs:
        await harness.service.publish_file_arrived(str(path))
        await harness.publish_raw(
            harness.settings.topics.file_arrived, b"{", {"content-type": "application/json"}
        )

    settled = [entry for entry in logs if entry["event"] == "message.settled"]
    assert [entry["fate"] for entry in settled] == ["ack", "dead-letter"]
    done, dead = settled
    assert done["dataset"] == "trips"
    assert done["partition"] == "2024-01-15"
    assert done["run_id"] == harness.completion_events()[0].run_id
    assert done["delivery_attempt"] == 1
    assert done["subscription"] == "file-arrived-worker"
    assert done["message_id"]
    assert dead["reason"] == "decode"
    assert dead["stage"] == "decode"
    assert dead["error_type"] == "DecodeError"


async def test_log_context_is_cleared_after_each_message(harness: Harness) -> None:
    await harness.service.publish_file_arrived(str(harness.write_trips()))
    assert "dataset" not in structlog.contextvars.get_contextvars()
    assert "message_id" not in structlog.contextvars.get_contextvars()


async def test_processing_extends_the_lease_between_stages(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    extensions: list[tuple[str, float]] = []

    async def record(message: PubSubMessage, seconds: float) -> None:
        extensions.append((message.message_id, seconds))

    monkeypatch.setattr(PubSubMessage, "extend_lease", record)
    await harness.service.publish_file_arrived(str(harness.write_trips()))

    # One beat after each of extract, validate, transform and load.
    assert len(extensions) == 4
    assert {seconds for _, seconds in extensions} == {harness.settings.ack_deadline_s}


class _Message:
    message_id = "m-1"

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[float] = []
        self.fail = fail

    async def extend_lease(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.fail:
            raise RuntimeError("lease gone")


async def test_a_heartbeat_from_a_worker_thread_extends_the_lease_on_the_loop() -> None:
    message = _Message()
    heartbeat = LeaseHeartbeat(message, asyncio.get_running_loop(), 45)
    await asyncio.to_thread(heartbeat)
    await asyncio.sleep(0)
    assert message.calls == [45]


async def test_a_failed_extension_is_logged_not_raised() -> None:
    message = _Message(fail=True)
    heartbeat = LeaseHeartbeat(message, asyncio.get_running_loop(), 30)
    with structlog.testing.capture_logs() as logs:
        await asyncio.to_thread(heartbeat)
        for _ in range(3):
            await asyncio.sleep(0)
    assert message.calls == [30]
    assert [entry["event"] for entry in logs] == ["lease.extend_failed"]
