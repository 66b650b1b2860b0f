"""Every input format yields the same partition from the same rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from core_support import (
    DAY,
    encode,
    make_ports,
    orders_dataset,
    orders_rows,
    partition_dir,
    write_input,
)

from worker.core.formats import Avro, Csv, InputFormat, JsonLines, Parquet
from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition


def _rows_with_bad_ones() -> pl.DataFrame:
    rows = orders_rows(30)
    return rows.with_columns(
        amount=pl.when(pl.col("order_id") == 7).then(-1.0).otherwise(pl.col("amount")),
        status=pl.when(pl.col("order_id") == 11).then(pl.lit("lost")).otherwise(pl.col("status")),
    )


CASES: list[tuple[str, InputFormat, str, bool]] = [
    ("csv", Csv(), "a.csv", False),
    ("csv-options", Csv(separator=";", encoding="latin-1", null_values=("NA",)), "a.csv", False),
    ("csv.gz", Csv(), "a.csv.gz", True),
    ("jsonl", JsonLines(), "a.jsonl", False),
    ("jsonl.gz", JsonLines(), "a.jsonl.gz", True),
    ("parquet", Parquet(), "a.parquet", False),
    ("avro", Avro(batch_rows=7), "a.avro", False),
]


def _run(tmp_path: Path, input_format: InputFormat, name: str, gz: bool) -> pl.DataFrame:
    rows = _rows_with_bad_ones()
    if isinstance(input_format, Csv) and input_format.encoding == "latin-1":
        rows = rows.with_columns(note=pl.col("note").str.replace(r"^n1$", "café"))
    write_input(tmp_path / "landing", name, encode(rows, input_format, gz=gz))
    ports = make_ports(tmp_path, orders_dataset(input_format))
    result = process_partition(PartitionTask("orders", DAY), ports)
    assert result.status == "committed"
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (30, 28, 2)
    quarantine = pl.read_parquet(partition_dir(tmp_path) / "_quarantine")
    assert quarantine["order_id"].to_list() == [7, 11]
    assert quarantine["_source_row"].to_list() == [7, 11]
    assert quarantine["_failed_checks"].to_list() == [
        "amount: greater_than_or_equal_to(0)",
        "status: isin(['new', 'paid', 'shipped'])",
    ]
    return pl.read_parquet(result.files[0])


@pytest.mark.parametrize(
    ("input_format", "name", "gz"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_each_format_gives_the_same_partition(
    tmp_path: Path, input_format: InputFormat, name: str, gz: bool
) -> None:
    produced = _run(tmp_path, input_format, name, gz)
    expected = (
        _rows_with_bad_ones()
        .filter(~pl.col("order_id").is_in([7, 11]))
        .with_columns(amount_cents=(pl.col("amount") * 100).round(0).cast(pl.Int64))
        .select("order_id", "amount_cents", "status", "placed_at", "note")
    )
    if isinstance(input_format, Csv) and input_format.encoding == "latin-1":
        expected = expected.with_columns(note=pl.col("note").str.replace(r"^n1$", "café"))
    assert produced.equals(expected), produced


def test_csv_null_values_option_reads_markers_as_null(tmp_path: Path) -> None:
    body = "order_id,amount,status,placed_at,note\n1,2.5,new,2024-03-05T01:00:00,-\n"
    write_input(tmp_path / "landing", "a.csv", body.encode())
    ports = make_ports(tmp_path, orders_dataset(Csv(null_values=("-",))))
    result = process_partition(PartitionTask("orders", DAY), ports)
    assert pl.read_parquet(result.files[0])["note"].to_list() == [None]


def test_extra_columns_are_dropped_and_column_order_does_not_matter(tmp_path: Path) -> None:
    rows = (
        orders_rows(3)
        .with_columns(extra=pl.lit("x"))
        .select("note", "extra", "placed_at", "status", "amount", "order_id")
    )
    write_input(tmp_path / "landing", "a.parquet", encode(rows, Parquet()))
    ports = make_ports(tmp_path, orders_dataset(Parquet()))
    result = process_partition(PartitionTask("orders", DAY), ports)
    assert pl.read_parquet(result.files[0]).columns == [
        "order_id",
        "amount_cents",
        "status",
        "placed_at",
        "note",
    ]


def test_parquet_lossless_type_differences_are_cast(tmp_path: Path) -> None:
    rows = orders_rows(3).with_columns(
        pl.col("order_id").cast(pl.Int32),
        pl.col("placed_at").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Paris"),
    )
    write_input(tmp_path / "landing", "a.parquet", encode(rows, Parquet()))
    ports = make_ports(tmp_path, orders_dataset(Parquet()))
    result = process_partition(PartitionTask("orders", DAY), ports)
    produced = pl.read_parquet(result.files[0])
    assert produced["placed_at"].to_list() == orders_rows(3)["placed_at"].to_list()
    assert produced.schema["order_id"] == pl.Int64
