"""Who announces a finished backfill: exactly one claimant, decided by a conditional create.

Every replica that settles a partition of a backfill asks :func:`claim_completion` after
writing its note. While partitions are pending nothing happens. Once none is, each asker
tries to create ``_backfills/<id>/completed.json`` with ``if_generation_match=0``: storage
lets exactly one of them succeed, whatever the timing, and that one publishes
``backfill-completed`` and then marks the claim ``published``.

A claimant can die between its claim and its publish. Its partition message was not acked,
so Pub/Sub redelivers it; the replica that gets it finds an unpublished claim and, once the
claim is older than ``stale_after``, takes it over with a conditional write on the claim's
generation (again one winner) and publishes the same summary. Until then it is told
:class:`~worker.errors.AnnouncementPendingError` (a retryable error: the message comes back later).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from worker.core.backfill_record import BackfillState, backfills_uri, read_progress
from worker.errors import AnnouncementPendingError, CommitConflictError, StorageError
from worker.storage.base import Storage
from worker.storage.uris import join_uri

STALE_AFTER = timedelta(seconds=30)


class FailedPartition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partition_date: date
    reason: str
    message: str


class BackfillCompletion(BaseModel):
    """The summary a ``backfill-completed`` event announces (fixed at claim time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backfill_id: str
    dataset: str
    start_date: date
    end_date: date
    mode: Literal["missing", "failed", "all"]
    planned: int
    committed: int
    failed: int
    skipped: int
    failures: tuple[FailedPartition, ...]
    started_at: datetime
    finished_at: datetime


class CompletionClaim(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    completion: BackfillCompletion
    claimed_by: str
    claimed_at: datetime
    published: bool = False


@dataclass(frozen=True)
class Claimed:
    """The caller won: publish ``completion``, then :func:`mark_published`."""

    completion: BackfillCompletion
    claim_uri: str
    generation: int
    claim: CompletionClaim


def claim_uri(output_uri: str, dataset: str, backfill_id: str) -> str:
    return join_uri(backfills_uri(output_uri, dataset), backfill_id, "completed.json")


def summarize(progress: BackfillState) -> BackfillCompletion:
    record = progress.record
    return BackfillCompletion(
        backfill_id=record.backfill_id,
        dataset=record.dataset,
        start_date=record.start_date,
        end_date=record.end_date,
        mode=record.mode,
        planned=len(record.partitions),
        committed=progress.count("committed"),
        failed=progress.count("failed"),
        skipped=progress.count("skipped"),
        failures=tuple(
            FailedPartition(
                partition_date=note.partition,
                reason=note.reason or "error",
                message=note.message or "",
            )
            for note in progress.failures()
        ),
        started_at=record.planned_at,
        finished_at=progress.finished_at(),
    )


def read_claim(storage: Storage, uri: str) -> tuple[CompletionClaim, int] | None:
    found = storage.read_bytes(uri)
    if found is None:
        return None
    try:
        return CompletionClaim.model_validate_json(found[0]), found[1]
    except ValidationError:
        raise StorageError("backfill completion claim is unreadable", where=uri) from None


def claim_completion(
    storage: Storage,
    output_uri: str,
    dataset: str,
    backfill_id: str,
    *,
    claimer: str,
    clock: Callable[[], datetime],
    stale_after: timedelta = STALE_AFTER,
) -> Claimed | None:
    """Claim the announcement when every planned partition has settled and nobody has;
    None when there is nothing (more) for this caller to announce."""
    progress = read_progress(storage, output_uri, dataset, backfill_id)
    if progress is None or not progress.done:
        return None
    uri = claim_uri(output_uri, dataset, backfill_id)
    claim = CompletionClaim(completion=summarize(progress), claimed_by=claimer, claimed_at=clock())
    try:
        generation = storage.write_bytes(uri, _dump(claim), if_generation_match=0)
    except CommitConflictError:
        return _take_over(storage, uri, claimer=claimer, clock=clock, stale_after=stale_after)
    return Claimed(claim.completion, uri, generation, claim)


def _take_over(
    storage: Storage,
    uri: str,
    *,
    claimer: str,
    clock: Callable[[], datetime],
    stale_after: timedelta,
) -> Claimed | None:
    found = read_claim(storage, uri)
    if found is None:
        raise StorageError("backfill completion claim vanished after a write conflict", where=uri)
    existing, generation = found
    if existing.published:
        return None
    if clock() - existing.claimed_at < stale_after:
        raise AnnouncementPendingError(
            f"replica {existing.claimed_by} claimed the announcement at "
            f"{existing.claimed_at.isoformat()} and has not published it yet",
            where=uri,
        )
    # The same summary as the first claim: a takeover announces what was claimed.
    claim = existing.model_copy(update={"claimed_by": claimer, "claimed_at": clock()})
    try:
        new_generation = storage.write_bytes(uri, _dump(claim), if_generation_match=generation)
    except CommitConflictError:
        return None
    return Claimed(claim.completion, uri, new_generation, claim)


def mark_published(storage: Storage, claimed: Claimed) -> bool:
    """Record that the claimant published; False when another replica took the claim over
    in between (it publishes the same summary, with the same event id)."""
    done = claimed.claim.model_copy(update={"published": True})
    try:
        storage.write_bytes(claimed.claim_uri, _dump(done), if_generation_match=claimed.generation)
    except CommitConflictError:
        return False
    return True


def _dump(claim: CompletionClaim) -> bytes:
    return claim.model_dump_json(indent=2).encode()
