"""Every kind of bad input fails the partition with the right error class and a clear message."""

from __future__ import annotations

import gzip
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

from worker.core.formats import Avro, Csv, InputLimits, JsonLines, Parquet
from worker.core.load import partition_state
from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition
from worker.errors import (
    ConfigurationError,
    ContractError,
    EmptyPartitionError,
    ForbiddenPathError,
    InputFormatError,
    InputNotFoundError,
    OutputNotWritableError,
    WorkerError,
)

HEADER = "order_id,amount,status,placed_at,note\n"


def _fails(tmp_path: Path, error: type[WorkerError], match: str, **dataset: object) -> WorkerError:
    ports = make_ports(tmp_path, orders_dataset(**dataset))  # type: ignore[arg-type]
    with pytest.raises(error, match=match) as raised:
        process_partition(PartitionTask("orders", DAY), ports)
    return raised.value


def test_missing_input_day(tmp_path: Path) -> None:
    _fails(tmp_path, InputNotFoundError, "no input for dataset 'orders' on 2024-03-05")


def test_missing_explicit_input(tmp_path: Path) -> None:
    ports = make_ports(tmp_path)
    missing = tmp_path / "landing" / "orders" / DAY.isoformat() / "gone.csv"
    with pytest.raises(InputNotFoundError, match=r"gone.csv"):
        process_partition(PartitionTask("orders", DAY, inputs=[str(missing)]), ports)


