"""Benchmark inputs: one day of generated trips as CSV, CSV.gz and Parquet, cached on disk.

The three files hold the same rows (the Parquet and gzip files are made from the CSV), laid
out as the worker's landing root expects: ``trips/<day>.csv`` for the shipped ``trips``
dataset, ``trips_gz/<day>.csv.gz`` and ``trips_parquet/<day>.parquet`` for the bench
datasets in :mod:`bench.datasets`.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from bench.common import OUT
from worker.datasets.trips import TripsInput
from worker.datasets.trips_sample import TIMESTAMP_FORMAT, write_trips_csv

DAY = date(2024, 1, 15)
BAD_ROW_FRACTION = 0.01
SEED = 7
FORMATS = ("csv", "csv.gz", "parquet")
_DIRECTORY = {"csv": "trips", "csv.gz": "trips_gz", "parquet": "trips_parquet"}
DATASET_OF_FORMAT = {"csv": "trips", "csv.gz": "trips_gz", "parquet": "trips_parquet"}


@dataclass(frozen=True)
class Inputs:
    rows: int
    landing: Path
    """The landing root the worker reads."""
    files: dict[str, Path]
    """Format → the day's file."""


def landing_root(rows: int) -> Path:
    return OUT / "data" / f"trips-{rows}"


def _relative(fmt: str) -> str:
    return f"{_DIRECTORY[fmt]}/{DAY.isoformat()}.{fmt}"


def ensure_inputs(rows: int, formats: tuple[str, ...] = FORMATS) -> Inputs:
    """Generate what is missing; a finished file is never rewritten (renamed into place)."""
    root = landing_root(rows)
    files = {fmt: root / _relative(fmt) for fmt in FORMATS}
    csv = files["csv"]
    if not csv.exists():
        _atomic(csv, lambda tmp: _write_csv(tmp, rows))
    if "csv.gz" in formats and not files["csv.gz"].exists():
        _atomic(files["csv.gz"], lambda tmp: _gzip(csv, tmp))
    if "parquet" in formats and not files["parquet"].exists():
        _atomic(files["parquet"], lambda tmp: _to_parquet(csv, tmp))
    return Inputs(rows=rows, landing=root, files={fmt: files[fmt] for fmt in formats})


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    write(partial)
    partial.rename(target)


def _write_csv(path: Path, rows: int) -> None:
    with path.open("wb") as sink:
        write_trips_csv(sink, DAY, rows, BAD_ROW_FRACTION, SEED)


def _gzip(source: Path, target: Path) -> None:
    # Level 6 is what `gzip` and most exporters use by default.
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, length=4 * 1024**2)


def _to_parquet(source: Path, target: Path) -> None:
    schema = TripsInput.to_schema()
    dtypes = {name: column.dtype.type for name, column in schema.columns.items()}
    text = {"pickup_at", "dropoff_at"}
    overrides = {name: pl.String if name in text else dtype for name, dtype in dtypes.items()}
    # Snappy with smaller row groups: what Spark and most exporters hand over.
    pl.scan_csv(source, schema_overrides=overrides).with_columns(
        pl.col(*text).str.to_datetime(TIMESTAMP_FORMAT, time_unit="us")
    ).sink_parquet(target, compression="snappy", row_group_size=131_072)
