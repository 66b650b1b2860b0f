"""The trips work as a user would write it in plain Polars: one streaming scan-filter-sink.

This is the floor for our framework's overhead: the same parse, checks and derived columns
as ``worker run`` on ``trips``, without contract compilation, quarantine, lineage columns,
manifest or commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from bench.codec import PARQUET_CODEC, PARQUET_LEVEL, ROW_GROUP_ROWS

PAYMENT_TYPES = ["card", "cash", "no_charge", "dispute", "unknown"]
TIMESTAMP = "%Y-%m-%dT%H:%M:%S"
CSV_SCHEMA = {
    "trip_id": pl.Int64,
    "vendor_id": pl.Int16,
    "pickup_at": pl.String,
    "dropoff_at": pl.String,
    "passenger_count": pl.Int16,
    "trip_distance_km": pl.Float64,
    "fare_amount": pl.Float64,
    "tip_amount": pl.Float64,
    "payment_type": pl.String,
    "pickup_zone": pl.Int16,
    "dropoff_zone": pl.Int16,
    "store_and_forward": pl.Boolean,
}


def scan(path: Path) -> pl.LazyFrame:
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    return pl.scan_csv(path, schema=CSV_SCHEMA).with_columns(
        pl.col("pickup_at", "dropoff_at").str.to_datetime(TIMESTAMP, time_unit="us")
    )


def valid(trips: pl.LazyFrame) -> pl.LazyFrame:
    col = pl.col
    return trips.filter(
        col("trip_id") >= 1,
        col("vendor_id").is_in([1, 2, 6]),
        col("pickup_at").is_not_null(),
        col("dropoff_at").is_not_null(),
        col("passenger_count").is_between(0, 9) | col("passenger_count").is_null(),
        col("trip_distance_km").is_between(0, 1000),
        col("fare_amount") >= 0,
        (col("tip_amount") >= 0) | col("tip_amount").is_null(),
        col("payment_type").is_in(PAYMENT_TYPES),
        col("pickup_zone").is_between(1, 265),
        col("dropoff_zone").is_between(1, 265),
        col("dropoff_at") >= col("pickup_at"),
    )


def transform(trips: pl.LazyFrame) -> pl.LazyFrame:
    duration_s = (pl.col("dropoff_at") - pl.col("pickup_at")).dt.total_seconds()
    return trips.with_columns(
        total_amount=(pl.col("fare_amount") + pl.col("tip_amount").fill_null(0.0)).round(2),
        payment_type=pl.col("payment_type").cast(pl.Enum(PAYMENT_TYPES)),
        duration_s=duration_s.cast(pl.Int64),
        avg_speed_kmh=pl.when(duration_s > 0)
        .then(pl.col("trip_distance_km") * 3600.0 / duration_s)
        .round(2),
    )


def main(source: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    target = output / "trips.parquet"
    transform(valid(scan(source))).sink_parquet(
        target,
        compression=PARQUET_CODEC,
        compression_level=PARQUET_LEVEL,
        row_group_size=ROW_GROUP_ROWS,
    )
    rows = pl.scan_parquet(target).select(pl.len()).collect().item()
    print(json.dumps({"rows_out": rows}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
