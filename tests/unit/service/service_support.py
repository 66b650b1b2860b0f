"""Helpers for the service unit tests: a harness around the service on the test broker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.events import PartitionCompleted, PartitionRequested, decode
from worker.pubsub import PubSubBroker, PubSubMessage, PubSubStreamMessage, TestPubSubBroker
from worker.service.app import build_service
from worker.service.handle import WorkerService
from worker.settings import Settings

DAY = date(2024, 1, 15)


@dataclass
class Received:
    """A message as a probe subscription received it."""

    body: bytes
    attributes: dict[str, str]


@dataclass
class Harness:
    service: WorkerService
    broker: PubSubBroker
    landing: Path
    output: Path
    completed: list[Received] = field(default_factory=list)
    requested: list[Received] = field(default_factory=list)
    dead_letters: dict[str, list[Received]] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.service.settings

    def write_trips(
        self, day: date = DAY, rows: int = 20, bad_row_fraction: float = 0.0, seed: int = 0
    ) -> Path:
        path = self.landing / sample_name(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_trips_csv(day, rows, bad_row_fraction, seed))
        return path

    def completion_events(self) -> list[PartitionCompleted]:
        return [decode(m.body, m.attributes, PartitionCompleted) for m in self.completed]

    def requested_events(self) -> list[PartitionRequested]:
        return [decode(m.body, m.attributes, PartitionRequested) for m in self.requested]

    def fates(self) -> list[tuple[str, str]]:
        return [(record.fate, record.reason) for record in self.service.fates]


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "landing_uri": str(tmp_path / "landing"),
        "output_uri": str(tmp_path / "output"),
        "workdir": str(tmp_path / "work"),
        "broker": "memory",
        "log_format": "json",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def attach_probes(service: WorkerService, harness_lists: Harness) -> None:
    """Subscriptions that record what the service publishes (completions, dead letters)."""
    broker, topics = service.broker, service.settings.topics

    broker.subscriber("completed-probe", topic=topics.partition_completed)(
        _recorder(harness_lists.completed)
    )
    broker.subscriber("requested-probe", topic=topics.partition_requested)(
        _recorder(harness_lists.requested)
    )
    for topic in (topics.file_arrived, topics.backfill_requested, topics.partition_requested):
        dead_letter_topic = service.settings.dead_letter_topic_for(topic)
        received = harness_lists.dead_letters.setdefault(topic, [])
        broker.subscriber(f"{dead_letter_topic}-probe", topic=dead_letter_topic)(
            _recorder(received)
        )


def _recorder(into: list[Received]) -> Callable[[PubSubStreamMessage], Awaitable[None]]:
    async def record(message: PubSubMessage) -> None:
        into.append(Received(bytes(message.body), dict(message.attributes)))

    return record


@contextlib.asynccontextmanager
async def running_harness(tmp_path: Path, **overrides: object) -> AsyncIterator[Harness]:
    """The service built from test settings (plus ``overrides``) on the test broker."""
    service = build_service(make_settings(tmp_path, **overrides))
    landing, output = tmp_path / "landing", tmp_path / "output"
    landing.mkdir(exist_ok=True)
    harness = Harness(service, service.broker, landing, output)
    attach_probes(service, harness)
    async with TestPubSubBroker(service.broker) as broker:
        harness.broker = broker
        yield harness
