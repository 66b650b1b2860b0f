"""The ``partition-completed`` event, derived from the committed manifest.

The event is a function of the commit point (``_manifest.json``) and of the request that
asked for the partition (its backfill id), never of the attempt that ran: a duplicate
delivery, or a second notification for the same generation, finds the manifest already
committed with the same run id and re-publishes the very same event — same event id (the
run id), same content — so consumers can deduplicate on the id alone.
"""

from __future__ import annotations

from worker.core.manifest import Manifest
from worker.core.model import PartitionResult
from worker.errors import StorageError
from worker.events import InputRef, PartitionCompleted, QualityCheck
from worker.storage.uris import join_uri


def completion_event(
    result: PartitionResult, manifest: Manifest | None, *, backfill_id: str | None
) -> PartitionCompleted:
    """The announcement of ``result``'s committed partition, read from its ``manifest``."""
    if manifest is None or manifest.run_id != result.run_id:
        found = "no manifest" if manifest is None else f"run {manifest.run_id}"
        raise StorageError(
            f"partition reported {result.status} as run {result.run_id}, but storage holds "
            f"{found}; another writer may have committed since",
            where=result.manifest_uri,
        )
    return PartitionCompleted(
        event_id=manifest.run_id,
        run_id=manifest.run_id,
        dataset=manifest.dataset,
        partition_date=manifest.partition,
        partition_uri=result.partition_uri,
        manifest_uri=result.manifest_uri,
        # "skipped" would make a re-announcement differ from the first one; the event
        # states what is committed, and that is the same both times.
        status="committed",
        rows_in=manifest.rows_in,
        rows_out=manifest.rows_out,
        rows_quarantined=manifest.rows_quarantined,
        files=tuple(join_uri(result.partition_uri, entry.path) for entry in manifest.files),
        inputs=tuple(InputRef(uri=i.uri, generation=i.generation) for i in manifest.inputs),
        backfill_id=backfill_id,
        completed_at=manifest.committed_at,
        worker_version=manifest.code_version,
        quality=tuple(QualityCheck(**item.model_dump()) for item in manifest.quality),
    )
