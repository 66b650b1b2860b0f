"""Two ``worker serve`` processes share one backfill: every partition is done exactly once.

The operator's path, end to end: ``worker setup`` provisions, two ``worker serve``
subprocesses consume the same subscriptions, ``worker publish backfill`` asks for a range,
and each process is stopped by its PID with SIGTERM (exit code 0).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from service_it_support import (
    PROJECT,
    completions,
    create_subscription,
    pull,
    pull_until,
    upload_trips,
    wait_ready,
)

from worker.core.manifest import read_manifest
from worker.devenv.emulators import free_port
from worker.storage.gcs import GcsStorage

pytestmark = pytest.mark.integration

START = date(2024, 4, 1)
DAYS = 6


def worker_env(unique_name: str, landing: str, output: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKER_PROJECT": PROJECT,
        "WORKER_BROKER": "pubsub",
        "WORKER_LANDING_URI": f"gs://{landing}",
        "WORKER_OUTPUT_URI": f"gs://{output}",
        "WORKER_WORKDIR": str(tmp_path / "work"),
        "WORKER_LOG_FORMAT": "json",
        "WORKER_RETRY_MIN_BACKOFF_S": "1",
        "WORKER_RETRY_MAX_BACKOFF_S": "2",
        "WORKER_SHUTDOWN_GRACE_S": "10",
        "WORKER_TOPIC_FILE_ARRIVED": f"{unique_name}-arrived",
        "WORKER_TOPIC_BACKFILL_REQUESTED": f"{unique_name}-backfill",
        "WORKER_TOPIC_PARTITION_REQUESTED": f"{unique_name}-requested",
        "WORKER_TOPIC_PARTITION_COMPLETED": f"{unique_name}-completed",
    }


def worker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def serve_processes() -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    """Started later by the test; whatever is still running is killed by PID at the end."""
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    yield started
    for process, _ in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def start_serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process, port


def settled_lines(log: Path) -> list[dict[str, object]]:
    lines = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"message.settled"' in line:
            lines.append(json.loads(line))
    return lines


async def test_two_worker_processes_complete_each_backfill_partition_exactly_once(
    gcs: GcsStorage,
    landing_bucket: str,
    output_bucket: str,
    unique_name: str,
    tmp_path: Path,
    serve_processes: list[tuple[subprocess.Popen[bytes], Path]],
) -> None:
    days = [START + timedelta(days=offset) for offset in range(DAYS)]
    for day in days:
        upload_trips(gcs, landing_bucket, day, rows=10)
    env = worker_env(unique_name, landing_bucket, output_bucket, tmp_path)

    setup = worker("setup", env=env)
    assert setup.returncode == 0, setup.stderr
    assert f"{unique_name}-requested-worker" in setup.stdout
    again = worker("setup", "--dry-run", "--no-schemas", env=env)
    assert again.returncode == 0, again.stderr
    assert "0 to create, 0 drifted" in again.stdout
    probe = f"{unique_name}-completed-probe"
    create_subscription(probe, f"{unique_name}-completed")

    ports = []
    for index in range(2):
        log = tmp_path / f"serve-{index}.log"
        process, port = start_serve(env, log)
        serve_processes.append((process, log))
        ports.append(port)
    for (process, log), port in zip(serve_processes, ports, strict=True):
        wait_ready(port, process, log, within=120)
    published = worker(
        "publish", "backfill", "--dataset", "trips",
        "--start-date", days[0].isoformat(), "--end-date", days[-1].isoformat(),
        env=env,
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    events = completions(await pull_until(probe, DAYS, within=180))
    await asyncio.sleep(3)
    late = pull(probe)

    for process, _ in serve_processes:
        process.send_signal(signal.SIGTERM)
    codes = [process.wait(timeout=60) for process, _ in serve_processes]

    assert late == []
    assert sorted(event.partition_date for event in events) == days
    assert len({event.backfill_id for event in events}) == 1
    assert events[0].backfill_id in published.stdout
    for event in events:
        manifest = read_manifest(gcs, event.partition_uri)
        assert manifest is not None
        assert manifest.run_id == event.run_id
    partition_fates = [
        (line["partition"], line["fate"])
        for _, log in serve_processes
        for line in settled_lines(log)
        if line["subscription"] == f"{unique_name}-requested-worker"
    ]
    assert sorted(partition_fates) == [(day.isoformat(), "ack") for day in days]
    assert codes == [0, 0], [log.read_text()[-2000:] for _, log in serve_processes]
