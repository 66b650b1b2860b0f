"""Fixtures for the GCS adapter against the real fake-gcs-server (optionally behind a proxy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.faulty_proxy import FaultyProxy
from worker.devenv.emulators import ManagedProcess
from worker.storage.gcs import GcsStorage
from worker.storage.retry import RetryPolicy


@pytest.fixture
def fast_retries() -> RetryPolicy:
    """Short waits keep the suite fast; the backoff shape itself is unit-tested."""
    return RetryPolicy(attempts=4, initial_backoff_s=0.01, max_backoff_s=0.05)


@pytest.fixture
def gcs(gcs_server: ManagedProcess, fast_retries: RetryPolicy) -> Iterator[GcsStorage]:
    """An adapter talking straight to fake-gcs-server through STORAGE_EMULATOR_HOST."""
    with GcsStorage(retry_policy=fast_retries) as store:
        yield store


@pytest.fixture
def bucket(gcs: GcsStorage, unique_name: str) -> str:
    gcs.ensure_bucket(unique_name)
    return unique_name


@pytest.fixture
def proxy(gcs_server: ManagedProcess) -> Iterator[FaultyProxy]:
    with FaultyProxy(upstream=gcs_server.host) as running:
        yield running


@pytest.fixture
def proxied(proxy: FaultyProxy, fast_retries: RetryPolicy) -> Iterator[GcsStorage]:
    """An adapter whose every request passes through the fault-injecting proxy."""
    with GcsStorage(emulator_host=proxy.url, retry_policy=fast_retries, timeout_s=10) as store:
        yield store