def test_input_outside_the_landing_root_is_forbidden(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "orders" / DAY.isoformat() / "a.csv"
    outside.parent.mkdir(parents=True)
    outside.write_text(HEADER)
    ports = make_ports(tmp_path)
    with pytest.raises(ForbiddenPathError, match="outside the allowed root"):
        process_partition(PartitionTask("orders", DAY, inputs=[str(outside)]), ports)
    sneaky = f"{tmp_path}/landing/orders/../../elsewhere/orders/{DAY}/a.csv"
    with pytest.raises(ForbiddenPathError):
        process_partition(PartitionTask("orders", DAY, inputs=[sneaky]), ports)


def test_explicit_input_of_another_day_is_refused(tmp_path: Path) -> None:
    other = write_input(tmp_path / "landing", "a.csv", HEADER.encode(), day=DAY.replace(day=6))
    with pytest.raises(ConfigurationError, match="2024-03-06"):
        process_partition(PartitionTask("orders", DAY, inputs=[str(other)]), make_ports(tmp_path))


def test_empty_input_commits_an_empty_partition(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", HEADER.encode())
    write_input(tmp_path / "landing", "b.csv", b"")
    result = process_partition(PartitionTask("orders", DAY), make_ports(tmp_path))
    assert (result.status, result.rows_in, result.rows_out) == ("committed", 0, 0)
    written = pl.read_parquet(result.files[0])
    assert written.height == 0
    assert written.columns == ["order_id", "amount_cents", "status", "placed_at", "note"]
    state = partition_state(make_ports(tmp_path).storage, str(tmp_path / "output"), "orders", DAY)
    assert (state.status, state.rows) == ("committed", 0)


def test_empty_input_fails_when_the_dataset_forbids_it(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", HEADER.encode())
    _fails(tmp_path, EmptyPartitionError, "no rows", allow_empty=False)


def test_malformed_csv_names_the_file(tmp_path: Path) -> None:
    write_input(
        tmp_path / "landing", "a.csv", (HEADER + '1,2.0,new,2024-03-05T01:00:00,"open\n').encode()
    )
    error = _fails(tmp_path, InputFormatError, "a.csv")
    assert error.exit_code == 4


def test_ragged_csv_names_the_file(tmp_path: Path) -> None:
    write_input(
        tmp_path / "landing", "a.csv", (HEADER + "1,2,new,2024-03-05T01:00:00,x,extra\n").encode()
    )
    _fails(tmp_path, InputFormatError, "more fields.*a.csv")


def test_wrong_value_type_in_csv_names_file_row_and_column(tmp_path: Path) -> None:
    good = orders_rows(5).write_csv(datetime_format="%Y-%m-%dT%H:%M:%S")
    write_input(tmp_path / "landing", "a.csv", good.encode())
    bad = good.replace("\n4,5.0,", "\n4,five,", 1)
    write_input(tmp_path / "landing", "b.csv", bad.encode())
    _fails(
        tmp_path,
        InputFormatError,
        r"column 'amount', data row 4 \(line 5\): 'five'.*b\.csv",
        strict_parsing=True,
    )


def test_wrong_value_type_in_jsonl_names_file_row_and_column(tmp_path: Path) -> None:
    line = b'{"order_id": "x1", "amount": 1.0, "status": "new", "placed_at": "2024-03-05T01:00:00"}'
    write_input(tmp_path / "landing", "a.jsonl", line + b"\n")
    _fails(
        tmp_path,
        InputFormatError,
        r"column 'order_id', data row 1: 'x1' is not a valid Int64.*a\.jsonl",
        input_format=JsonLines(),
        strict_parsing=True,
    )


def test_missing_csv_column_is_a_contract_error(tmp_path: Path) -> None:
    write_input(
        tmp_path / "landing", "a.csv", b"order_id,amount,placed_at,note\n1,2,2024-03-05T00:00:00,\n"
    )
    _fails(tmp_path, ContractError, "column 'status' not in dataframe.*a.csv")


def test_gz_that_is_not_gzip(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv.gz", HEADER.encode())
    _fails(tmp_path, InputFormatError, r"not gzip data.*a\.csv\.gz")


def test_gzip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = gzip.compress(HEADER.encode() + b"0" * 32 * 1024**2, compresslevel=9)
    write_input(tmp_path / "landing", "a.csv.gz", bomb)
    _fails(tmp_path, InputFormatError, "possible gzip bomb")


def test_huge_header_line_is_refused(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", b"c," * 600_000 + b"c\n")
    _fails(tmp_path, InputFormatError, "header line is longer than", limits=InputLimits())
    write_input(tmp_path / "landing", "a.csv", b",".join(b"c%d" % i for i in range(100)) + b"\n")
    _fails(tmp_path, InputFormatError, "more than 10 columns", limits=InputLimits(max_columns=10))


def test_content_that_does_not_match_the_extension(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", encode(orders_rows(2), Parquet()))
    _fails(tmp_path, InputFormatError, "looks like parquet, but the name says csv")


def test_text_named_parquet(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.parquet", HEADER.encode())
    _fails(
        tmp_path,
        InputFormatError,
        "looks like text, but the name says parquet",
        input_format=Parquet(),
    )


def test_corrupt_parquet(tmp_path: Path) -> None:
    data = encode(orders_rows(20), Parquet())
    write_input(tmp_path / "landing", "a.parquet", data[:4] + b"\x00" * 64 + data[-200:])
    _fails(tmp_path, InputFormatError, "a.parquet", input_format=Parquet())


def test_parquet_with_a_different_schema_names_the_columns(tmp_path: Path) -> None:
    rows = orders_rows(3).drop("status").with_columns(pl.col("amount").cast(pl.String))
    write_input(tmp_path / "landing", "a.parquet", encode(rows, Parquet()))
    error = _fails(tmp_path, ContractError, "a.parquet", input_format=Parquet())
    assert "column 'status' not in dataframe" in str(error)
    assert "expected column 'amount' to have type Float64, got String" in str(error)


def test_jsonl_that_is_not_json(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.jsonl", HEADER.encode())
    _fails(tmp_path, InputFormatError, "not JSON lines", input_format=JsonLines())


def test_unwritable_output(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv", encode(orders_rows(2), Csv()))
    (tmp_path / "output").write_text("a file where the output directory should be")
    _fails(tmp_path, OutputNotWritableError, "cannot write")


def test_a_failure_is_recorded_and_reported_by_partition_state(tmp_path: Path) -> None:
    write_input(tmp_path / "landing", "a.csv.gz", HEADER.encode())
    _fails(tmp_path, InputFormatError, "not gzip")
    state = partition_state(make_ports(tmp_path).storage, str(tmp_path / "output"), "orders", DAY)
    assert state.status == "failed"
    assert state.reason is not None
    assert state.reason.startswith("InputFormatError: ")
    assert state.run_id is not None
    assert len(state.run_id) == 16
    assert (partition_dir(tmp_path) / "_last_failure.json").is_file()


def test_unparseable_timestamp_in_csv_names_file_row_and_column(tmp_path: Path) -> None:
    text = orders_rows(5).write_csv(datetime_format="%Y-%m-%dT%H:%M:%S")
    bad = text.replace("2024-03-05T03:03:00", "yesterday")
    write_input(tmp_path / "landing", "a.csv", bad.encode())
    _fails(
        tmp_path,
        InputFormatError,
        r"column 'placed_at', data row 3 \(line 4\): 'yesterday'",
        strict_parsing=True,
    )


def test_corrupt_avro_names_the_file(tmp_path: Path) -> None:
    data = encode(orders_rows(50), Avro())
    write_input(tmp_path / "landing", "a.avro", data[:200] + b"\xff" * 50)
    _fails(tmp_path, InputFormatError, r"unreadable Avro.*a\.avro", input_format=Avro())
