"""Hostile and broken input files for the reliability suite, built in memory.

Each builder returns the bytes a careless or malicious producer might upload; the datasets
they target are ``trips`` (plain CSV) and ``support.reliability_datasets``.
"""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import date

import fastavro
import polars as pl

from worker.datasets.trips_sample import generate_trips_csv

BOMB_INFLATED_BYTES = 32 * 1024**2
"""What the gzip bomb inflates to: four times the reliability datasets' 8 MiB ceiling."""


def trips_csv(day: date, rows: int = 50, seed: int = 0) -> bytes:
    return generate_trips_csv(day, rows, seed=seed)


def readings_frame(rows: int = 20) -> pl.DataFrame:
    return pl.DataFrame(
        {"reading_id": list(range(1, rows + 1)), "value": [i * 0.5 for i in range(rows)]}
    )


def readings_csv_gz(rows: int = 20) -> bytes:
    buffer = io.BytesIO()
    readings_frame(rows).write_csv(buffer)
    return gzip.compress(buffer.getvalue())


def readings_parquet(rows: int = 20) -> bytes:
    buffer = io.BytesIO()
    readings_frame(rows).write_parquet(buffer)
    return buffer.getvalue()


def readings_avro(rows: int = 20) -> bytes:
    schema = {
        "type": "record",
        "name": "Reading",
        "fields": [{"name": "reading_id", "type": "long"}, {"name": "value", "type": "double"}],
    }
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(schema), readings_frame(rows).to_dicts())
    return buffer.getvalue()


def truncated_avro() -> bytes:
    """An Avro container cut in the middle of its data block."""
    whole = readings_avro(2000)
    return whole[: len(whole) * 2 // 3]


def gzip_bomb() -> bytes:
    """A small .gz that inflates to ``BOMB_INFLATED_BYTES`` of CSV-looking zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    chunk = b"reading_id,value\n" + b"0" * (1024**2 - 17)
    parts = [packer.compress(chunk) for _ in range(BOMB_INFLATED_BYTES // len(chunk))]
    return b"".join(parts) + packer.flush()


def huge_header_csv() -> bytes:
    """A CSV whose header line alone is 2 MiB (the trips limit is 1 MiB)."""
    return b"trip_id" + b"x" * (2 * 1024**2) + b"\n1\n"


def other_schema_parquet() -> bytes:
    """Parquet that parses, but with columns of another dataset."""
    buffer = io.BytesIO()
    pl.DataFrame({"station": ["a", "b"], "temperature": ["warm", "cold"]}).write_parquet(buffer)
    return buffer.getvalue()


def malformed_csv() -> bytes:
    """A header and rows whose quoting never closes, plus bytes that are not text."""
    return b'trip_id,vendor_id\n1,"2\n\x00\xff\xfe garbage "",\n'
