"""Realistic, reproducible sample trips for demos, tests and benchmarks.

Generation is vectorized with NumPy and written with Polars in chunks, so ten million rows
take seconds and memory holds one chunk. The same (day, rows, bad_row_fraction, seed) always
gives the same bytes. A ``bad_row_fraction`` of the rows is corrupted in ways that parse but
fail the trips row checks (negative fare, dropoff before pickup, twelve passengers, unknown
payment type, negative distance, zone 0) — never in ways that make the file unreadable.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from worker.storage.base import Storage
from worker.storage.uris import join_uri

PAYMENT_TYPES = ("card", "cash", "no_charge", "dispute", "unknown")
CHUNK_ROWS = 1_000_000
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""How trip timestamps are written; the ``trips`` dataset reads them with this format."""
_BAD_KINDS = 6


def sample_name(day: date) -> str:
    """Where a day's trips land, relative to the landing root."""
    return f"trips/{day.isoformat()}.csv"


def trips_frame(
    day: date, rows: int, bad_row_fraction: float = 0.0, seed: int = 0, first_row: int = 0
) -> pl.DataFrame:
    """``rows`` trips of ``day``, numbered from ``first_row``; deterministic per arguments."""
    rng = np.random.default_rng([seed, day.toordinal(), first_row])
    offsets = np.sort(rng.integers(0, 86_400, rows))
    duration = np.clip(rng.gamma(2.0, 480.0, rows), 60, 4 * 3600).astype(np.int64)
    distance = np.round(duration / 3600.0 * rng.uniform(8.0, 45.0, rows), 2)
    fare = np.round(3.0 + 1.75 * distance + 0.5 * duration / 60.0, 2)
    payment = rng.choice(np.array(PAYMENT_TYPES), rows, p=[0.7, 0.25, 0.02, 0.01, 0.02])
    tip = np.where(payment == "card", np.round(fare * rng.uniform(0.0, 0.25, rows), 2), 0.0)
    passengers = rng.choice(np.arange(1, 7), rows, p=[0.6, 0.2, 0.08, 0.06, 0.04, 0.02])
    pickup_zone = rng.integers(1, 266, rows)
    dropoff_zone = rng.integers(1, 266, rows)

    bad_kind = np.where(rng.random(rows) < bad_row_fraction, rng.integers(0, _BAD_KINDS, rows), -1)
    fare = np.where(bad_kind == 0, -fare - 1.0, fare)
    duration = np.where(bad_kind == 1, -300, duration)
    passengers = np.where(bad_kind == 2, 12, passengers)
    payment = np.where(bad_kind == 3, "bitcoin", payment)
    distance = np.where(bad_kind == 4, -distance - 0.1, distance)
    pickup_zone = np.where(bad_kind == 5, 0, pickup_zone)

    pickup = (np.datetime64(day.isoformat(), "s") + offsets.astype("timedelta64[s]")).astype(
        "datetime64[us]"
    )
    no_tip = (payment == "cash") & (rng.random(rows) < 0.5)
    return pl.DataFrame(
        {
            "trip_id": day.toordinal() * 100_000_000 + first_row + np.arange(1, rows + 1),
            "vendor_id": rng.choice(np.array([1, 2, 6], dtype=np.int16), rows, p=[0.45, 0.5, 0.05]),
            "pickup_at": pickup,
            "dropoff_at": pickup + duration.astype("timedelta64[s]"),
            "passenger_count": passengers.astype(np.int16),
            "trip_distance_km": distance,
            "fare_amount": fare,
            "tip_amount": tip,
            "payment_type": payment,
            "pickup_zone": pickup_zone.astype(np.int16),
            "dropoff_zone": dropoff_zone.astype(np.int16),
            "store_and_forward": rng.random(rows) < 0.02,
        }
    ).with_columns(
        passenger_count=pl.when(pl.Series(rng.random(rows) < 0.03))
        .then(None)
        .otherwise(pl.col("passenger_count")),
        tip_amount=pl.when(pl.Series(no_tip)).then(None).otherwise(pl.col("tip_amount")),
        store_and_forward=pl.when(pl.Series(rng.random(rows) < 0.1))
        .then(None)
        .otherwise(pl.col("store_and_forward")),
    )


def _chunks(day: date, rows: int, bad_row_fraction: float, seed: int) -> Iterator[pl.DataFrame]:
    for first_row in range(0, rows, CHUNK_ROWS):
        size = min(CHUNK_ROWS, rows - first_row)
        yield trips_frame(day, size, bad_row_fraction, seed, first_row)


def _write_csv(frame: pl.DataFrame, sink: BinaryIO, *, header: bool) -> None:
    frame.write_csv(
        sink,
        include_header=header,
        datetime_format=TIMESTAMP_FORMAT,
        float_precision=2,
        null_value="",
    )


def write_trips_csv(
    sink: BinaryIO, day: date, rows: int, bad_row_fraction: float = 0.0, seed: int = 0
) -> None:
    """Stream a day's trips as CSV into ``sink``, one chunk at a time."""
    header = True
    for chunk in _chunks(day, rows, bad_row_fraction, seed):
        _write_csv(chunk, sink, header=header)
        header = False
    if header:
        _write_csv(trips_frame(day, 0), sink, header=True)


def generate_trips_csv(day: date, rows: int, bad_row_fraction: float = 0.0, seed: int = 0) -> bytes:
    """A day's trips as CSV bytes (for small samples; large ones use write_sample_data)."""
    with tempfile.TemporaryFile() as buffer:
        write_trips_csv(buffer, day, rows, bad_row_fraction, seed)
        buffer.seek(0)
        return buffer.read()


def write_sample_data(
    storage: Storage,
    landing_uri: str,
    start: date,
    days: int,
    rows_per_day: int,
    bad_row_fraction: float,
    seed: int = 0,
) -> list[str]:
    """Write ``days`` daily files from ``start`` under the landing root; return their URIs."""
    written = []
    with tempfile.TemporaryDirectory(prefix="worker-sample-") as scratch:
        for offset in range(days):
            day = date.fromordinal(start.toordinal() + offset)
            local = Path(scratch) / f"{day.isoformat()}.csv"
            with local.open("wb") as sink:
                write_trips_csv(sink, day, rows_per_day, bad_row_fraction, seed)
            uri = join_uri(landing_uri, sample_name(day))
            storage.upload(local, uri)
            written.append(uri)
    return written
