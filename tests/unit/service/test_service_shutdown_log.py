"""A delivery cut short by shutdown still gets its one log line and metric."""

from __future__ import annotations

from typing import cast

import structlog

from faststream_gcp_pubsub import PubSubBroker
from worker.observability.metrics import WorkerMetrics
from worker.runtime import utc_now
from worker.service.policy import Verdict
from worker.service.scope import MessageScope
from worker.service.settle import Settler


def test_a_delivery_given_back_at_shutdown_is_logged_and_counted_as_a_nack() -> None:
    metrics = WorkerMetrics()
    settled: list[tuple[MessageScope, Verdict]] = []
    settler = Settler(
        cast(PubSubBroker, object()),  # never touched: nothing is published on this path
        metrics,
        dead_letter_topics={},
        worker_version="test",
        clock=utc_now,
        on_settled=lambda scope, verdict: settled.append((scope, verdict)),
    )
    scope = MessageScope(subscription="file-arrived-worker", message_id="m-1", delivery_attempt=2)

    with structlog.testing.capture_logs() as logs:
        settler.given_back(scope)

    assert settled == [(scope, Verdict("nack", "shutdown"))]
    (line,) = [entry for entry in logs if entry["event"] == "message.settled"]
    assert line["fate"] == "nack"
    assert line["reason"] == "shutdown"
    assert line["message_id"] == "m-1"
    exposition = metrics.exposition().decode()
    assert 'worker_messages_total{fate="nack",subscription="file-arrived-worker"} 1.0' in exposition
