"""The runtime edge: turn one :class:`Settings` into the :class:`Ports` the core runs on.

The CLI and the service call these once per process (backfill worker processes too, each
with the settings its parent built), so no other module reads the environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing.util
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from worker import __version__
from worker.core.model import Ports
from worker.memory_limit import byte_budget
from worker.observability.logging import configure_logging
from worker.settings import Settings
from worker.storage.router import StorageRouter

STATE_DIR = Path(".worker")
"""Where batch bookkeeping (backfill checkpoints) lives when ``WORKER_WORKDIR`` is unset."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def scratch_dir(settings: Settings) -> Path:
    """A fresh scratch directory for this process, removed when the process exits.

    Under ``WORKER_WORKDIR`` when set, else the system temp dir. Removal goes through
    ``multiprocessing.util.Finalize`` because pool children exit without running atexit.
    """
    parent = Path(settings.workdir) if settings.workdir else None
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="worker-scratch-", dir=parent))
    multiprocessing.util.Finalize(
        None, shutil.rmtree, args=(path,), kwargs={"ignore_errors": True}, exitpriority=0
    )
    return path


def state_dir(settings: Settings) -> Path:
    """Where backfill checkpoints are kept: ``WORKER_WORKDIR`` or ``./.worker``."""
    return Path(settings.workdir) if settings.workdir else STATE_DIR


def build_ports(
    settings: Settings,
    *,
    workdir: Path | None = None,
    stage: Callable[[str], contextlib.AbstractContextManager[None]] | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Ports:
    """Everything the core needs, built from settings: storage, datasets, roots, clock."""
    # Imported here so configure() and the CLI's --help never pay for polars and pandera.
    from worker.core.datasets import load_registry

    ports = Ports(
        storage=StorageRouter(
            project=settings.project, emulator_host=settings.storage_emulator_host
        ),
        registry=load_registry(settings.dataset_modules),
        landing_uri=settings.landing_uri,
        output_uri=settings.output_uri,
        workdir=workdir if workdir is not None else scratch_dir(settings),
        code_version=__version__,
        clock=utc_now,
        budget=byte_budget(settings.memory_bytes, settings.scratch_bytes),
    )
    if stage is not None:
        ports = dataclasses.replace(ports, stage=stage)
    if heartbeat is not None:
        ports = dataclasses.replace(ports, heartbeat=heartbeat)
    return ports


def configure(settings: Settings) -> None:
    """Process-wide setup that depends on settings: structured logging, JSON off a TTY."""
    configure_logging(settings.log_format, settings.log_level)
