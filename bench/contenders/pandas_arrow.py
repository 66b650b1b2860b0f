"""The trips work in pandas with the pyarrow CSV engine and pyarrow Parquet writer.

pandas reads the whole day into memory: that is how pandas works, and what its peak RSS
shows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from bench.codec import PARQUET_CODEC, PARQUET_LEVEL, ROW_GROUP_ROWS

PAYMENT_TYPES = ["card", "cash", "no_charge", "dispute", "unknown"]
TIMESTAMP = "%Y-%m-%dT%H:%M:%S"
DTYPES = {
    "trip_id": "int64",
    "vendor_id": "int16",
    "passenger_count": "Int16",
    "trip_distance_km": "float64",
    "fare_amount": "float64",
    "tip_amount": "float64",
    "payment_type": "string",
    "pickup_zone": "int16",
    "dropoff_zone": "int16",
    "store_and_forward": "boolean",
}


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    frame = pd.read_csv(path, engine="pyarrow", dtype=DTYPES)
    for name in ("pickup_at", "dropoff_at"):
        frame[name] = pd.to_datetime(frame[name], format=TIMESTAMP).astype("datetime64[us]")
    return frame


def valid(trips: pd.DataFrame) -> pd.DataFrame:
    passengers, tip = trips["passenger_count"], trips["tip_amount"]
    keep = (
        (trips["trip_id"] >= 1)
        & trips["vendor_id"].isin([1, 2, 6])
        & trips["pickup_at"].notna()
        & trips["dropoff_at"].notna()
        & (passengers.isna() | passengers.between(0, 9)).fillna(True)
        & trips["trip_distance_km"].between(0, 1000)
        & (trips["fare_amount"] >= 0)
        & (tip.isna() | (tip >= 0))
        & trips["payment_type"].isin(PAYMENT_TYPES)
        & trips["pickup_zone"].between(1, 265)
        & trips["dropoff_zone"].between(1, 265)
        & (trips["dropoff_at"] >= trips["pickup_at"])
    )
    return trips[keep.astype(bool)]


def transform(trips: pd.DataFrame) -> pd.DataFrame:
    duration = (trips["dropoff_at"] - trips["pickup_at"]).dt.total_seconds()
    speed = (trips["trip_distance_km"] * 3600.0 / duration).round(2)
    return trips.assign(
        total_amount=(trips["fare_amount"] + trips["tip_amount"].fillna(0.0)).round(2),
        payment_type=pd.Categorical(trips["payment_type"], categories=PAYMENT_TYPES),
        duration_s=duration.astype("int64"),
        avg_speed_kmh=speed.where(duration > 0),
    )


def main(source: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    result = transform(valid(read(source)))
    result.to_parquet(
        output / "trips.parquet",
        engine="pyarrow",
        compression=PARQUET_CODEC,
        compression_level=PARQUET_LEVEL,
        row_group_size=ROW_GROUP_ROWS,
        index=False,
    )
    print(json.dumps({"rows_out": len(result)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
