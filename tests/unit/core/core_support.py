"""Shared builders for the core pipeline tests: a small ``orders`` dataset in any format,
ports over local storage, and input writers."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import fastavro
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from worker.core.datasets import Dataset, DatasetRegistry
from worker.core.formats import Avro, Csv, InputFormat, JsonLines, Parquet
from worker.core.matching import MatchRule
from worker.core.model import Ports
from worker.storage.base import Storage
from worker.storage.local import LocalStorage

DAY = date(2024, 3, 5)
FIXED_NOW = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet", "avro": "avro"}


class OrdersIn(pa.DataFrameModel):
    order_id: int = pa.Field(ge=1)
    amount: float = pa.Field(ge=0)
    status: str = pa.Field(isin=["new", "paid", "shipped"])
    placed_at: datetime
    note: str = pa.Field(nullable=True)

    @pa.check("order_id", name="below_1e9")
    def order_id_small(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key) < 1_000_000_000)


class OrdersOut(pa.DataFrameModel):
    order_id: int
    amount_cents: int
    status: str
    placed_at: datetime
    note: str = pa.Field(nullable=True)


def orders_transform(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.with_columns(amount_cents=(pl.col("amount") * 100).round(0).cast(pl.Int64)).drop(
        "amount"
    )


def orders_dataset(input_format: InputFormat | None = None, **overrides: Any) -> Dataset:
    fmt = input_format or Csv()
    suffix = EXTENSIONS[fmt.kind]
    if fmt.kind in ("csv", "jsonl"):
        suffix += "*"  # optionally .gz
    spec: dict[str, Any] = {
        "name": "orders",
        "match": MatchRule(glob=f"orders/{{date}}/*.{suffix}"),
        "input_model": OrdersIn,
        "transform": orders_transform,
        "output_model": OrdersOut,
        "input_format": fmt,
        "max_quarantine_fraction": 0.5,
    }
    spec.update(overrides)
    return Dataset(**spec)


def orders_rows(count: int, start: int = 1) -> pl.DataFrame:
    """Deterministic clean orders."""
    ids = list(range(start, start + count))
    return pl.DataFrame(
        {
            "order_id": ids,
            "amount": [round(i * 1.25, 2) for i in ids],
            "status": [("new", "paid", "shipped")[i % 3] for i in ids],
            "placed_at": [datetime(2024, 3, 5, i % 24, i % 60) for i in ids],
            "note": [None if i % 4 == 0 else f"n{i}" for i in ids],
        },
        schema={
            "order_id": pl.Int64,
            "amount": pl.Float64,
            "status": pl.String,
            "placed_at": pl.Datetime("us"),
            "note": pl.String,
        },
    )


def encode(frame: pl.DataFrame, input_format: InputFormat, *, gz: bool = False) -> bytes:
    """``frame`` in the bytes of ``input_format``."""
    buffer = io.BytesIO()
    if isinstance(input_format, Csv):
        text = frame.write_csv(
            separator=input_format.separator,
            datetime_format="%Y-%m-%dT%H:%M:%S",
            null_value=input_format.null_values[0] if input_format.null_values else "",
        )
        buffer.write(text.encode(input_format.encoding))
    elif isinstance(input_format, JsonLines):
        for row in frame.iter_rows(named=True):
            row = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
            buffer.write((json.dumps(row) + "\n").encode())
    elif isinstance(input_format, Parquet):
        frame.write_parquet(buffer)
    elif isinstance(input_format, Avro):
        fastavro.writer(buffer, _avro_schema(), _avro_records(frame))
    data = buffer.getvalue()
    return gzip.compress(data, mtime=0) if gz else data


def _avro_schema() -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Order",
        "fields": [
            {"name": "order_id", "type": "long"},
            {"name": "amount", "type": "double"},
            {"name": "status", "type": "string"},
            {"name": "placed_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "note", "type": ["null", "string"]},
        ],
    }


def _avro_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {**row, "placed_at": row["placed_at"].replace(tzinfo=UTC)}
        for row in frame.iter_rows(named=True)
    ]


def input_uri(landing: Path, name: str, day: date = DAY) -> Path:
    return landing / "orders" / day.isoformat() / name


def write_input(landing: Path, name: str, data: bytes, day: date = DAY) -> Path:
    path = input_uri(landing, name, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_ports(
    root: Path,
    *datasets: Dataset,
    storage: Storage | None = None,
    clock: Callable[[], datetime] = lambda: FIXED_NOW,
    **extra: Any,
) -> Ports:
    registry = DatasetRegistry(datasets or (orders_dataset(),))
    return Ports(
        storage=storage or LocalStorage(),
        registry=registry,
        landing_uri=str(root / "landing"),
        output_uri=str(root / "output"),
        workdir=root / "work",
        code_version="test",
        clock=clock,
        **extra,
    )


def partition_dir(root: Path, dataset: str = "orders", day: date = DAY) -> Path:
    return (
        root
        / "output"
        / dataset
        / f"year={day.year}"
        / f"month={day.month:02d}"
        / (f"day={day.day:02d}")
    )


def files_under(directory: Path) -> dict[str, bytes]:
    """Every visible file below ``directory`` by relative path."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
