"""The trips work in DuckDB: one ``COPY (SELECT ...) TO`` Parquet statement."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from bench.codec import PARQUET_CODEC, PARQUET_LEVEL, ROW_GROUP_ROWS

COLUMNS = {
    "trip_id": "BIGINT",
    "vendor_id": "SMALLINT",
    "pickup_at": "TIMESTAMP",
    "dropoff_at": "TIMESTAMP",
    "passenger_count": "SMALLINT",
    "trip_distance_km": "DOUBLE",
    "fare_amount": "DOUBLE",
    "tip_amount": "DOUBLE",
    "payment_type": "VARCHAR",
    "pickup_zone": "SMALLINT",
    "dropoff_zone": "SMALLINT",
    "store_and_forward": "BOOLEAN",
}
PAYMENT_TYPES = "'card', 'cash', 'no_charge', 'dispute', 'unknown'"


def source_sql(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
    return (
        f"read_csv('{path}', header = true, columns = {{{columns}}}, "
        "timestampformat = '%Y-%m-%dT%H:%M:%S')"
    )


def trips_sql(path: Path) -> str:
    duration = "epoch(dropoff_at - pickup_at)"
    return f"""
        SELECT trip_id, vendor_id, pickup_at, dropoff_at, passenger_count, trip_distance_km,
               fare_amount, tip_amount,
               round(fare_amount + coalesce(tip_amount, 0), 2) AS total_amount,
               payment_type::payment AS payment_type,
               pickup_zone, dropoff_zone, store_and_forward,
               CAST({duration} AS BIGINT) AS duration_s,
               CASE WHEN {duration} > 0
                    THEN round(trip_distance_km * 3600.0 / {duration}, 2) END AS avg_speed_kmh
        FROM {source_sql(path)}
        WHERE trip_id >= 1
          AND vendor_id IN (1, 2, 6)
          AND pickup_at IS NOT NULL AND dropoff_at IS NOT NULL
          AND (passenger_count IS NULL OR passenger_count BETWEEN 0 AND 9)
          AND trip_distance_km BETWEEN 0 AND 1000
          AND fare_amount >= 0
          AND (tip_amount IS NULL OR tip_amount >= 0)
          AND payment_type IN ({PAYMENT_TYPES})
          AND pickup_zone BETWEEN 1 AND 265
          AND dropoff_zone BETWEEN 1 AND 265
          AND dropoff_at >= pickup_at
    """


def main(source: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    target = output / "trips.parquet"
    connection = duckdb.connect()
    connection.execute(f"CREATE TYPE payment AS ENUM ({PAYMENT_TYPES})")
    connection.execute(
        f"COPY ({trips_sql(source)}) TO '{target}' (FORMAT parquet, "
        f"COMPRESSION {PARQUET_CODEC}, COMPRESSION_LEVEL {PARQUET_LEVEL}, "
        f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
    )
    counted = connection.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
    print(json.dumps({"rows_out": counted[0] if counted else 0}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
