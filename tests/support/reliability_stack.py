"""A whole worker deployment on one machine, for the reliability suite.

One :class:`Stack` is one Pub/Sub project on an emulator (its own project id, so the
default topic names never collide between tests), a fake-gcs-server that publishes a real
Cloud Storage notification for every upload, a bucket ``landing``, an output root on local
disk, and any number of ``worker serve`` subprocesses. Every process it starts is stopped
by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.devenv.emulators import ManagedProcess, free_port, spawn_process, start_fake_gcs_server
from worker.devenv.environment import overridden_environ

WORKER = Path(sys.executable).with_name("worker")
LANDING = "gs://landing"
READY_TIMEOUT_S = 120.0


environ = overridden_environ
"""Re-exported for the reliability tests (``support.reliability_stack.environ``)."""


def pubsub_host(host: str) -> contextlib.AbstractContextManager[None]:
    return environ({"PUBSUB_EMULATOR_HOST": host})


def wait_for(
    condition: Callable[[], bool], within_s: float, what: str, every_s: float = 0.5
) -> None:
    """Poll ``condition``; fail naming ``what`` when ``within_s`` pass first."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s:g}s waiting for {what}")
        time.sleep(every_s)


def _pull_now(client: Any, path: str) -> Any:
    """One unary pull that the emulator answers at once, empty or not.

    A plain pull waits for messages until shortly before its deadline, so every call that
    finds the subscription empty would cost the whole deadline; a shorter deadline would
    cut calls the emulator may already have leased messages to. ``return_immediately`` is
    deprecated because real Pub/Sub may then answer empty while messages wait; the callers
    poll until ``quiet_s`` passes, and the emulator answers with what it holds.
    """
    with warnings.catch_warnings():
        # The client warns on every such request; the flag is wanted here (see above).
        warnings.simplefilter("ignore", DeprecationWarning)
        return client.pull(
            request={"subscription": path, "max_messages": 500, "return_immediately": True},
            timeout=10,
        )


@dataclass(frozen=True)
class Pulled:
    """One message pulled (and acked) from a subscription."""

    data: bytes
    attributes: dict[str, str]
    message_id: str


