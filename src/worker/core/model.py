"""The core's use-case contract: what goes into ``process_partition`` and what comes out.

The CLI and the service both build a :class:`PartitionTask` and :class:`Ports` and call
``worker.core.pipeline.process_partition(task, ports)``; nothing else runs the pipeline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from worker.core.budget import ByteBudget
from worker.storage.base import Storage

if TYPE_CHECKING:
    from worker.core.datasets import DatasetRegistry
    from worker.core.quality import CheckOutcome

Status = Literal["committed", "skipped", "dry-run", "failed"]
"""committed: a new manifest was written; skipped: the manifest already held this run id."""


@contextlib.contextmanager
def _no_stage(name: str) -> Iterator[None]:
    yield


@dataclass(frozen=True, slots=True)
class PartitionTask:
    """One partition to (re)compute."""

    dataset: str
    partition: date
    inputs: Sequence[str] | None = None
    """Explicit input URIs; None discovers every input of the day under the landing root."""
    force: bool = False
    """Recompute even when the committed manifest has the same run id."""
    dry_run: bool = False
    backfill_id: str | None = None
    trigger: str = "cli"
    """What asked for it: cli, file-arrived, partition-requested, backfill."""


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything the core needs from outside, injected (it never reads env or clocks)."""

    storage: Storage
    registry: DatasetRegistry
    landing_uri: str
    output_uri: str
    workdir: Path
    """Local scratch space for staging downloads and files before upload."""
    code_version: str
    clock: Callable[[], datetime]
    stage: Callable[[str], contextlib.AbstractContextManager[None]] = _no_stage
    """Wraps each stage (extract, validate, transform, load) — the service opens a span."""
    heartbeat: Callable[[], None] = field(default=lambda: None)
    """Called between stages of long work — the service extends the message lease."""
    budget: ByteBudget = field(default_factory=ByteBudget)
    """Memory and scratch one partition may use (from settings and the container's limit)."""


@dataclass(frozen=True, slots=True)
class InputFingerprint:
    """One input as read: its name, its content digest (what the run id hashes) and the
    generation that held that content (kept for lineage)."""

    uri: str
    generation: int
    size: int
    content: str
    """``md5:<hex>`` or ``crc32c:<hex>`` from Cloud Storage's object metadata, or
    ``sha256:<hex>`` of a local file: identical bytes give identical digests."""


@dataclass(frozen=True, slots=True)
class PartitionResult:
    dataset: str
    partition: date
    run_id: str
    status: Status
    partition_uri: str
    manifest_uri: str
    inputs: tuple[InputFingerprint, ...]
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    files: tuple[str, ...] = ()
    duration_s: float = 0.0
    backfill_id: str | None = None
    reason: str | None = None
    """Why a dry run would run / why it was skipped / why it failed (human-readable)."""
    quality: tuple[CheckOutcome, ...] = ()
    """The partition checks' report (from the committed manifest when skipped)."""
