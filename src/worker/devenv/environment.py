"""The settings of a local environment, and the variables that hand them to another process.

``worker demo`` passes them to its ``worker serve`` subprocess; ``worker dev`` prints them
as ``export`` lines so a second terminal (``worker publish``, ``worker dlq list``, the
Google clients) talks to the same emulators, bucket and output.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

from worker.settings import Settings, TopicNames

EMULATOR_LANDING_BUCKET = "landing"


def emulated_settings(
    base: Settings,
    *,
    pubsub_host: str,
    storage_host: str,
    workdir: Path,
    landing_bucket: str = EMULATOR_LANDING_BUCKET,
) -> Settings:
    """``base`` pointed at the emulators: landing in a fake bucket, output on local disk
    under ``workdir`` (so it is easy to look at)."""
    return base.model_copy(
        update={
            "broker": "pubsub",
            "landing_uri": f"gs://{landing_bucket}",
            "output_uri": str((workdir / "output").resolve()),
            "workdir": str((workdir / "scratch").resolve()),
            "pubsub_emulator_host": pubsub_host,
            "storage_emulator_host": storage_host,
        }
    )


def embedded_settings(base: Settings, *, workdir: Path) -> Settings:
    """``base`` on the in-memory broker with a local directory as the bucket."""
    return base.model_copy(
        update={
            "broker": "memory",
            "landing_uri": str((workdir / "landing").resolve()),
            "output_uri": str((workdir / "output").resolve()),
            "workdir": str((workdir / "scratch").resolve()),
            "pubsub_emulator_host": None,
            "storage_emulator_host": None,
        }
    )


def service_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that make another process use ``settings``' resources.

    Topic names are included only where they differ from the defaults.
    """
    env = {
        "WORKER_PROJECT": settings.project,
        "WORKER_BROKER": settings.broker,
        "WORKER_LANDING_URI": settings.landing_uri,
        "WORKER_OUTPUT_URI": settings.output_uri,
    }
    if settings.workdir:
        env["WORKER_WORKDIR"] = settings.workdir
    if settings.datasets:
        env["WORKER_DATASETS"] = settings.datasets
    if settings.pubsub_emulator_host:
        env["PUBSUB_EMULATOR_HOST"] = settings.pubsub_emulator_host
    if settings.storage_emulator_host:
        env["STORAGE_EMULATOR_HOST"] = settings.storage_emulator_host
    defaults = TopicNames.model_construct()
    for name, value in settings.topics.model_dump().items():
        if value != getattr(defaults, name):
            env[f"WORKER_TOPIC_{name.upper()}"] = value
    return env


def export_lines(env: dict[str, str]) -> list[str]:
    """``export NAME=value`` lines a POSIX shell can paste, values quoted where needed."""
    return [f"export {name}={shlex.quote(value)}" for name, value in env.items()]


@contextlib.contextmanager
def overridden_environ(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in this process's environment until exit, then restore what was there
    (Google's clients read their emulator hosts when they are built, settings when loaded)."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
