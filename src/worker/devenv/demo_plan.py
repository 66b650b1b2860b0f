"""What the demo uploads and what must come of each file.

A week of ``trips`` files, each with a few rows that break the contract (quarantined, the
partition still commits), plus two poison objects: one that no dataset claims
(dead-lettered as ``unroutable``) and one day whose file is gzip under a ``.csv`` name
(dead-lettered as ``input-format``). The plan is pure data, so tests can check it and the
demo can tell, file by file, whether the worker did the right thing.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.errors import InputFormatError, UnroutableError
from worker.storage.uris import join_uri

FileRole = Literal["daily", "corrupt", "unroutable"]
Expectation = Literal["committed", "dead-letter"]

DEMO_START = date(2024, 1, 1)
DEMO_DAYS = 7
DEMO_ROWS_PER_DAY = 2_000
DEMO_BAD_ROW_FRACTION = 0.005
"""About ten malformed rows a day: well under the trips quarantine threshold (5 %)."""
DEMO_SEED = 7
UNROUTABLE_NAME = "notes/vendor-contacts.txt"


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One object the demo uploads, relative to the landing root, and its expected fate."""

    name: str
    role: FileRole
    expect: Expectation
    partition: date | None = None
    """The trips day the file feeds; None when no dataset claims it."""
    reason: str | None = None
    """The dead-letter reason the worker must give (``x-error-reason``)."""


@dataclass(frozen=True, slots=True)
class DemoPlan:
    start: date
    days: int
    rows_per_day: int
    bad_row_fraction: float
    seed: int
    files: tuple[PlannedFile, ...]

    @property
    def committed_partitions(self) -> tuple[date, ...]:
        return tuple(f.partition for f in self.files if f.expect == "committed" and f.partition)

    @property
    def dead_letters(self) -> tuple[PlannedFile, ...]:
        return tuple(f for f in self.files if f.expect == "dead-letter")

    def uri(self, landing_uri: str, planned: PlannedFile) -> str:
        return join_uri(landing_uri, planned.name)

    def content(self, planned: PlannedFile) -> bytes:
        """The bytes to upload for ``planned``; the same plan always gives the same bytes."""
        if planned.role == "unroutable":
            return b"vendor,phone\nYellow Cab,555-0100\n"
        if planned.partition is None:
            raise ValueError(f"planned file {planned.name!r} has no partition to generate")
        csv = generate_trips_csv(
            planned.partition, self.rows_per_day, self.bad_row_fraction, seed=self.seed
        )
        if planned.role == "corrupt":
            # A producer that gzips but keeps the .csv name: readable bytes, wrong format.
            return gzip.compress(csv, mtime=0)
        return csv


def build_plan(
    *,
    start: date = DEMO_START,
    days: int = DEMO_DAYS,
    rows_per_day: int = DEMO_ROWS_PER_DAY,
    bad_row_fraction: float = DEMO_BAD_ROW_FRACTION,
    seed: int = DEMO_SEED,
) -> DemoPlan:
    """``days`` good daily files from ``start``, then a corrupt day and an unroutable object."""
    if days < 1:
        raise ValueError(f"the demo needs at least one day, got {days}")
    daily = [
        PlannedFile(sample_name(day), "daily", "committed", partition=day)
        for day in (start + timedelta(days=offset) for offset in range(days))
    ]
    corrupt_day = start + timedelta(days=days)
    poison = [
        PlannedFile(
            sample_name(corrupt_day),
            "corrupt",
            "dead-letter",
            partition=corrupt_day,
            reason=InputFormatError.reason,
        ),
        PlannedFile(UNROUTABLE_NAME, "unroutable", "dead-letter", reason=UnroutableError.reason),
    ]
    return DemoPlan(start, days, rows_per_day, bad_row_fraction, seed, (*daily, *poison))
