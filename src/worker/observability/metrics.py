"""Prometheus metrics of the service, exposed at ``/metrics`` beside the health endpoints.

``worker_messages_total{subscription,fate}`` counts each message's fate (ack, nack,
dead-letter, ignored); ``worker_rows_processed_total{dataset,kind}`` counts rows in, out
and quarantined; ``worker_partition_duration_seconds{dataset,status}`` times partitions;
``worker_quality_check_failures_total{dataset,check}`` counts failed partition checks (a
warning on a committed partition, or an error that failed it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

Fate = Literal["ack", "nack", "dead-letter", "ignored", "duplicate"]


class WorkerMetrics:
    """The service's metrics, on their own registry so tests and apps don't collide."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.messages = Counter(
            "worker_messages",
            "Messages handled, by subscription and fate.",
            ("subscription", "fate"),
            registry=self.registry,
        )
        self.rows = Counter(
            "worker_rows_processed",
            "Rows processed, by dataset and kind (in, out, quarantined).",
            ("dataset", "kind"),
            registry=self.registry,
        )
        self.partition_duration = Histogram(
            "worker_partition_duration_seconds",
            "Wall time of one partition, by dataset and status.",
            ("dataset", "status"),
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
            registry=self.registry,
        )

        self.quality_failures = Counter(
            "worker_quality_check_failures",
            "Partition checks that failed, by dataset and check (warnings and errors).",
            ("dataset", "check"),
            registry=self.registry,
        )

    def quality(self, dataset: str, failed_checks: Iterable[str]) -> None:
        for check in failed_checks:
            self.quality_failures.labels(dataset=dataset, check=check).inc()

    def message(self, subscription: str, fate: Fate) -> None:
        self.messages.labels(subscription=subscription, fate=fate).inc()

    def partition(
        self,
        dataset: str,
        status: str,
        duration_s: float,
        rows_in: int,
        rows_out: int,
        rows_quarantined: int,
    ) -> None:
        self.partition_duration.labels(dataset=dataset, status=status).observe(duration_s)
        self.rows.labels(dataset=dataset, kind="in").inc(rows_in)
        self.rows.labels(dataset=dataset, kind="out").inc(rows_out)
        self.rows.labels(dataset=dataset, kind="quarantined").inc(rows_quarantined)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
