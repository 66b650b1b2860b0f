"""ISO-8601 timestamps with ``Z`` or ``±HH:MM`` offsets into time-zone-aware contract columns.

ISO 8601 / RFC 3339 (https://www.rfc-editor.org/rfc/rfc3339#section-5.6) write an instant
as local time plus an offset, ``Z`` meaning UTC. Pandera's DataFrameModel passes the metadata
of ``Annotated[pl.Datetime, "us", "UTC"]`` to the dtype as its positional arguments, all of
them required; ``pa.Field(dtype_kwargs=...)`` fails for ``Datetime`` ("'Datetime' object is
not callable", https://github.com/unionai-oss/pandera/issues/1637). Polars'
``str.to_datetime`` converts offset-aware text to its ``time_zone`` and *replaces* (does not
convert) the zone of naive text
(https://docs.pola.rs/api/python/stable/reference/expressions/api/polars.Expr.str.to_datetime.html).
The worker's rule (docs/datasets.md, "Time zones"): text with an offset is the instant it
names; text without one is wall-clock time in the column's zone (UTC for a naive column).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pandera.polars as pa
import polars as pl
import pytest
from core_support import DAY, make_ports, orders_dataset, write_input

from worker.core.datasets import Dataset, identity
from worker.core.formats import Csv, InputFormat, JsonLines
from worker.core.load import read_manifest
from worker.core.model import PartitionResult, PartitionTask
from worker.core.parsing import ISO_8601_WITH_OFFSET
from worker.core.pipeline import process_partition
from worker.errors import ConfigurationError
from worker.storage.local import LocalStorage


class UtcEvent(pa.DataFrameModel):
    event_id: int
    at: Annotated[pl.Datetime, "us", "UTC"]


class BerlinEvent(pa.DataFrameModel):
    event_id: int
    at: Annotated[pl.Datetime, "us", "Europe/Berlin"]


class NaiveEvent(pa.DataFrameModel):
    event_id: int
    at: datetime


OFFSETS = ["2013-01-01T10:00:00Z", "2013-01-01T12:00:00+02:00", "2013-01-01T04:30:00-05:30"]
SAME_INSTANT = datetime(2013, 1, 1, 10, 0, tzinfo=UTC)


def events(model: type[pa.DataFrameModel], fmt: InputFormat | None = None) -> Dataset:
    return orders_dataset(
        fmt, input_model=model, output_model=None, transform=identity, max_quarantine_fraction=0.5
    )


def land_csv(tmp_path: Path, stamps: list[str]) -> None:
    body = "event_id,at\n" + "".join(f"{n},{at}\n" for n, at in enumerate(stamps, 1))
    write_input(tmp_path / "landing", "a.csv", body.encode())


def run(tmp_path: Path, dataset: Dataset) -> PartitionResult:
    return process_partition(PartitionTask("orders", DAY), make_ports(tmp_path, dataset))


def committed(result: PartitionResult) -> pl.DataFrame:
    return pl.read_parquet(result.files[0])


def test_the_annotated_dtype_declares_a_zone_aware_column() -> None:
    assert events(UtcEvent).input_contract.columns["at"] == pl.Datetime("us", "UTC")
    assert events(BerlinEvent).input_contract.columns["at"] == pl.Datetime("us", "Europe/Berlin")


def test_the_forms_docs_datasets_md_warns_against_are_refused_at_registration() -> None:
    class FieldKwargs(pa.DataFrameModel):
        at: pl.Datetime = pa.Field(dtype_kwargs={"time_unit": "us", "time_zone": "UTC"})

    class UnitOnly(pa.DataFrameModel):
        at: Annotated[pl.Datetime, "us"]

    with pytest.raises(ConfigurationError, match="not callable"):
        events(FieldKwargs)
    with pytest.raises(ConfigurationError, match="requires all positional arguments"):
        events(UnitOnly)


@pytest.mark.parametrize("fmt", [None, ISO_8601_WITH_OFFSET], ids=["inferred", "documented"])
def test_offsets_and_z_parse_into_a_utc_column(tmp_path: Path, fmt: str | None) -> None:
    land_csv(tmp_path, OFFSETS)
    result = run(tmp_path, events(UtcEvent, Csv(datetime_format=fmt)))
    written = committed(result)
    assert written.schema["at"] == pl.Datetime("us", "UTC")
    assert written["at"].to_list() == [SAME_INSTANT] * 3
    manifest = read_manifest(LocalStorage(), result.partition_uri)
    assert manifest is not None
    assert manifest.columns["at"] == "Datetime(time_unit='us', time_zone='UTC')"


def test_the_documented_format_takes_fractions_and_hour_only_offsets(tmp_path: Path) -> None:
    land_csv(tmp_path, ["2013-01-01T10:00:00.250Z", "2013-01-01T12:00:00+02"])
    written = committed(run(tmp_path, events(UtcEvent, Csv(datetime_format=ISO_8601_WITH_OFFSET))))
    assert written["at"].to_list() == [SAME_INSTANT.replace(microsecond=250_000), SAME_INSTANT]


def test_offsets_are_converted_to_the_columns_zone(tmp_path: Path) -> None:
    land_csv(tmp_path, OFFSETS)
    written = committed(run(tmp_path, events(BerlinEvent)))
    assert written.schema["at"] == pl.Datetime("us", "Europe/Berlin")
    assert written["at"].to_list() == [SAME_INSTANT.astimezone(ZoneInfo("Europe/Berlin"))] * 3


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (UtcEvent, datetime(2013, 1, 1, 10, 0, tzinfo=UTC)),
        (BerlinEvent, datetime(2013, 1, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))),
    ],
    ids=["UTC", "Europe/Berlin"],
)
def test_naive_text_is_wall_clock_time_in_the_columns_zone(
    tmp_path: Path, model: type[pa.DataFrameModel], expected: datetime
) -> None:
    land_csv(tmp_path, ["2013-01-01T10:00:00", "2013-01-01 10:00:00"])
    assert committed(run(tmp_path, events(model)))["at"].to_list() == [expected] * 2


def test_offsets_into_a_naive_column_are_utc_wall_clock(tmp_path: Path) -> None:
    land_csv(tmp_path, OFFSETS)
    written = committed(run(tmp_path, events(NaiveEvent)))
    assert written.schema["at"] == pl.Datetime("us")
    assert written["at"].to_list() == [datetime(2013, 1, 1, 10, 0)] * 3


def test_naive_text_among_offsets_does_not_parse_with_the_inferred_format(tmp_path: Path) -> None:
    """The first value sets the format; a file mixing both kinds needs ``datetime_format``."""
    land_csv(tmp_path, [*OFFSETS, "2013-01-01T10:00:00"])
    result = run(tmp_path, events(UtcEvent))
    assert (result.rows_out, result.rows_quarantined) == (3, 1)
    manifest = read_manifest(LocalStorage(), result.partition_uri)
    assert manifest is not None
    (entry,) = manifest.quarantine
    bad = pl.read_parquet(Path(result.partition_uri) / entry.path)
    assert bad.select("_source_row", "_failed_checks").rows() == [
        (4, "at: parse (Datetime(time_unit='us', time_zone='UTC'))")
    ]


def test_json_lines_with_offsets_parse_into_a_utc_column(tmp_path: Path) -> None:
    body = "".join(json.dumps({"event_id": n, "at": at}) + "\n" for n, at in enumerate(OFFSETS, 1))
    write_input(tmp_path / "landing", "a.jsonl", body.encode())
    written = committed(run(tmp_path, events(UtcEvent, JsonLines())))
    assert written["at"].to_list() == [SAME_INSTANT] * 3
