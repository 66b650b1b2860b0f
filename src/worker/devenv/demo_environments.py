"""Where the demo runs the worker: next to the real emulators, or inside this process.

:class:`EmulatedEnvironment` starts Google's Pub/Sub emulator and fake-gcs-server (which
publishes a Cloud Storage notification for every upload), provisions what ``worker
setup`` provisions, and runs ``worker serve`` as a subprocess: production's wiring on one
machine. :class:`EmbeddedEnvironment` runs the same service app on the in-memory broker
with a local directory as the bucket; files are announced in-process, as a local
producer would. Both hand the observer a transport to listen on.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from faststream_gcp_pubsub.transport.base import Transport
from worker.devenv.emulators import (
    ManagedProcess,
    free_port,
    spawn_process,
    start_fake_gcs_server,
    start_pubsub_emulator,
)
from worker.devenv.environment import emulated_settings, overridden_environ, service_environment
from worker.devenv.supervisor import Supervisor
from worker.errors import ConfigurationError
from worker.settings import Settings
from worker.storage.base import Storage
from worker.storage.uris import parse_uri

DemoMode = Literal["emulators", "in-memory"]
WORKER_READY_TIMEOUT_S = 120.0
"""``worker serve`` imports polars and pandera and connects: generous on a busy machine."""


class DemoEnvironment(Protocol):
    mode: DemoMode
    settings: Settings
    """The settings the worker runs with."""

    @property
    def transport(self) -> Transport:
        """Where the observer listens (the worker's Pub/Sub)."""
        ...

    async def start(self, progress: Callable[[str], None]) -> None: ...

    async def land(self, uri: str, content: bytes) -> None:
        """Put ``content`` at ``uri`` so that the worker hears of it."""
        ...

    async def ready(self) -> None:
        """Wait until the worker consumes (files may land before)."""
        ...

    def check(self) -> None:
        """Raise when a process the worker needs has died."""
        ...

    async def close(self) -> None: ...


def worker_command() -> list[str]:
    """The installed ``worker`` next to this interpreter (the venv's), else ``python -m``."""
    script = Path(sys.executable).with_name("worker")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "worker"]


def start_notifying_gcs(logs: Path, project: str, topic: str, pubsub_host: str) -> ManagedProcess:
    """fake-gcs-server that publishes each upload's notification to ``topic``."""
    return start_fake_gcs_server(
        logs, pubsub_project=project, pubsub_topic=topic, pubsub_emulator_host=pubsub_host
    )


