"""Datasets the reliability suite registers (``WORKER_DATASETS=support.reliability_datasets``).

The shipped ``trips`` dataset reads plain CSV only; these read gzipped CSV, Parquet and
Avro, so that bombs, truncated Avro and Parquet of another schema reach a real reader;
``readings_slow`` takes its time, so that a worker can be stopped in the middle of it.
Their limits are small on purpose: a gzip bomb is refused after a few MiB, not 64 GiB.
"""

from __future__ import annotations

import os
import time

import pandera.polars as pa
import polars as pl

from worker.core.datasets import Dataset
from worker.core.formats import Avro, Csv, InputLimits, Parquet
from worker.core.matching import MatchRule

SMALL_LIMITS = InputLimits(
    max_decompressed_bytes=8 * 1024**2, max_header_bytes=64 * 1024, max_columns=64
)


class Reading(pa.DataFrameModel):
    """A sensor reading: the same small contract for every format."""

    reading_id: int = pa.Field(ge=1)
    value: float

    class Config:
        strict = True


def _readings(name: str, glob: str, input_format: Csv | Parquet | Avro) -> Dataset:
    return Dataset(
        name=name,
        description=f"Sensor readings ({input_format.kind}) for the reliability suite.",
        match=MatchRule(glob=glob),
        input_model=Reading,
        input_format=input_format,
        limits=SMALL_LIMITS,
        # An input that holds no rows is a producer's mistake here, not a quiet day.
        allow_empty=False,
    )


SLOW_TRANSFORM_S = float(os.environ.get("RELIABILITY_SLOW_TRANSFORM_S", "6"))
"""How long the ``readings_slow`` transform takes: a long partition to stop a worker during."""


def _pause(values: pl.Series) -> pl.Series:
    time.sleep(SLOW_TRANSFORM_S)
    return values


def slow_transform(readings: pl.LazyFrame) -> pl.LazyFrame:
    """The identity, slowly: a stand-in for a heavy transform."""
    return readings.with_columns(pl.col("value").map_batches(_pause, return_dtype=pl.Float64))


DATASETS = [
    _readings("readings_gz", "gz/{date}.csv.gz", Csv()),
    _readings("readings_parquet", "parquet/{date}.parquet", Parquet()),
    _readings("readings_avro", "avro/{date}.avro", Avro()),
    Dataset(
        name="readings_slow",
        description="Sensor readings whose transform takes RELIABILITY_SLOW_TRANSFORM_S.",
        match=MatchRule(glob="slow/{date}.csv.gz"),
        input_model=Reading,
        transform=slow_transform,
        limits=SMALL_LIMITS,
    ),
]
