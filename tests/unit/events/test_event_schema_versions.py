"""partition-completed v2 (the quality report) beside v1, and the new backfill-completed.

Avro schema resolution: a reader field absent from the writer's schema takes its default,
and a writer field the reader lacks is ignored (Avro 1.11 specification, "Schema
Resolution", https://avro.apache.org/docs/1.11.1/specification/#schema-resolution).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import fastavro
import pytest

from worker.events import (
    BackfillCompleted,
    BackfillFailure,
    InputRef,
    PartitionCompleted,
    QualityCheck,
    decode,
    encode,
)
from worker.events.schemas import parsed_schema
from worker.events.wire import CONTENT_TYPE, EVENT_TYPE, SCHEMA_VERSION

NOW = datetime(2024, 1, 16, 3, 0, tzinfo=UTC)


def completed(**changes: object) -> PartitionCompleted:
    values: dict[str, object] = {
        "event_id": "3f1c9a0b7d2e4c68",
        "run_id": "3f1c9a0b7d2e4c68",
        "dataset": "trips",
        "partition_date": date(2024, 1, 15),
        "partition_uri": "gs://out/trips/year=2024/month=01/day=15",
        "manifest_uri": "gs://out/trips/year=2024/month=01/day=15/_manifest.json",
        "status": "committed",
        "rows_in": 10,
        "rows_out": 9,
        "rows_quarantined": 1,
        "files": ("gs://out/trips/year=2024/month=01/day=15/part-3f1c9a0b7d2e4c68-00000.parquet",),
        "inputs": (InputRef(uri="gs://landing/trips/2024-01-15.csv", generation=7),),
        "completed_at": NOW,
        "worker_version": "0.1.0",
        **changes,
    }
    return PartitionCompleted.model_validate(values)


REPORT = (
    QualityCheck(name="unique:trip_id", severity="error", measured="0 duplicate rows",
                 bound="0 duplicate rows", passed=True),
    QualityCheck(name="freshness:pickup_at", severity="warn", measured=None,
                 bound=">= 2024-01-15T18:00:00+00:00", passed=False),
)  # fmt: skip


@pytest.mark.parametrize("content_type", ["application/json", "application/avro"])
def test_the_quality_report_round_trips(content_type: str) -> None:
    event = completed(quality=REPORT)
    body, attributes = encode(event, content_type)  # type: ignore[arg-type]
    assert attributes[SCHEMA_VERSION] == "2"
    assert decode(body, attributes, PartitionCompleted) == event


def _avro(record: dict[str, object], version: int) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed_schema("partition-completed", version), record)
    return buffer.getvalue()


def test_a_v1_writer_s_event_decodes_with_an_empty_report() -> None:
    event = completed()
    record = event.model_dump()
    del record["quality"]
    attributes = {
        CONTENT_TYPE: "application/avro",
        EVENT_TYPE: "partition-completed",
        SCHEMA_VERSION: "1",
    }
    assert decode(_avro(record, 1), attributes, PartitionCompleted) == event


def test_a_v1_reader_reads_a_v2_event_and_skips_the_report() -> None:
    event = completed(quality=REPORT)
    body = _avro(event.model_dump(), 2)
    read = fastavro.schemaless_reader(
        io.BytesIO(body),
        parsed_schema("partition-completed", 2),
        parsed_schema("partition-completed", 1),
    )
    assert "quality" not in read
    assert read["run_id"] == event.run_id


@pytest.mark.parametrize("content_type", ["application/json", "application/avro"])
def test_backfill_completed_round_trips(content_type: str) -> None:
    event = BackfillCompleted(
        event_id="bf-1",
        backfill_id="bf-1",
        dataset="trips",
        start_date=date(2024, 1, 1),
        end_date=date(2024, 1, 31),
        mode="missing",
        planned=31,
        committed=28,
        failed=1,
        skipped=2,
        failures=(
            BackfillFailure(partition_date=date(2024, 1, 17), reason="quality", message="x"),
        ),
        started_at=NOW,
        finished_at=NOW,
        worker_version="0.1.0",
    )
    body, attributes = encode(event, content_type)  # type: ignore[arg-type]
    assert decode(body, attributes, BackfillCompleted) == event


def test_backfill_completed_needs_its_id_as_event_id() -> None:
    with pytest.raises(ValueError, match="event_id must equal backfill_id"):
        BackfillCompleted.model_validate(
            {
                "event_id": "other",
                "backfill_id": "bf-1",
                "dataset": "trips",
                "start_date": "2024-01-01",
                "end_date": "2024-01-02",
                "mode": "all",
                "planned": 2,
                "committed": 2,
                "failed": 0,
                "skipped": 0,
                "failures": [],
                "started_at": NOW,
                "finished_at": NOW,
                "worker_version": "0.1.0",
            }
        )
