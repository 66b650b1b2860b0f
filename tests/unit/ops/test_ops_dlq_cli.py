"""``worker dlq`` rendering and exit codes, over stand-in Pub/Sub clients."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from ops_fakes import FakePublisher, FakeSubscriber, StoredMessage
from typer.testing import CliRunner

from worker.cli import dlq as dlq_cli
from worker.cli.app import app
from worker.errors import UnroutableError
from worker.events import dead_letter_attributes
from worker.ops.dlq import DeadLetterQueue
from worker.settings import Settings


@pytest.fixture
def subscriber(monkeypatch: pytest.MonkeyPatch) -> FakeSubscriber:
    attributes = dead_letter_attributes(
        {"bucketId": "landing", "objectId": "trips/2024-01-15.csv"},
        error=UnroutableError("no dataset matches", where="gs://landing/trips/2024-01-15.csv"),
        stage="route",
        subscription="file-arrived-worker",
        message_id="orig-7",
        delivery_attempt=2,
        worker_version="0.1.0",
        now=datetime(2024, 1, 16, 8, 30, tzinfo=UTC),
    )
    fake = FakeSubscriber([StoredMessage("dlq-7", b"{broken", attributes)])
    publisher = FakePublisher(fake.events, missing_topics=frozenset({"gone"}))

    def open_queue(settings: Settings, wait_s: float) -> DeadLetterQueue:
        return DeadLetterQueue(settings.project, clients=(fake, publisher))

    monkeypatch.setattr(dlq_cli, "open_queue", open_queue)
    return fake


def test_list_renders_one_row_per_dead_letter(subscriber: FakeSubscriber) -> None:
    result = CliRunner().invoke(app, ["dlq", "list", "-s", "file-arrived-dlq-keep"])
    assert result.exit_code == 0, result.output
    assert "file-arrived-dlq-keep: 1 dead letters (left in place)" in result.output
    for shown in (
        "2024-01-16T08:30:00.000+00:00",
        "unroutable",
        "UnroutableError",
        "object gs://landing/trips/2024-01-15.csv",
        "orig-7",
    ):
        assert shown in result.output
    assert subscriber.acked == []


def test_list_json_is_the_listing_records(subscriber: FakeSubscriber) -> None:
    result = CliRunner().invoke(app, ["dlq", "list", "-s", "file-arrived-dlq-keep", "--json"])
    records = json.loads(result.output)
    assert [(r["message_id"], r["reason"], r["delivery_attempt"]) for r in records] == [
        ("dlq-7", "unroutable", 2)
    ]


def test_replay_failure_exits_2_naming_the_dead_letter(subscriber: FakeSubscriber) -> None:
    result = CliRunner().invoke(
        app, ["dlq", "replay", "-s", "file-arrived-dlq-keep", "--to-topic", "gone"]
    )
    assert result.exit_code == 2
    assert "1 of 1 dead letters not replayed: dlq-7" in result.output
    assert "dlq-7" in subscriber.available


def test_replay_summary_counts_what_was_replayed(subscriber: FakeSubscriber) -> None:
    result = CliRunner().invoke(app, ["dlq", "replay", "-s", "file-arrived-dlq-keep", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"] == {"replayed": 1, "failed": 0, "unacked": 0, "dry-run": 0}
    assert report["outcomes"][0]["topic"] == "projects/local-project/topics/file-arrived"
    assert subscriber.acked == ["dlq-7"]
