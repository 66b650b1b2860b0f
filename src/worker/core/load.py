"""Load: the Hive-partitioned layout and the manifest commit protocol.

Protocol (DESIGN.md, "Partition commit protocol"):

1. before any work the manifest is read with its generation (0 when absent);
2. data files are uploaded under the partition with the run id in their names — invisible,
   since readers trust only files the manifest names;
3. the manifest is written LAST with ``if_generation_match=<that generation>``: of two racing
   writers exactly one wins; the loser re-reads it and, when it holds its own run id, the
   work is done (``skipped``), otherwise it raises CommitConflictError;
4. after the commit, files the manifest does not name that existed before the commit (other
   run ids, the failure note) are removed. Files newer than the commit belong to a writer that
   started later, and are left for its own commit to judge.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from worker.core.manifest import (
    MANIFEST_NAME,
    QUARANTINE_DIR,
    FailureRecord,
    Manifest,
    ManifestFile,
    failure_uri,
    manifest_uri,
    read_failure,
    read_manifest,
)
from worker.core.quality import CheckOutcome
from worker.core.sink import StagedPartition
from worker.errors import CommitConflictError, StorageError
from worker.storage.base import Storage
from worker.storage.uris import join_uri, relative_to

__all__ = [
    "PartitionState",
    "commit_manifest",
    "partition_state",
    "partition_uri",
    "publish_files",
    "read_manifest",
    "record_failure",
    "remove_stale",
]


def partition_uri(output_uri: str, dataset: str, day: date) -> str:
    """``<output>/<dataset>/year=YYYY/month=MM/day=DD``."""
    return join_uri(
        output_uri, dataset, f"year={day.year:04d}", f"month={day.month:02d}", f"day={day.day:02d}"
    )


@dataclass(frozen=True, slots=True)
class PartitionState:
    """What ``worker status`` and backfill ``--mode missing|failed`` see of one partition."""

    status: Literal["committed", "failed", "missing"]
    run_id: str | None
    """The committed run, or for ``failed`` the failed attempt's run id."""
    rows: int | None
    """Rows of the committed partition (also for ``failed`` when an older commit exists)."""
    reason: str | None
    """Why the last attempt failed (error type and message)."""
    committed_at: datetime | None
    partition_uri: str
    failed_at: datetime | None = None
    committed_run_id: str | None = None
    """The committed run (for ``failed``: of the older commit, which is still served)."""
    quality: tuple[CheckOutcome, ...] = ()
    """The partition checks of the last attempt: the failed one's, else the commit's."""


def partition_state(storage: Storage, output_uri: str, dataset: str, day: date) -> PartitionState:
    """``failed`` when the last attempt failed (even over an older commit), ``committed`` when
    a manifest exists and no later attempt failed, else ``missing``."""
    where = partition_uri(output_uri, dataset, day)
    manifest = read_manifest(storage, where)
    failure = read_failure(storage, where)
    rows = manifest.rows_out if manifest else None
    committed_at = manifest.committed_at if manifest else None
    if failure is not None:
        return PartitionState(
            status="failed",
            run_id=failure.run_id,
            rows=rows,
            reason=f"{failure.error_type}: {failure.message}",
            committed_at=committed_at,
            partition_uri=where,
            failed_at=failure.failed_at,
            committed_run_id=manifest.run_id if manifest else None,
            quality=failure.quality,
        )
    if manifest is not None:
        return PartitionState(
            "committed",
            manifest.run_id,
            rows,
            None,
            committed_at,
            where,
            committed_run_id=manifest.run_id,
            quality=manifest.quality,
        )
    return PartitionState("missing", None, None, None, None, where)


def _checksum(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _publish(
    storage: Storage, local: Path, part_uri: str, relative: str, rows: int
) -> ManifestFile:
    storage.upload(local, join_uri(part_uri, relative))
    return ManifestFile(
        path=relative, rows=rows, size=local.stat().st_size, sha256=_checksum(local)
    )


def publish_files(
    storage: Storage, staged: StagedPartition, part_uri: str
) -> tuple[tuple[ManifestFile, ...], tuple[ManifestFile, ...]]:
    """Upload the staged data (and quarantine) files; invisible until the manifest names them."""
    data = _publish(storage, staged.data, part_uri, staged.data.name, staged.rows_out)
    quarantine: tuple[ManifestFile, ...] = ()
    if staged.quarantine is not None:
        relative = f"{QUARANTINE_DIR}/{staged.data.name}"
        quarantine = (
            _publish(storage, staged.quarantine, part_uri, relative, staged.rows_quarantined),
        )
    return (data,), quarantine


def commit_manifest(
    storage: Storage, part_uri: str, manifest: Manifest, expected_generation: int
) -> tuple[Literal["committed", "skipped"], int]:
    """Write the manifest iff it is still at ``expected_generation``; return the outcome and
    the manifest's generation now."""
    uri = manifest_uri(part_uri)
    payload = manifest.model_dump_json(indent=2).encode()
    try:
        return "committed", storage.write_bytes(
            uri, payload, if_generation_match=expected_generation
        )
    except CommitConflictError:
        found = storage.read_bytes(uri)
        current = Manifest.model_validate_json(found[0]) if found else None
        if found is not None and current is not None and current.run_id == manifest.run_id:
            return "skipped", found[1]
        winner = current.run_id if current else "none (manifest deleted)"
        raise CommitConflictError(
            f"another run committed first (committed run {winner}, ours {manifest.run_id})",
            where=uri,
        ) from None


def remove_stale(
    storage: Storage,
    part_uri: str,
    manifest: Manifest,
    committed_generation: int,
    previous_generation: int,
) -> list[str]:
    """Delete what the committed manifest does not name and that predates the commit;
    return the removed URIs."""
    keep = manifest.named_paths() | {MANIFEST_NAME}
    removed = []
    for info in storage.list(part_uri):
        relative = relative_to(info.uri, part_uri)
        if relative not in keep and info.generation <= committed_generation:
            storage.delete(info.uri)
            removed.append(info.uri)
    local_dir = storage.local_path(part_uri)
    if local_dir is not None and previous_generation:
        removed.extend(_remove_local_temp_files(local_dir, previous_generation))
    return removed


def _remove_local_temp_files(directory: Path, older_than_ns: int) -> list[str]:
    # Local uploads stage as hidden ".<name>.*.tmp" beside the target; a crash leaves them.
    # Only those older than the previous commit are surely abandoned: any writer that made
    # them read the manifest before that commit and can no longer win.
    removed = []
    for path in directory.rglob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime_ns < older_than_ns:
                path.unlink()
                removed.append(str(path))
    return removed


def record_failure(storage: Storage, part_uri: str, record: FailureRecord) -> bool:
    """Best effort: a partition whose output cannot be written cannot hold its failure note
    either, and the original error matters more. Returns whether the note was written."""
    try:
        storage.write_bytes(failure_uri(part_uri), record.model_dump_json(indent=2).encode())
    except StorageError:
        return False
    return True
