"""A dedicated fake-gcs-server that publishes Cloud Storage notifications to the emulator.

Wired as production is: uploading an object makes fake-gcs-server publish an
``OBJECT_FINALIZE`` notification to this module's ``file-arrived`` topic on the session's
Pub/Sub emulator, and the worker reads the object back from the same server.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from service_it_support import PROJECT, NotifyingGcs, create_subscription

from worker.devenv.emulators import ManagedProcess, find_fake_gcs_server, start_fake_gcs_server
from worker.service.app import build_service
from worker.service.handle import WorkerService
from worker.settings import Settings, TopicNames
from worker.storage.gcs import GcsStorage


@pytest.fixture(scope="module")
def notifying_gcs(pubsub_emulator: ManagedProcess, emulator_logs: Path) -> Iterator[NotifyingGcs]:
    if find_fake_gcs_server() is None:
        pytest.skip("LOUD SKIP: fake-gcs-server is not installed")
    topic = f"fa-{uuid.uuid4().hex[:10]}"
    server = start_fake_gcs_server(
        emulator_logs,
        pubsub_project=PROJECT,
        pubsub_topic=topic,
        pubsub_emulator_host=pubsub_emulator.host,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", f"http://{server.host}")
        try:
            yield NotifyingGcs(server, topic)
        finally:
            server.stop()


@pytest.fixture
def gcs(notifying_gcs: NotifyingGcs) -> Iterator[GcsStorage]:
    """The test's own client of the notifying server (uploads, checks)."""
    with GcsStorage(project=PROJECT, emulator_host=notifying_gcs.url) as storage:
        yield storage


@pytest.fixture
def landing_bucket(gcs: GcsStorage, unique_name: str) -> str:
    gcs.ensure_bucket(unique_name)
    return unique_name


@pytest.fixture
def output_bucket(gcs: GcsStorage, unique_name: str) -> str:
    name = f"{unique_name}-out"
    gcs.ensure_bucket(name)
    return name


@pytest.fixture
def service_settings(
    notifying_gcs: NotifyingGcs,
    landing_bucket: str,
    unique_name: str,
    tmp_path: Path,
) -> Settings:
    """The worker's settings for one test: its own landing bucket and topics. Tests that
    follow real notifications switch ``file_arrived`` to ``notifying_gcs.topic`` (one
    test per module: a stopped streaming pull keeps its leases on the emulator until the
    ack deadline passes, which would stall the next test's service). Output goes to a
    local directory: fake-gcs-server announces writes to every bucket, so output on it
    comes back as (refused) arrivals."""
    return Settings(
        project=PROJECT,
        landing_uri=f"gs://{landing_bucket}",
        output_uri=str(tmp_path / "output"),
        workdir=str(tmp_path / "work"),
        broker="pubsub",
        log_format="json",
        retry_min_backoff_s=1,
        retry_max_backoff_s=2,
        topics=TopicNames(
            file_arrived=f"{unique_name}-arrived",
            backfill_requested=f"{unique_name}-backfill",
            partition_requested=f"{unique_name}-requested",
            partition_completed=f"{unique_name}-completed",
        ),
    )


@pytest.fixture
def completed_probe(service_settings: Settings, unique_name: str) -> str:
    """A subscription on the test's partition-completed topic."""
    name = f"{unique_name}-completed-probe"
    create_subscription(name, service_settings.topics.partition_completed)
    return name


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[WorkerService]:
    """The worker service in this process on the emulator, its resources provisioned."""
    running = build_service(settings)
    await running.broker.provision()
    async with running.running():
        yield running


@pytest.fixture
async def service(service_settings: Settings, completed_probe: str) -> AsyncIterator[WorkerService]:
    async with serving(service_settings) as running:
        yield running
