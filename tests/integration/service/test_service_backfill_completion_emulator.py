"""Two ``worker serve`` processes race to finish one backfill: ONE ``backfill-completed``.

Pub/Sub delivers at least once and redelivers a message whose lease expired unacked
(https://cloud.google.com/pubsub/docs/subscription-overview#default_properties, "Message
redelivery"); exactly one announcement therefore cannot come from the broker. It comes from
Cloud Storage's conditional create (``ifGenerationMatch=0``, "the request succeeds only if
there are no live objects", https://cloud.google.com/storage/docs/request-preconditions).
Both tests run the real parts: the Pub/Sub emulator, fake-gcs-server, the installed CLI.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from service_it_support import (
    Pulled,
    create_subscription,
    pull,
    pull_until,
    upload_trips,
    wait_for,
    wait_ready,
)
from test_service_processes import serve_processes, start_serve, worker, worker_env

from worker.core.backfill_announce import claim_uri
from worker.events import BackfillCompleted, decode
from worker.storage.gcs import GcsStorage

pytestmark = pytest.mark.integration

__all__ = ["serve_processes"]  # the fixture, imported so this module's tests can use it

START = date(2024, 5, 1)


def backfill_env(unique_name: str, landing: str, output: str, tmp_path: Path) -> dict[str, str]:
    return {
        **worker_env(unique_name, landing, output, tmp_path),
        "WORKER_TOPIC_BACKFILL_COMPLETED": f"{unique_name}-bf-done",
        # A killed replica's leased messages come back after this deadline.
        "WORKER_ACK_DEADLINE_S": "10",
        # One message at a time per replica: neither can lease the whole backfill, so both
        # work on it to the end (and the victim always gets a partition to be killed in).
        "WORKER_MAX_MESSAGES": "1",
    }


async def start_two(
    env: dict[str, str], tmp_path: Path, started: list[tuple[subprocess.Popen[bytes], Path]]
) -> None:
    ports = []
    for index in range(2):
        log = tmp_path / f"serve-{index}.log"
        process, port = start_serve(env, log)
        started.append((process, log))
        ports.append(port)
    for (process, log), port in zip(started, ports, strict=True):
        await asyncio.to_thread(wait_ready, port, process, log, 120)


def publish_backfill(env: dict[str, str], days: list[date]) -> str:
    published = worker(
        "publish", "backfill", "--dataset", "trips",
        "--start-date", days[0].isoformat(), "--end-date", days[-1].isoformat(),
        env=env,
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    line = next(line for line in published.stdout.splitlines() if line.startswith("backfill id"))
    return line.split()[-1]


def announcements(pulled: list[Pulled]) -> list[BackfillCompleted]:
    return [decode(m.data, m.attributes, BackfillCompleted) for m in pulled]


async def test_two_replicas_finishing_one_backfill_announce_it_once(
    gcs: GcsStorage,
    landing_bucket: str,
    output_bucket: str,
    unique_name: str,
    tmp_path: Path,
    serve_processes: list[tuple[subprocess.Popen[bytes], Path]],
) -> None:
    days = [START + timedelta(days=offset) for offset in range(8)]
    for day in days:
        upload_trips(gcs, landing_bucket, day, rows=10)
    env = backfill_env(unique_name, landing_bucket, output_bucket, tmp_path)
    setup = worker("setup", env=env)
    assert setup.returncode == 0, setup.stderr
    probe = f"{unique_name}-bf-done-probe"
    create_subscription(probe, f"{unique_name}-bf-done")
    await start_two(env, tmp_path, serve_processes)

    waited = await asyncio.to_thread(
        worker,
        "publish", "backfill", "--dataset", "trips",
        "--start-date", days[0].isoformat(), "--end-date", days[-1].isoformat(),
        "--wait", "--json", "--timeout", "150",
        env=env,
    )  # fmt: skip
    assert waited.returncode == 0, waited.stderr
    followed = json.loads(waited.stdout[waited.stdout.index("{\n") :])
    backfill_id = followed["backfill_id"]
    assert (followed["committed"], followed["failed"]) == (8, 0)
    pulled = await pull_until(probe, 1, within=60)
    await asyncio.sleep(8)  # a second announcement would arrive by now
    late = pull(probe)
    for process, _ in serve_processes:
        process.send_signal(signal.SIGTERM)
    for process, _ in serve_processes:
        process.wait(timeout=60)

    assert late == []
    (completed,) = announcements(pulled)
    assert completed.backfill_id == completed.event_id == backfill_id
    assert (completed.planned, completed.committed, completed.failed) == (8, 8, 0)
    assert (completed.start_date, completed.end_date) == (days[0], days[-1])
    served = [
        json.loads(line)
        for _, log in serve_processes
        for line in log.read_text().splitlines()
        if '"backfill.completed"' in line
    ]
    assert len(served) == 1
    claim = gcs.read_bytes(claim_uri(f"gs://{output_bucket}", "trips", backfill_id))
    assert claim is not None
    assert json.loads(claim[0])["published"] is True


async def test_a_backfill_is_announced_once_when_a_replica_is_killed_midway(
    gcs: GcsStorage,
    landing_bucket: str,
    output_bucket: str,
    unique_name: str,
    tmp_path: Path,
    serve_processes: list[tuple[subprocess.Popen[bytes], Path]],
) -> None:
    # Big enough days that the kill lands while partitions are still pending.
    days = [START + timedelta(days=offset) for offset in range(10)]
    for day in days:
        upload_trips(gcs, landing_bucket, day, rows=20_000)
    env = backfill_env(unique_name, landing_bucket, output_bucket, tmp_path)
    setup = worker("setup", env=env)
    assert setup.returncode == 0, setup.stderr
    probe = f"{unique_name}-bf-done-probe"
    create_subscription(probe, f"{unique_name}-bf-done")
    await start_two(env, tmp_path, serve_processes)

    backfill_id = publish_backfill(env, days)

    # Killed while it holds a partition of the backfill, leased and not acked: the first
    # replica whose own log says it started one.
    def working() -> list[int]:
        return [
            index
            for index, (_, log) in enumerate(serve_processes)
            if '"partition.started"' in log.read_text()
        ]

    await wait_for(lambda: bool(working()), within=180)
    victim_index = working()[0]
    victim, victim_log = serve_processes[victim_index]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert pull(probe) == [], "the backfill finished before the kill: make the days bigger"

    pulled = await pull_until(probe, 1, within=240)
    await asyncio.sleep(8)
    late = pull(probe)
    survivor, survivor_log = serve_processes[1 - victim_index]
    survivor.send_signal(signal.SIGTERM)
    survivor.wait(timeout=60)

    assert late == []
    (completed,) = announcements(pulled)
    assert completed.backfill_id == backfill_id
    assert completed.failed == 0
    assert completed.committed + completed.skipped == len(days)
    assert completed.planned == len(days)
    assert '"backfill.completed"' in survivor_log.read_text()
    assert '"backfill.completed"' not in victim_log.read_text()
