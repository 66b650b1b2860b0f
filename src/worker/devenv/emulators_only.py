"""``worker emulators``: only Google's Pub/Sub emulator and fake-gcs-server, until Ctrl-C.

For running ``worker setup`` and ``worker serve`` by hand, as docs/service.md describes:
fake-gcs-server publishes a Cloud Storage notification of every upload to the
``file-arrived`` topic on the emulator (the topic exists once ``worker setup`` ran), the
landing bucket is created, and the ``export`` lines that point another shell at both are
printed. Both processes are stopped by PID on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from worker.devenv.demo_environments import Launchers
from worker.devenv.emulators import ManagedProcess, find_pubsub_emulator
from worker.devenv.environment import emulated_settings, export_lines, service_environment
from worker.devenv.supervisor import Supervisor, signals_interrupt
from worker.errors import ConfigurationError
from worker.settings import Settings
from worker.storage.uris import parse_uri

NO_EMULATOR = (
    "worker emulators needs Google's Pub/Sub emulator (Debian package "
    "google-cloud-cli-pubsub-emulator, or WORKER_PUBSUB_EMULATOR_BIN)"
)


def instructions(settings: Settings) -> list[str]:
    return [
        "# In another terminal:",
        *export_lines(service_environment(settings)),
        "worker setup",
        "worker serve",
        "# Ctrl-C here stops both emulators",
    ]


def run_emulators(
    settings: Settings,
    workdir: Path,
    *,
    say: Callable[[str], None],
    pid_file: Path | None = None,
    launchers: Launchers | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    poll_s: float = 0.5,
) -> None:
    """Start both emulators, print the exports, and wait until interrupted or one dies."""
    if launchers is None and find_pubsub_emulator() is None:
        raise ConfigurationError(NO_EMULATOR, where="worker emulators")
    started = launchers or Launchers()
    workdir = workdir.resolve()
    logs = workdir / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    with Supervisor(pid_file) as supervisor, signals_interrupt():
        pubsub = supervisor.adopt(started.pubsub(logs))
        topic = settings.topics.file_arrived
        gcs = supervisor.adopt(started.gcs(logs, settings.project, topic, pubsub.host))
        emulated = emulated_settings(
            settings, pubsub_host=pubsub.host, storage_host=f"http://{gcs.host}", workdir=workdir
        )
        _create_landing_bucket(emulated, gcs)
        say(f"# Pub/Sub emulator on {pubsub.host} (pid {pubsub.pid})")
        say(f"# fake-gcs-server on {gcs.host} (pid {gcs.pid}), notifying topic {topic}")
        for line in instructions(emulated):
            say(line)
        while keep_going():
            for process in (pubsub, gcs):
                code = process.proc.poll()
                if code is not None:
                    raise ConfigurationError(
                        f"{process.name} exited with code {code}; see {logs}",
                        where="worker emulators",
                    )
            time.sleep(poll_s)


def _create_landing_bucket(settings: Settings, gcs: ManagedProcess) -> None:
    from worker.storage.gcs import GcsStorage

    storage = GcsStorage(settings.project, emulator_host=f"http://{gcs.host}")
    try:
        storage.ensure_bucket(parse_uri(settings.landing_uri).bucket)
    finally:
        storage.close()
