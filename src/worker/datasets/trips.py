"""``trips``: taxi trips, one CSV per day at ``trips/YYYY-MM-DD.csv`` under the landing root.

The input contract checks what a trip record must satisfy (non-negative amounts, a dropoff
not before its pickup, a plausible passenger count, a known payment type); failing rows are
quarantined. Over the whole day: trip ids are unique, and the row count and freshness of
the last pickup are reported. The transform adds the total amount, the duration and the
average speed, and turns the payment type into an enum.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from worker.core.datasets import Dataset
from worker.core.formats import Csv
from worker.core.matching import MatchRule
from worker.core.quality import Expect, Freshness
from worker.datasets.trips_sample import (
    PAYMENT_TYPES,
    TIMESTAMP_FORMAT,
    generate_trips_csv,
    trips_frame,
    write_sample_data,
)

PaymentType = pl.Enum(PAYMENT_TYPES)


class TripsInput(pa.DataFrameModel):
    """One taxi trip as it arrives."""

    trip_id: int = pa.Field(ge=1, unique=True)
    vendor_id: pl.Int16 = pa.Field(isin=[1, 2, 6])
    pickup_at: datetime
    dropoff_at: datetime
    passenger_count: pl.Int16 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 9})
    trip_distance_km: float = pa.Field(ge=0, le=1000)
    fare_amount: float = pa.Field(ge=0)
    tip_amount: float = pa.Field(nullable=True, ge=0)
    payment_type: str = pa.Field(isin=list(PAYMENT_TYPES))
    pickup_zone: pl.Int16 = pa.Field(in_range={"min_value": 1, "max_value": 265})
    dropoff_zone: pl.Int16 = pa.Field(in_range={"min_value": 1, "max_value": 265})
    store_and_forward: bool = pa.Field(nullable=True)

    @pa.dataframe_check(name="dropoff_at >= pickup_at")
    def dropoff_not_before_pickup(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("dropoff_at") >= pl.col("pickup_at"))


class TripsOutput(pa.DataFrameModel):
    """A validated trip with its derived amounts, as written to the partition."""

    trip_id: int
    vendor_id: pl.Int16
    pickup_at: datetime
    dropoff_at: datetime
    passenger_count: pl.Int16 = pa.Field(nullable=True)
    trip_distance_km: float
    fare_amount: float
    tip_amount: float = pa.Field(nullable=True)
    total_amount: float
    payment_type: pl.Enum = pa.Field(dtype_kwargs={"categories": list(PAYMENT_TYPES)})
    pickup_zone: pl.Int16
    dropoff_zone: pl.Int16
    store_and_forward: bool = pa.Field(nullable=True)
    duration_s: int
    avg_speed_kmh: float = pa.Field(nullable=True)

    class Config:
        strict = True


def transform_trips(trips: pl.LazyFrame) -> pl.LazyFrame:
    """Pure: derive totals, duration and speed; row order is kept."""
    duration_s = (pl.col("dropoff_at") - pl.col("pickup_at")).dt.total_seconds()
    return trips.with_columns(
        total_amount=(pl.col("fare_amount") + pl.col("tip_amount").fill_null(0.0)).round(2),
        payment_type=pl.col("payment_type").cast(PaymentType),
        duration_s=duration_s.cast(pl.Int64),
        avg_speed_kmh=pl.when(duration_s > 0)
        .then(pl.col("trip_distance_km") * 3600.0 / duration_s)
        .round(2),
    )


TRIPS = Dataset(
    name="trips",
    description="Taxi trips, one CSV file per day.",
    match=MatchRule(glob="trips/{date}.csv"),
    input_model=TripsInput,
    transform=transform_trips,
    output_model=TripsOutput,
    # A declared timestamp format parses about twice as fast as one Polars infers per value
    # (bench/RESULTS.md); trip exports always use this one.
    input_format=Csv(datetime_format=TIMESTAMP_FORMAT),
    max_quarantine_fraction=0.05,
    # A day whose trip ids repeat is refused (severity error); an unusually small or large
    # day, or one whose last pickup is more than six hours before midnight, commits with a
    # warning in the quality report.
    expect=Expect(
        min_rows=1,
        max_rows=50_000_000,
        freshness=Freshness(column="pickup_at", within=timedelta(hours=6)),
        severity={"row_count": "warn", "freshness:pickup_at": "warn"},
    ),
    version="1",
)

__all__ = [
    "TRIPS",
    "PaymentType",
    "TripsInput",
    "TripsOutput",
    "generate_trips_csv",
    "transform_trips",
    "trips_frame",
    "write_sample_data",
]
