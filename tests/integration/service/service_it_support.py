"""Helpers for the service against the Pub/Sub emulator and a notifying fake-gcs-server."""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.devenv.emulators import ManagedProcess
from worker.events import PartitionCompleted, decode
from worker.storage.gcs import GcsStorage

PROJECT = "local-project"


@dataclass(frozen=True)
class NotifyingGcs:
    server: ManagedProcess
    topic: str
    """The file-arrived topic every upload is announced on."""

    @property
    def url(self) -> str:
        return f"http://{self.server.host}"


@dataclass(frozen=True)
class Pulled:
    data: bytes
    attributes: dict[str, str]
    message_id: str


def create_subscription(name: str, topic: str) -> None:
    """A probe subscription (topic created if missing) to read what is published."""
    publisher, subscriber = PublisherClient(), SubscriberClient()
    try:
        topic_path = publisher.topic_path(PROJECT, topic)
        try:
            publisher.create_topic(request={"name": topic_path})
        except Exception as error:  # AlreadyExists is fine; anything else is re-raised
            if "AlreadyExists" not in type(error).__name__:
                raise
        subscriber.create_subscription(
            request={"name": subscriber.subscription_path(PROJECT, name), "topic": topic_path}
        )
    finally:
        subscriber.close()


def publish_raw(topic: str, data: bytes, attributes: dict[str, str]) -> str:
    publisher = PublisherClient()
    message_id: str = publisher.publish(
        publisher.topic_path(PROJECT, topic), data, **attributes
    ).result(timeout=30)
    return message_id


def pull(subscription: str, max_messages: int = 100) -> list[Pulled]:
    """What ``subscription`` holds right now (acked)."""
    client = SubscriberClient()
    try:
        path = client.subscription_path(PROJECT, subscription)
        response = client.pull(
            request={"subscription": path, "max_messages": max_messages}, timeout=10
        )
        received = list(response.received_messages)
        if received:
            client.acknowledge(
                request={"subscription": path, "ack_ids": [r.ack_id for r in received]}
            )
        return [
            Pulled(bytes(r.message.data), dict(r.message.attributes), r.message.message_id)
            for r in received
        ]
    finally:
        client.close()


async def pull_until(
    subscription: str,
    count: int,
    within: float = 60.0,
    where: Callable[[Pulled], bool] = lambda _: True,
) -> list[Pulled]:
    """Pull until ``count`` messages ``where`` holds arrived (others are dropped); fail
    after ``within`` seconds."""
    got: list[Pulled] = []
    deadline = time.monotonic() + within
    while len(got) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{subscription}: {len(got)} of {count} messages after {within:g}s: {got}"
            )
        got += [m for m in await asyncio.to_thread(pull, subscription) if where(m)]
        if len(got) < count:
            await asyncio.sleep(0.2)
    return got


async def wait_for(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within:g}s")
        await asyncio.sleep(0.1)


def completions(pulled: list[Pulled]) -> list[PartitionCompleted]:
    return [decode(m.data, m.attributes, PartitionCompleted) for m in pulled]


def upload_trips(storage: GcsStorage, bucket: str, day: date, rows: int = 20, seed: int = 0) -> str:
    """Write a day's trips into ``bucket``; returns the object's URI."""
    uri = f"gs://{bucket}/{sample_name(day)}"
    storage.write_bytes(uri, generate_trips_csv(day, rows, 0.0, seed))
    return uri


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, within: float) -> None:
    """Wait until ``worker serve`` answers /readyz with 200, failing with its log."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"worker serve exited with {process.returncode}: {log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"worker serve on port {port} not ready in {within:g}s: {log.read_text()}")
