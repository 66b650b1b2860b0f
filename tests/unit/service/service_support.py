"""Helpers for the service unit tests: a harness around the service on the test broker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, PubSubStreamMessage, TestPubSubBroker
from faststream_gcp_pubsub.transport.base import OutgoingMessage
from worker.core.model import Ports
from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.errors import TransientStorageError
from worker.events import BackfillCompleted, PartitionCompleted, PartitionRequested, decode
from worker.service.app import build_service
from worker.service.handle import WorkerService
from worker.settings import Settings
from worker.storage.base import ObjectInfo, Storage

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
    client: TestPubSubBroker[PubSubBroker] | None = None
    completed: list[Received] = field(default_factory=list)
    requested: list[Received] = field(default_factory=list)
    backfills_completed: list[Received] = field(default_factory=list)
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

    async def publish_raw(self, topic: str, body: bytes, attributes: dict[str, str]) -> None:
        """Publish exactly these bytes and attributes (the broker's publish adds its own
        correlation id) and handle everything it sets off."""
        assert self.client is not None
        await self.client.transport.publish(topic, [OutgoingMessage(body, attributes)])
        await self.client.drain()

    def completion_events(self) -> list[PartitionCompleted]:
        return [decode(m.body, m.attributes, PartitionCompleted) for m in self.completed]

    def backfill_completed_events(self) -> list[BackfillCompleted]:
        return [decode(m.body, m.attributes, BackfillCompleted) for m in self.backfills_completed]

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

    broker.subscriber("completed-probe", topic=topics.partition_completed, decoder=_raw)(
        _recorder(harness_lists.completed)
    )
    broker.subscriber("requested-probe", topic=topics.partition_requested, decoder=_raw)(
        _recorder(harness_lists.requested)
    )
    broker.subscriber("backfill-completed-probe", topic=topics.backfill_completed, decoder=_raw)(
        _recorder(harness_lists.backfills_completed)
    )
    for topic in (topics.file_arrived, topics.backfill_requested, topics.partition_requested):
        dead_letter_topic = service.settings.dead_letter_topic_for(topic)
        received = harness_lists.dead_letters.setdefault(topic, [])
        broker.subscriber(f"{dead_letter_topic}-probe", topic=dead_letter_topic, decoder=_raw)(
            _recorder(received)
        )


async def _raw(message: PubSubStreamMessage) -> bytes:
    """Probes take any bytes: a dead letter's body is whatever arrived."""
    return bytes(message.body)


def _recorder(into: list[Received]) -> Callable[[PubSubStreamMessage], Awaitable[None]]:
    async def record(message: PubSubMessage) -> None:
        into.append(Received(bytes(message.body), dict(message.attributes)))

    return record


@contextlib.asynccontextmanager
async def running_harness(
    tmp_path: Path, *, ports: Callable[[Settings], Ports] | None = None, **overrides: object
) -> AsyncIterator[Harness]:
    """The service built from test settings (plus ``overrides``) on the test broker;
    ``ports`` builds the core's ports instead of the runtime."""
    settings = make_settings(tmp_path, **overrides)
    service = build_service(settings, ports=ports(settings) if ports else None)
    landing, output = tmp_path / "landing", tmp_path / "output"
    landing.mkdir(exist_ok=True)
    harness = Harness(service, service.broker, landing, output)
    attach_probes(service, harness)
    # The service's failure handling is about redelivery: the test client models it.
    client = TestPubSubBroker(service.broker, redeliver=True)
    async with client as broker:
        harness.broker, harness.client = broker, client
        yield harness


class FlakyStorage:
    """A test double: the real storage, except that the next ``failures`` reads of a
    manifest fail as a storage outage does once in-process retries are spent."""

    def __init__(self, inner: Storage, failures: int) -> None:
        self._inner = inner
        self.failures = failures

    def stat(self, uri: str) -> ObjectInfo | None:
        return self._inner.stat(uri)

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        return self._inner.list(prefix_uri)

    def download(self, uri: str, dest: Path) -> ObjectInfo:
        return self._inner.download(uri, dest)

    def upload(self, src: Path, uri: str) -> ObjectInfo:
        return self._inner.upload(src, uri)

    def read_bytes(self, uri: str) -> tuple[bytes, int] | None:
        if self.failures > 0 and uri.endswith("_manifest.json"):
            self.failures -= 1
            raise TransientStorageError("read failed after 5 attempt(s): 503", where=uri)
        return self._inner.read_bytes(uri)

    def write_bytes(self, uri: str, data: bytes, *, if_generation_match: int | None = None) -> int:
        return self._inner.write_bytes(uri, data, if_generation_match=if_generation_match)

    def delete(self, uri: str) -> None:
        self._inner.delete(uri)

    def local_path(self, uri: str) -> Path | None:
        return self._inner.local_path(uri)
