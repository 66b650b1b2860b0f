from __future__ import annotations

from worker.observability.metrics import WorkerMetrics


def test_fates_rows_and_durations_are_exposed() -> None:
    metrics = WorkerMetrics()
    metrics.message("file-arrived-worker", "ack")
    metrics.message("file-arrived-worker", "ack")
    metrics.message("file-arrived-worker", "dead-letter")
    metrics.partition("trips", "committed", 1.5, rows_in=10, rows_out=8, rows_quarantined=2)

    text = metrics.exposition().decode()
    assert 'worker_messages_total{fate="ack",subscription="file-arrived-worker"} 2.0' in text
    assert 'worker_messages_total{fate="dead-letter",subscription="file-arrived-worker"} 1.0' in (
        text
    )
    assert 'worker_rows_processed_total{dataset="trips",kind="quarantined"} 2.0' in text
    assert 'worker_partition_duration_seconds_count{dataset="trips",status="committed"} 1.0' in (
        text
    )


def test_two_instances_do_not_share_counts() -> None:
    first, second = WorkerMetrics(), WorkerMetrics()
    first.message("s", "nack")
    assert "worker_messages_total{" not in second.exposition().decode()
