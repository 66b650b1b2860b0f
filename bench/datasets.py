"""The shipped ``trips`` dataset again, reading gzipped CSV and Parquet instead of CSV.

Loaded by the worker through ``WORKER_DATASETS=bench.datasets`` so the same CLI path runs on
every input format; contract, transform and version are the shipped ones.
"""

from __future__ import annotations

import dataclasses

from worker.core.formats import Parquet
from worker.core.matching import MatchRule
from worker.datasets.trips import TRIPS

TRIPS_GZ = dataclasses.replace(
    TRIPS, name="trips_gz", match=MatchRule(glob="trips_gz/{date}.csv.gz")
)
TRIPS_PARQUET = dataclasses.replace(
    TRIPS,
    name="trips_parquet",
    match=MatchRule(glob="trips_parquet/{date}.parquet"),
    input_format=Parquet(),
)

DATASETS = [TRIPS_GZ, TRIPS_PARQUET]