@dataclass
class Stack:
    root: Path
    pubsub: str
    """``host:port`` of the Pub/Sub emulator."""
    project: str
    storage_host: str = ""
    """What the workers use as ``STORAGE_EMULATOR_HOST`` (a FaultyProxy may stand between)."""
    extra_env: dict[str, str] = field(default_factory=dict)
    gcs: ManagedProcess | None = None
    workers: list[ManagedProcess] = field(default_factory=list)
    _storage: Any = None

    @property
    def output(self) -> Path:
        """The output root: local, because fake-gcs-server notifies for every bucket and
        output objects would come back as file-arrived messages."""
        return self.root / "output"

    def start(self, *, keep_completed: bool = True) -> Stack:
        logs = self.root / "logs"
        self.gcs = start_fake_gcs_server(
            logs,
            pubsub_project=self.project,
            pubsub_topic="file-arrived",
            pubsub_emulator_host=self.pubsub,
        )
        self.storage_host = self.storage_host or f"http://{self.gcs.host}"
        from worker.storage.gcs import GcsStorage

        # The test's own client talks to fake-gcs-server directly, never through a proxy.
        self._storage = GcsStorage(self.project, emulator_host=f"http://{self.gcs.host}")
        self._storage.ensure_bucket("landing")
        self.setup(keep_completed=keep_completed)
        return self

    def setup(self, *, keep_completed: bool = True) -> None:
        """What ``worker setup --no-schemas`` does (idempotent), run in this process: a
        ``worker`` subprocess would spend seconds importing what is imported here already."""
        from worker.service.provisioning import setup_pubsub
        from worker.settings import load_settings

        with environ(self.env):
            settings = load_settings()
            asyncio.run(
                setup_pubsub(settings, dry_run=False, keep_completed=keep_completed, schemas=False)
            )

    @property
    def env(self) -> dict[str, str]:
        """The environment of every worker process: ours without WORKER_*, plus the stack."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "CLOUD_RUN"))}
        return base | {
            "PUBSUB_EMULATOR_HOST": self.pubsub,
            "STORAGE_EMULATOR_HOST": self.storage_host,
            "WORKER_PROJECT": self.project,
            "WORKER_BROKER": "pubsub",
            "WORKER_LANDING_URI": LANDING,
            "WORKER_OUTPUT_URI": str(self.output),
            "WORKER_WORKDIR": str(self.root / "scratch"),
            "WORKER_LOG_FORMAT": "json",
            "WORKER_RETRY_MIN_BACKOFF_S": "0.5",
            "WORKER_RETRY_MAX_BACKOFF_S": "2",
            "WORKER_SHUTDOWN_GRACE_S": "10",
            "WORKER_HEALTH_HOST": "127.0.0.1",
            **self.extra_env,
        }

    def spawn_worker(self, name: str = "worker", **env: str) -> ManagedProcess:
        """A ``worker serve`` subprocess (not waited for: see :meth:`wait_ready`)."""
        port = free_port()
        argv = [str(WORKER), "serve", "--host", "127.0.0.1", "--port", str(port)]
        log = self.root / "logs" / f"{name}-{len(self.workers)}.log"
        worker = spawn_process(name, argv, port=port, log=log, env=self.env | env)
        self.workers.append(worker)
        return worker

    def start_worker(self, name: str = "worker", **env: str) -> ManagedProcess:
        worker = self.spawn_worker(name, **env)
        worker.wait_ready(f"http://{worker.host}/readyz", READY_TIMEOUT_S)
        return worker

    def upload(self, name: str, data: bytes) -> int:
        """Put ``data`` at ``gs://landing/<name>``; fake-gcs-server notifies file-arrived."""
        generation: int = self._storage.write_bytes(f"{LANDING}/{name}", data)
        return generation

    def publish(self, topic: str, messages: list[tuple[bytes, dict[str, str]]]) -> list[str]:
        from google.cloud.pubsub_v1 import PublisherClient

        with pubsub_host(self.pubsub):
            client = PublisherClient()
        try:
            path = client.topic_path(self.project, topic)
            futures = [client.publish(path, data, **attrs) for data, attrs in messages]
            return [future.result(timeout=60) for future in futures]
        finally:
            client.stop()

    def pull(self, subscription: str, *, quiet_s: float = 2.0, max_s: float = 60.0) -> list[Pulled]:
        """Pull and ack everything ``subscription`` holds, until it stays empty ``quiet_s``
        (every 0.2 s; ``quiet_s=0``: one pull)."""
        from google.cloud.pubsub_v1 import SubscriberClient

        with pubsub_host(self.pubsub):
            client = SubscriberClient()
        pulled: list[Pulled] = []
        try:
            path = client.subscription_path(self.project, subscription)
            deadline = time.monotonic() + max_s
            quiet_since = time.monotonic()
            while time.monotonic() < deadline:
                response = _pull_now(client, path)
                received = list(response.received_messages)
                if not received:
                    if time.monotonic() - quiet_since >= quiet_s:
                        break
                    time.sleep(0.2)
                    continue
                quiet_since = time.monotonic()
                client.acknowledge(
                    request={"subscription": path, "ack_ids": [r.ack_id for r in received]}
                )
                pulled += [
                    Pulled(r.message.data, dict(r.message.attributes), r.message.message_id)
                    for r in received
                ]
        finally:
            client.close()
        return pulled

    def log_lines(self) -> str:
        """Every worker's log so far (stdout and stderr)."""
        return "\n".join(w.log.read_text(errors="replace") for w in self.workers if w.log.exists())

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill()
        if self._storage is not None:
            self._storage.close()
        if self.gcs is not None:
            self.gcs.stop()
