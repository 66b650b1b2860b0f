"""``worker publish`` and ``worker setup`` as an operator runs them (in-process CLI)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner, Result

from worker.cli.app import app
from worker.datasets.trips_sample import generate_trips_csv, sample_name


@pytest.fixture(autouse=True)
def memory_broker_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clean WORKER_* environment on the memory broker, in a temp working directory."""
    for name in list(os.environ):
        if name.startswith("WORKER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKER_BROKER", "memory")
    monkeypatch.setenv("WORKER_LOG_FORMAT", "json")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def worker(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def land(day: date) -> Path:
    path = Path("data/landing") / sample_name(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(generate_trips_csv(day, 12))
    return path.absolute()


def test_publish_file_arrived_on_the_memory_broker_processes_it_in_process() -> None:
    path = land(date(2024, 3, 1))
    result = worker("publish", "file-arrived", "--uri", str(path), "--encoding", "avro")

    assert result.exit_code == 0, result.output
    assert "committed trips 2024-03-01" in result.stdout
    assert "(12 rows)" in result.stdout
    assert "published file-arrived to file-arrived: message id 1" in result.stdout
    assert list(Path("data/output/trips").rglob("_manifest.json"))


def test_publish_backfill_fans_out_and_commits_every_day() -> None:
    for day in (1, 2, 3):
        land(date(2024, 3, day))
    result = worker(
        "publish", "backfill", "--dataset", "trips",
        "--start-date", "2024-03-01", "--end-date", "2024-03-03", "--reason", "test",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        assert f"committed trips {day}" in result.stdout
    assert "backfill id bf-" in result.stdout


def test_publishing_a_missing_file_is_an_input_error() -> None:
    result = worker("publish", "file-arrived", "--uri", str(Path("nope.csv").absolute()))
    assert result.exit_code == 4
    assert "cannot announce a file that does not exist" in result.stderr


def test_a_bad_backfill_range_is_a_configuration_error() -> None:
    result = worker(
        "publish", "backfill", "--dataset", "trips",
        "--start-date", "2024-03-05", "--end-date", "2024-03-01",
    )  # fmt: skip
    assert result.exit_code == 3


def test_setup_refuses_the_memory_broker() -> None:
    result = worker("setup", "--dry-run")
    assert result.exit_code == 3
    assert "nothing to set up" in result.stderr


def test_binding_topics_needs_avro_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """A topic with a schema accepts only messages in its encoding
    (https://cloud.google.com/pubsub/docs/publish-topics-schema), and the worker publishes
    to the bound topics itself, so its own events must be Avro."""
    monkeypatch.setenv("WORKER_BROKER", "pubsub")
    result = worker("setup", "--dry-run", "--bind-topics")
    assert result.exit_code == 3
    assert "WORKER_EVENT_ENCODING=avro" in result.stderr
