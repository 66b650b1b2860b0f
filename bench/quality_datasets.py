"""``trips`` with and without its partition checks, for ``bench/quality_bench.py``.

- ``trips`` (shipped): unique ``trip_id`` (spilled by hash, read back in batches), row count
  and freshness;
- ``trips_plain``: the same contract and transform with no partition check at all;
- ``trips_aggregates``: trips' row count and freshness checks, no unique key;
- ``trips_first_kept``: unique ``trip_id`` with ``on_duplicate="quarantine"``, the option
  that decides per row during the pass and so holds every key in memory.
"""

from __future__ import annotations

import dataclasses

import pandera.polars as pa

from worker.core.quality import Expect
from worker.datasets.trips import TRIPS, TripsInput


class TripsPlainInput(TripsInput):
    trip_id: int = pa.Field(ge=1)


TRIPS_PLAIN = dataclasses.replace(
    TRIPS, name="trips_plain", input_model=TripsPlainInput, expect=Expect()
)
TRIPS_AGGREGATES = dataclasses.replace(TRIPS, name="trips_aggregates", input_model=TripsPlainInput)
TRIPS_FIRST_KEPT = dataclasses.replace(
    TRIPS, name="trips_first_kept", expect=Expect(on_duplicate="quarantine")
)

DATASETS = [TRIPS_PLAIN, TRIPS_AGGREGATES, TRIPS_FIRST_KEPT]
