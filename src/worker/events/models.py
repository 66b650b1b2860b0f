"""Typed events, one pydantic model per Avro schema in ``schemas/``.

The models and the ``.avsc`` files describe the same records field by field (a unit test
fails when they drift). Models are frozen values; timestamps are UTC with millisecond
precision, as Avro's ``timestamp-millis`` carries them, so a round trip through either
encoding gives back an equal event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

AVRO_LONG_MAX = 2**63 - 1


def _to_utc_millis(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("timestamp is out of range once converted to UTC") from error
    return utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000)


# pydantic itself refuses str with lone surrogates (JSON escapes can produce them), so
# every text field is encodable as UTF-8 for Avro.
Text = str
Name = Annotated[str, Field(min_length=1)]
Count = Annotated[int, Field(ge=0, le=AVRO_LONG_MAX)]
Timestamp = Annotated[AwareDatetime, AfterValidator(_to_utc_millis)]

FileSource = Literal["gcs_notification", "cloudevent", "worker"]
BackfillMode = Literal["missing", "failed", "all"]
CompletionStatus = Literal["committed", "skipped"]


class Event(BaseModel):
    """Base of every message we decode or publish."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    """The ``event-type`` attribute and the schema's name in ``worker.events.schemas``."""


class FileArrived(Event):
    event_type: ClassVar[str] = "file-arrived"

    event_id: Name
    uri: Name
    bucket: Text
    object: Name
    generation: Count
    size: Count | None = None
    content_type: Text | None = None
    event_time: Timestamp
    source: FileSource
    dataset: Name | None = None

    @model_validator(mode="after")
    def _uri_names_the_object(self) -> Self:
        if self.uri.startswith("gs://"):
            if self.uri != f"gs://{self.bucket}/{self.object}":
                raise ValueError(f"uri {self.uri!r} is not gs://<bucket>/<object>")
        elif self.bucket:
            raise ValueError(f"bucket is set but uri {self.uri!r} is not a gs:// URI")
        return self


class BackfillRequested(Event):
    event_type: ClassVar[str] = "backfill-requested"

    backfill_id: Name
    dataset: Name
    start_date: date
    end_date: date
    mode: BackfillMode
    reason: Text | None = None
    requested_by: Name
    requested_at: Timestamp

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self


class PartitionRequested(Event):
    event_type: ClassVar[str] = "partition-requested"

    backfill_id: Name | None = None
    dataset: Name
    partition_date: date
    force: bool = False
    reason: Text | None = None
    requested_at: Timestamp


class InputRef(BaseModel):
    """One input object at the generation that was read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    uri: Name
    generation: Count


class QualityCheck(BaseModel):
    """One line of a partition's quality report (schema v2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    severity: Literal["error", "warn"]
    measured: Text | None = None
    bound: Text
    passed: bool


class PartitionCompleted(Event):
    event_type: ClassVar[str] = "partition-completed"

    event_id: Name
    run_id: Name
    dataset: Name
    partition_date: date
    partition_uri: Name
    manifest_uri: Name
    status: CompletionStatus
    rows_in: Count
    rows_out: Count
    rows_quarantined: Count
    files: tuple[Text, ...]
    inputs: tuple[InputRef, ...]
    backfill_id: Name | None = None
    completed_at: Timestamp
    worker_version: Name
    quality: tuple[QualityCheck, ...] = ()

    @model_validator(mode="after")
    def _event_id_is_run_id(self) -> Self:
        if self.event_id != self.run_id:
            raise ValueError("event_id must equal run_id so consumers can deduplicate")
        return self


class BackfillFailure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partition_date: date
    reason: Name
    message: Text


class BackfillCompleted(Event):
    event_type: ClassVar[str] = "backfill-completed"

    event_id: Name
    backfill_id: Name
    dataset: Name
    start_date: date
    end_date: date
    mode: BackfillMode
    planned: Count
    committed: Count
    failed: Count
    skipped: Count
    failures: tuple[BackfillFailure, ...]
    started_at: Timestamp
    finished_at: Timestamp
    worker_version: Name

    @model_validator(mode="after")
    def _event_id_is_backfill_id(self) -> Self:
        if self.event_id != self.backfill_id:
            raise ValueError("event_id must equal backfill_id so consumers can deduplicate")
        return self


EVENT_MODELS: dict[str, type[Event]] = {
    model.event_type: model
    for model in (
        FileArrived,
        BackfillRequested,
        PartitionRequested,
        PartitionCompleted,
        BackfillCompleted,
    )
}