def spawn_worker_serve(logs: Path, env: dict[str, str], port: int) -> ManagedProcess:
    """``worker serve`` on 127.0.0.1:``port`` with ``env`` on top of ours (not yet ready)."""
    argv = [*worker_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return spawn_process("worker-serve", argv, port=port, log=logs / "worker-serve.log", env=env)


@dataclass(frozen=True, slots=True)
class Launchers:
    """How the emulated environment starts its processes (tests pass fakes)."""

    pubsub: Callable[[Path], ManagedProcess] = start_pubsub_emulator
    gcs: Callable[[Path, str, str, str], ManagedProcess] = start_notifying_gcs
    worker: Callable[[Path, dict[str, str], int], ManagedProcess] = spawn_worker_serve


async def provision(settings: Settings) -> None:
    """What ``worker setup`` does: every topic, subscription and schema (idempotent)."""
    from worker.service.provisioning import setup_pubsub

    await setup_pubsub(settings, dry_run=False, keep_completed=False, schemas=True)


def _close(storage: Storage) -> None:
    close = getattr(storage, "close", None)
    if callable(close):
        close()


class EmulatedEnvironment:
    mode: DemoMode = "emulators"

    def __init__(
        self,
        base: Settings,
        workdir: Path,
        supervisor: Supervisor,
        *,
        launchers: Launchers | None = None,
        provisioner: Callable[[Settings], Awaitable[object]] | None = None,
    ) -> None:
        self.base = base
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.supervisor = supervisor
        self.launchers = launchers or Launchers()
        self.provisioner = provisioner or provision
        self.settings = base
        self.worker: ManagedProcess | None = None
        self.worker_env: dict[str, str] = {}
        self._exit = contextlib.ExitStack()
        self._transport: Transport | None = None
        self._storage: Storage | None = None

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            from faststream_gcp_pubsub.transport.grpc import GrpcTransport

            self._transport = GrpcTransport(self.settings.project)
        return self._transport

    async def start(self, progress: Callable[[str], None]) -> None:
        progress("starting Google's Pub/Sub emulator")
        pubsub = self.supervisor.adopt(self.launchers.pubsub(self.logs))
        progress(f"Pub/Sub emulator on {pubsub.host}; starting fake-gcs-server")
        topic = self.base.topics.file_arrived
        gcs = self.supervisor.adopt(
            self.launchers.gcs(self.logs, self.base.project, topic, pubsub.host)
        )
        self.settings = emulated_settings(
            self.base,
            pubsub_host=pubsub.host,
            storage_host=f"http://{gcs.host}",
            workdir=self.workdir,
        )
        env = service_environment(self.settings)
        self._exit.enter_context(overridden_environ(env))
        progress(f"fake-gcs-server on {gcs.host}; provisioning topics and subscriptions")
        await self.provisioner(self.settings)
        from worker.storage.gcs import GcsStorage

        storage = GcsStorage(self.settings.project, emulator_host=f"http://{gcs.host}")
        self._storage = storage
        bucket = parse_uri(self.settings.landing_uri).bucket
        await asyncio.to_thread(storage.ensure_bucket, bucket)
        port = free_port()
        self.worker_env = {
            **env,
            "WORKER_LOG_FORMAT": "json",
            "WORKER_HEALTH_HOST": "127.0.0.1",
            "WORKER_HEALTH_PORT": str(port),
        }
        progress(f"bucket gs://{bucket} ready; starting `worker serve` on 127.0.0.1:{port}")
        self.worker = self.supervisor.adopt(self.launchers.worker(self.logs, self.worker_env, port))

    def restart_worker(self) -> ManagedProcess:
        """Stop ``worker serve`` by its PID and start it again on the same port."""
        old = self.serving()
        self.supervisor.release(old)
        self.worker = self.supervisor.adopt(
            self.launchers.worker(self.logs, self.worker_env, old.port)
        )
        return self.worker

    def serving(self) -> ManagedProcess:
        """The running ``worker serve`` process."""
        if self.worker is None:
            raise RuntimeError("the worker was not started")
        return self.worker

    async def ready(self) -> None:
        """Wait for ``/readyz`` of ``worker serve``."""
        worker = self.serving()
        url = f"http://{worker.host}/readyz"
        await asyncio.to_thread(worker.wait_ready, url, WORKER_READY_TIMEOUT_S)

    def check(self) -> None:
        for process in self.supervisor.processes:
            if not isinstance(process, ManagedProcess):
                continue
            code = process.proc.poll()
            if code is not None:
                raise ConfigurationError(
                    f"{process.name} exited with code {code}; log: {process.log}",
                    where="worker demo",
                )

    async def land(self, uri: str, content: bytes) -> None:
        if self._storage is None:
            raise RuntimeError("the environment was not started")
        # fake-gcs-server publishes the OBJECT_FINALIZE notification itself.
        await asyncio.to_thread(self._storage.write_bytes, uri, content)

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.close()
        if self._storage is not None:
            await asyncio.to_thread(_close, self._storage)
        self._exit.close()


class EmbeddedEnvironment:
    mode: DemoMode = "in-memory"

    def __init__(self, settings: Settings) -> None:
        from worker.service.app import build_service

        self.settings = settings
        self.service = build_service(settings)
        self._exit = contextlib.AsyncExitStack()

    @property
    def transport(self) -> Transport:
        return self.service.broker.transport

    async def start(self, progress: Callable[[str], None]) -> None:
        progress("starting the worker service on the in-memory broker")
        await self._exit.enter_async_context(self.service.running())

    async def ready(self) -> None:
        """The in-process service consumes as soon as it has started."""

    def check(self) -> None:
        """Nothing runs outside this process."""

    async def land(self, uri: str, content: bytes) -> None:
        storage = self.service.ports.storage
        await asyncio.to_thread(storage.write_bytes, uri, content)
        await self.service.publish_file_arrived(uri)

    async def close(self) -> None:
        await self._exit.aclose()
