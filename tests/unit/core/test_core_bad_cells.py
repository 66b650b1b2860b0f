"""A value that does not parse into its contract type quarantines its row, not the day.

Polars documents ``cast(..., strict=False)`` and ``str.to_datetime(..., strict=False)`` as
turning values that cannot be converted into nulls
(https://docs.pola.rs/api/python/stable/reference/expressions/api/polars.Expr.cast.html);
the worker's contract (docs/datasets.md, "Quarantine") is that such a row lands in
``_quarantine/`` with ``_failed_checks`` = ``<column>: parse (<type>)`` and its exact
``_source_row``, the threshold still applies, and ``strict_parsing=True`` fails instead,
naming file, data row, column and value.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from core_support import DAY, make_ports, orders_dataset, partition_dir, write_input
from structlog.testing import capture_logs

from worker.core.datasets import Dataset, identity
from worker.core.formats import Csv, JsonLines, Parquet
from worker.core.load import read_manifest
from worker.core.manifest import read_failure
from worker.core.model import PartitionResult, PartitionTask
from worker.core.pipeline import process_partition
from worker.errors import InputFormatError, QuarantineThresholdError
from worker.storage.local import LocalStorage


class Reading(pa.DataFrameModel):
    reading_id: int = pa.Field(ge=1)
    value: float = pa.Field(ge=0)
    level: pl.Int16 = pa.Field(nullable=True)
    ok: bool = pa.Field(nullable=True)
    day: date = pa.Field(nullable=True)
    taken_at: datetime


class CoercedReading(pa.DataFrameModel):
    reading_id: int
    value: float

    class Config:
        coerce = True


HEADER = "reading_id,value,level,ok,day,taken_at\n"
GOOD = "{n},{n}.5,{n},true,2024-03-05,2024-03-05T10:00:00\n"


def readings(fmt: Csv | JsonLines | Parquet | None = None, **overrides: object) -> Dataset:
    spec: dict[str, object] = {
        "input_model": Reading,
        "output_model": None,
        "transform": identity,
        "max_quarantine_fraction": 0.5,
        **overrides,
    }
    return orders_dataset(fmt, **spec)


def csv_lines(count: int, bad: dict[int, str]) -> bytes:
    """``count`` good data rows, row ``n`` replaced by ``bad[n]`` where given."""
    rows = [bad.get(n, GOOD.format(n=n)) for n in range(1, count + 1)]
    return (HEADER + "".join(rows)).encode()


def run(tmp_path: Path, dataset: Dataset) -> PartitionResult:
    return process_partition(PartitionTask("orders", DAY), make_ports(tmp_path, dataset))


def quarantined(result: PartitionResult) -> pl.DataFrame:
    manifest = read_manifest(LocalStorage(), result.partition_uri)
    assert manifest is not None
    (entry,) = manifest.quarantine
    return pl.read_parquet(partition_dir(tmp_root(result)) / entry.path)


def tmp_root(result: PartitionResult) -> Path:
    return Path(result.partition_uri).parents[4]


BAD_CELLS = {
    2: "2,lots,2,true,2024-03-05,2024-03-05T10:00:00\n",  # a float
    4: "4,4.5,70000,true,2024-03-05,2024-03-05T10:00:00\n",  # an Int16 out of range
    5: "5,5.5,5,maybe,2024-03-05,2024-03-05T10:00:00\n",  # a boolean
    7: "7,7.5,7,false,2024-02-30,2024-03-05T10:00:00\n",  # a date
    8: "8,8.5,8,false,2024-03-05,yesterday\n",  # a timestamp
    9: "nine,9.5,9,false,2024-03-05,2024-03-05T10:00:00\n",  # an integer
}
EXPECTED_FAILURES = {
    2: "value: parse (Float64)",
    4: "level: parse (Int16)",
    5: "ok: parse (Boolean)",
    7: "day: parse (Date)",
    8: "taken_at: parse (Datetime(time_unit='us', time_zone=None))",
    9: "reading_id: parse (Int64)",
}


def test_each_value_that_does_not_parse_quarantines_only_its_row(tmp_path: Path) -> None:
    source = write_input(tmp_path / "landing", "a.csv", csv_lines(20, BAD_CELLS))
    result = run(tmp_path, readings())
    assert (result.status, result.rows_in, result.rows_out, result.rows_quarantined) == (
        "committed",
        20,
        14,
        6,
    )
    bad = quarantined(result)
    assert dict(zip(bad["_source_row"], bad["_failed_checks"], strict=True)) == EXPECTED_FAILURES
    assert set(bad["_source_uri"]) == {str(source)}
    # The cell that did not parse is null; the row's other cells keep their values.
    wrong_float = bad.filter(pl.col("_source_row") == 2).row(0, named=True)
    assert (wrong_float["value"], wrong_float["reading_id"], wrong_float["level"]) == (None, 2, 2)
    clean = pl.read_parquet(result.files[0])
    assert clean["reading_id"].to_list() == [n for n in range(1, 21) if n not in BAD_CELLS]


def test_a_row_that_parses_but_fails_a_check_is_named_by_that_check(tmp_path: Path) -> None:
    write_input(
        tmp_path / "landing",
        "a.csv",
        csv_lines(4, {3: "3,-1.0,3,true,2024-03-05,2024-03-05T10:00:00\n", 4: "0,x,,,,\n"}),
    )
    bad = quarantined(run(tmp_path, readings()))
    assert bad["_failed_checks"].to_list() == [
        "value: greater_than_or_equal_to(0)",
        # A cell that did not parse fails only its parse check, not the column's other
        # rules on the null it left; the row's other columns are still judged.
        "value: parse (Float64), reading_id: greater_than_or_equal_to(1), taken_at: not_nullable",
    ]


def test_blanks_around_numbers_parse_in_the_re_pass_as_in_the_strict_one(tmp_path: Path) -> None:
    """The CSV reader ignores blanks around numbers and booleans; so does the re-pass, or a
    bad cell elsewhere would quarantine rows that a clean file commits."""
    padded = "3, 3.5 , 3 , TRUE ,2024-03-05,2024-03-05T10:00:00\n"
    write_input(tmp_path / "landing", "a.csv", csv_lines(4, {3: padded}))
    clean = run(tmp_path, readings())
    assert clean.rows_quarantined == 0
    write_input(tmp_path / "landing", "a.csv", csv_lines(4, {3: padded, 4: BAD_CELLS[2]}))
    result = run(tmp_path, readings())
    assert quarantined(result)["_source_row"].to_list() == [4]
    row = pl.read_parquet(result.files[0]).filter(pl.col("reading_id") == 3).row(0, named=True)
    assert (row["value"], row["level"], row["ok"]) == (3.5, 3, True)


def test_rows_that_parse_take_the_strict_pass_only(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", csv_lines(5, {}))
    with capture_logs() as logs:
        run(tmp_path, readings())
    assert "partition.reparsing" not in [entry["event"] for entry in logs]
    write_input(tmp_path / "landing", "a.csv", csv_lines(5, {2: BAD_CELLS[2]}))
    with capture_logs() as logs:
        run(tmp_path, readings())
    (reparsing,) = [entry for entry in logs if entry["event"] == "partition.reparsing"]
    assert "lots" in reparsing["strict_failure"]


def test_bad_cells_in_a_later_input_carry_that_input_and_its_row(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", csv_lines(3, {}))
    later = write_input(tmp_path / "landing", "b.csv", csv_lines(3, {3: BAD_CELLS[8]}))
    bad = quarantined(run(tmp_path, readings()))
    assert bad.select("_source_uri", "_source_row").rows() == [(str(later), 3)]


def test_the_quarantine_threshold_still_applies(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", csv_lines(10, BAD_CELLS))
    with pytest.raises(QuarantineThresholdError, match="6 of 10 rows"):
        run(tmp_path, readings(max_quarantine_fraction=0.1))
    failure = read_failure(LocalStorage(), str(partition_dir(tmp_path)))
    assert failure is not None
    assert failure.quarantine_uri is not None
    kept = pl.read_parquet(failure.quarantine_uri)
    assert kept["_failed_checks"].to_list() == list(EXPECTED_FAILURES.values())


def test_json_lines_values_that_do_not_parse_are_quarantined(tmp_path: Path) -> None:
    lines = [
        {"reading_id": 1, "value": 1.5, "ok": True, "taken_at": "2024-03-05T10:00:00"},
        {"reading_id": 2, "value": "lots", "ok": True, "taken_at": "2024-03-05T10:00:00"},
        {"reading_id": 3, "value": 3.5, "ok": "maybe", "taken_at": "2024-03-05T10:00:00"},
        {"reading_id": 4, "value": 4.5, "ok": False, "taken_at": "noon"},
        {"reading_id": 5, "value": 5, "taken_at": "2024-03-05T10:00:00"},
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    write_input(tmp_path / "landing", "a.jsonl", body)
    result = run(tmp_path, readings(JsonLines(), max_quarantine_fraction=0.9))
    bad = quarantined(result)
    assert bad.select("_source_row", "_failed_checks").rows() == [
        (2, "value: parse (Float64)"),
        (3, "ok: parse (Boolean)"),
        (4, "taken_at: parse (Datetime(time_unit='us', time_zone=None))"),
    ]
    assert pl.read_parquet(result.files[0])["reading_id"].to_list() == [1, 5]


def test_a_coerced_cast_that_fails_quarantines_the_row(tmp_path: Path) -> None:
    """Pandera's ``coerce = True`` asks for every cast; a value that cannot be cast is a
    value that does not parse."""
    frame = pl.DataFrame({"reading_id": ["1", "two", "3"], "value": [1.0, 2.0, 3.0]})
    path = write_input(tmp_path / "landing", "a.parquet", b"")
    frame.write_parquet(path)
    dataset = readings(Parquet(), input_model=CoercedReading)
    bad = quarantined(run(tmp_path, dataset))
    assert bad.select("_source_row", "_failed_checks").rows() == [(2, "reading_id: parse (Int64)")]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (BAD_CELLS[2], r"column 'value', data row 2 \(line 3\): 'lots' is not a valid Float64"),
        (BAD_CELLS[5], r"column 'ok', data row 2 \(line 3\): 'maybe' is not a valid Boolean"),
        (BAD_CELLS[7], r"column 'day', data row 2 \(line 3\): '2024-02-30' is not a valid Date"),
        (
            BAD_CELLS[8],
            r"column 'taken_at', data row 2 \(line 3\): 'yesterday' is not a valid Datetime",
        ),
        (BAD_CELLS[9], r"column 'reading_id', data row 2 \(line 3\): 'nine' is not a valid Int64"),
    ],
    ids=["number", "boolean", "date", "timestamp", "integer"],
)
def test_strict_parsing_fails_naming_file_row_column_and_value_in_stage_extract(
    tmp_path: Path, row: str, message: str
) -> None:
    source = write_input(tmp_path / "landing", "a.csv", csv_lines(3, {2: row}))
    with capture_logs() as logs, pytest.raises(InputFormatError, match=message) as raised:
        run(tmp_path, readings(strict_parsing=True))
    assert raised.value.where == str(source)
    (failed,) = [entry for entry in logs if entry["event"] == "partition.failed"]
    assert failed["stage"] == "extract"
    failure = read_failure(LocalStorage(), str(partition_dir(tmp_path)))
    assert failure is not None
    assert failure.stage == "extract"
    assert not (partition_dir(tmp_path) / "_manifest.json").exists()
