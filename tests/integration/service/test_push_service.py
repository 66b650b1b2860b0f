"""``worker serve`` in push mode behind a real push subscription on Google's emulator.

The operator's path: ``worker setup`` provisions (pull subscriptions, DLQs), ``worker serve``
starts with ``WORKER_DELIVERY=push`` on a loopback port, the file-arrived subscription is
switched to push at ``/pubsub/push?token=...`` (as deploy/pubsub/push-subscription.sh does),
and the emulator POSTs each published message to the worker.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from google.cloud.pubsub_v1 import SubscriberClient
from google.pubsub_v1.types import PushConfig
from service_it_support import (
    PROJECT,
    completions,
    create_subscription,
    publish_raw,
    pull_until,
    wait_ready,
)

from worker.core.manifest import read_manifest
from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.devenv.emulators import ManagedProcess, free_port
from worker.events.deadletter import ERROR_REASON, SOURCE_SUBSCRIPTION
from worker.runtime import utc_now
from worker.service.publishing import file_arrived_event, wire_message
from worker.storage.local import LocalStorage

pytestmark = pytest.mark.integration

DAY = date(2024, 5, 2)
# A test value, not a credential.
TOKEN = "push-test-token"  # noqa: S105


def worker_env(unique_name: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKER_PROJECT": PROJECT,
        "WORKER_BROKER": "pubsub",
        "WORKER_DELIVERY": "push",
        "WORKER_PUSH_AUTH_TOKEN": TOKEN,
        "WORKER_LANDING_URI": str(tmp_path / "landing"),
        "WORKER_OUTPUT_URI": str(tmp_path / "output"),
        "WORKER_WORKDIR": str(tmp_path / "work"),
        "WORKER_LOG_FORMAT": "json",
        "WORKER_RETRY_MIN_BACKOFF_S": "1",
        "WORKER_RETRY_MAX_BACKOFF_S": "2",
        "WORKER_SHUTDOWN_GRACE_S": "5",
        "WORKER_TOPIC_FILE_ARRIVED": f"{unique_name}-arrived",
        "WORKER_TOPIC_BACKFILL_REQUESTED": f"{unique_name}-backfill",
        "WORKER_TOPIC_PARTITION_REQUESTED": f"{unique_name}-requested",
        "WORKER_TOPIC_PARTITION_COMPLETED": f"{unique_name}-completed",
    }


@pytest.fixture
def serve_process() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Filled by the test; a process still running at the end is killed by its PID."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def switch_to_push(subscription: str, endpoint: str) -> None:
    """What ``gcloud pubsub subscriptions modify-push-config`` does."""
    client = SubscriberClient()
    try:
        client.modify_push_config(
            request={
                "subscription": client.subscription_path(PROJECT, subscription),
                "push_config": PushConfig(push_endpoint=endpoint),
            }
        )
        pushed = client.get_subscription(
            request={"subscription": client.subscription_path(PROJECT, subscription)}
        )
        assert pushed.push_config.push_endpoint == endpoint
    finally:
        client.close()


def settled_lines(log: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for line in log.read_text().splitlines()
        if line.startswith("{") and '"message.settled"' in line
    ]


def post(port: int, query: str, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", f"/pubsub/push?{query}", body=body)
        return connection.getresponse().status
    finally:
        connection.close()


def worker_setup(env: dict[str, str]) -> None:
    setup = subprocess.run(
        [sys.executable, "-m", "worker", "setup", "--no-schemas"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr


def start_serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "worker", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip


async def test_pushed_messages_are_processed_and_poison_is_dead_lettered(
    pubsub_emulator: ManagedProcess,
    unique_name: str,
    tmp_path: Path,
    serve_process: list[subprocess.Popen[bytes]],
) -> None:
    landing = tmp_path / "landing" / sample_name(DAY)
    landing.parent.mkdir(parents=True)
    landing.write_bytes(generate_trips_csv(DAY, 15, 0.0, 3))
    env = worker_env(unique_name, tmp_path)
    arrived, subscription = f"{unique_name}-arrived", f"{unique_name}-arrived-worker"
    worker_setup(env)
    probe = f"{unique_name}-completed-probe"
    create_subscription(probe, f"{unique_name}-completed")

    port, log = free_port(), tmp_path / "serve.log"
    process = start_serve(env, port, log)
    serve_process.append(process)
    wait_ready(port, process, log, within=120)
    assert post(port, "token=wrong", b"{}") == 401
    switch_to_push(subscription, f"http://127.0.0.1:{port}/pubsub/push?token={TOKEN}")

    event = file_arrived_event(str(landing), generation=1, size=None, event_time=utc_now())
    data, attributes = wire_message(event, "json")
    message_id = publish_raw(arrived, data, attributes)
    poison = b"\x00 not an event"
    poison_id = publish_raw(arrived, poison, {"content-type": "application/json"})

    [completion] = completions(await pull_until(probe, 1, within=120))
    [letter] = await pull_until(f"{arrived}-dlq-keep", 1, within=60)
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)

    assert completion.partition_date == DAY
    manifest = read_manifest(LocalStorage(), completion.partition_uri)
    assert manifest is not None
    assert manifest.run_id == completion.run_id
    assert letter.data == poison
    assert letter.attributes[ERROR_REASON] == "decode"
    assert letter.attributes[SOURCE_SUBSCRIPTION] == subscription
    fates = {
        (line["message_id"], line["subscription"], line["fate"]) for line in settled_lines(log)
    }
    assert fates == {
        (message_id, subscription, "ack"),
        (poison_id, subscription, "dead-letter"),
    }
    assert code == 0, log.read_text()[-2000:]
