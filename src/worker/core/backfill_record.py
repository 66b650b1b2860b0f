"""A backfill's record in storage: what was asked, what was planned, what has settled.

Layout under the dataset's output directory::

    _backfills/<id>.json                    the request and its plan (created once)
    _backfills/<id>/settled/<date>.json     one note per settled partition
    _backfills/<id>/completed.json          the completion claim (see backfill_announce)

The planning replica creates the record with a conditional write (``if_generation_match=0``):
a redelivered ``backfill-requested`` finds it and fans out the SAME plan again, so every
replica agrees on which partitions belong to the backfill. A partition settles when its
attempt commits, finds its run already committed, or fails permanently (dead-lettered); each
settle overwrites that partition's note, so redeliveries are harmless. Progress is read from
storage alone (:func:`read_progress`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from worker.core.partitions import PlannedPartition
from worker.errors import CommitConflictError, StorageError
from worker.storage.base import Storage
from worker.storage.uris import join_uri

SettledStatus = Literal["committed", "skipped", "failed"]


class PlannedEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partition: date
    runs: bool
    reason: str


class BackfillRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record_version: int = 1
    backfill_id: str
    dataset: str
    start_date: date
    end_date: date
    mode: Literal["missing", "failed", "all"]
    reason: str | None = None
    requested_by: str
    requested_at: datetime
    planned_at: datetime
    planned_by: str
    """``service`` (a replica handling backfill-requested) or ``cli`` (worker backfill)."""
    partitions: tuple[PlannedEntry, ...]

    def to_run(self) -> list[PlannedEntry]:
        return [entry for entry in self.partitions if entry.runs]


class SettledPartition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partition: date
    status: SettledStatus
    run_id: str | None = None
    reason: str | None = None
    """For ``failed``: the dead-letter reason (quality, contract, input-format, ...)."""
    message: str | None = None
    settled_at: datetime


def backfills_uri(output_uri: str, dataset: str) -> str:
    return join_uri(output_uri, dataset, "_backfills")


def record_uri(output_uri: str, dataset: str, backfill_id: str) -> str:
    return join_uri(backfills_uri(output_uri, dataset), f"{backfill_id}.json")


def settled_prefix(output_uri: str, dataset: str, backfill_id: str) -> str:
    return join_uri(backfills_uri(output_uri, dataset), backfill_id, "settled")


def planned_entries(plan: list[PlannedPartition]) -> tuple[PlannedEntry, ...]:
    return tuple(PlannedEntry(partition=p.partition, runs=p.runs, reason=p.reason) for p in plan)


def create_record(storage: Storage, output_uri: str, record: BackfillRecord) -> BackfillRecord:
    """Create the record unless it exists; return the one in storage (the first planner's)."""
    uri = record_uri(output_uri, record.dataset, record.backfill_id)
    try:
        storage.write_bytes(uri, record.model_dump_json(indent=2).encode(), if_generation_match=0)
    except CommitConflictError:
        existing = read_record(storage, output_uri, record.dataset, record.backfill_id)
        if existing is None:
            raise StorageError(
                "backfill record vanished after a write conflict", where=uri
            ) from None
        return existing
    return record


def read_record(
    storage: Storage, output_uri: str, dataset: str, backfill_id: str
) -> BackfillRecord | None:
    uri = record_uri(output_uri, dataset, backfill_id)
    found = storage.read_bytes(uri)
    if found is None:
        return None
    try:
        return BackfillRecord.model_validate_json(found[0])
    except ValidationError as exc:
        raise StorageError(
            f"backfill record is unreadable: {exc.error_count()} problems", where=uri
        ) from None


def record_settled(
    storage: Storage, output_uri: str, dataset: str, backfill_id: str, settled: SettledPartition
) -> None:
    uri = join_uri(
        settled_prefix(output_uri, dataset, backfill_id), f"{settled.partition.isoformat()}.json"
    )
    storage.write_bytes(uri, settled.model_dump_json(indent=2).encode())


def read_settled(
    storage: Storage, output_uri: str, dataset: str, backfill_id: str
) -> dict[date, SettledPartition]:
    settled: dict[date, SettledPartition] = {}
    for info in storage.list(settled_prefix(output_uri, dataset, backfill_id)):
        found = storage.read_bytes(info.uri)
        if found is None:
            continue
        try:
            note = SettledPartition.model_validate_json(found[0])
        except ValidationError:
            raise StorageError("settled-partition note is unreadable", where=info.uri) from None
        settled[note.partition] = note
    return settled


@dataclass(frozen=True)
class BackfillState:
    """A backfill as storage tells it: the record, and the notes of settled partitions."""

    record: BackfillRecord
    settled: dict[date, SettledPartition]

    @property
    def pending(self) -> list[date]:
        return [e.partition for e in self.record.to_run() if e.partition not in self.settled]

    @property
    def done(self) -> bool:
        return not self.pending

    def count(self, status: SettledStatus) -> int:
        ran = {entry.partition for entry in self.record.to_run()}
        counted = sum(
            1 for day, note in self.settled.items() if day in ran and note.status == status
        )
        if status == "skipped":
            counted += len(self.record.partitions) - len(ran)
        return counted

    def failures(self) -> list[SettledPartition]:
        return sorted(
            (note for note in self.settled.values() if note.status == "failed"),
            key=lambda note: note.partition,
        )

    def finished_at(self) -> datetime:
        """When the last partition settled: the same instant for every replica that asks."""
        moments = [note.settled_at for note in self.settled.values()]
        return max(moments, default=self.record.planned_at)


def read_progress(
    storage: Storage, output_uri: str, dataset: str, backfill_id: str
) -> BackfillState | None:
    record = read_record(storage, output_uri, dataset, backfill_id)
    if record is None:
        return None
    return BackfillState(record, read_settled(storage, output_uri, dataset, backfill_id))
