"""Exact uniqueness of a key over a whole partition, in bounded memory.

An exact check must see every key, and a hash set of 30M keys alone outgrows the pass's
memory (measured in ``bench/quality_bench.py``). So the keys are spilled, with each row's
ordinal, into ``BUCKETS`` local Parquet files by key hash (:func:`spill`: from the staged
output after the pass, or as a side branch of the pass for a key the transform drops; see
:mod:`worker.core.quality_pass`); then buckets are grouped in batches of at most
``BATCH_ROWS`` rows and each batch is grouped by key on its own (:func:`find_duplicates`).
Equal keys share a bucket, so a batch sees every occurrence of its keys; memory follows the
batch, not the partition.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

BUCKETS = 16
BATCH_ROWS = 4_000_000
EXAMPLES = 3
"""How many duplicated keys a finding names (the earliest ones in input order)."""
SPILL_ROW_GROUP = 16_384
"""Small row groups: each of the BUCKETS writers buffers one, so they bound the spill's memory."""
_ORDINAL = "_key_ordinal"
_BUCKET = "_key_bucket"
_COUNT = "_key_count"
_HASH_SEED = 20_260_101


@dataclass(frozen=True)
class DuplicateFinding:
    keys: tuple[str, ...]
    rows: int
    """Rows beyond the first occurrence of their key (0: the key is unique)."""
    distinct_duplicated: int
    examples: tuple[tuple[dict[str, object], int], ...]
    """The earliest duplicated keys: their values and how often each occurs."""

    def describe(self) -> str:
        if not self.rows:
            return "0 duplicate rows"
        shown = ", ".join(f"{_values(values)} x{count}" for values, count in self.examples)
        return f"{self.rows} duplicate rows over {self.distinct_duplicated} keys (first: {shown})"


def _values(values: dict[str, object]) -> str:
    return "(" + ", ".join(f"{name}={value!r}" for name, value in values.items()) + ")"


def spill_directory(scratch: Path, keys: Sequence[str]) -> Path:
    return scratch / ("keys-" + "-".join(keys))


def spill(clean: pl.LazyFrame, keys: Sequence[str], directory: Path) -> pl.LazyFrame:
    """The lazy side branch writing ``keys`` (with ordinals) into hash buckets."""
    directory.mkdir(parents=True, exist_ok=True)
    bucket = pl.struct(list(keys)).hash(_HASH_SEED) % BUCKETS
    return (
        clean.select(list(keys))
        .with_row_index(_ORDINAL)
        .with_columns(bucket.alias(_BUCKET))
        .sink_parquet(
            pl.PartitionBy(directory, key=_BUCKET, include_key=False),
            compression="lz4",
            row_group_size=SPILL_ROW_GROUP,
            mkdir=True,
            lazy=True,
        )
    )


def _batches(directory: Path) -> list[list[Path]]:
    batches: list[list[Path]] = []
    rows_in_batch = BATCH_ROWS
    for path in sorted(directory.rglob("*.parquet")):
        rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
        if rows_in_batch + rows > BATCH_ROWS:
            batches.append([])
            rows_in_batch = 0
        batches[-1].append(path)
        rows_in_batch += rows
    return batches


def find_duplicates(directory: Path, keys: Sequence[str]) -> DuplicateFinding:
    """Read the spilled buckets back, batch by batch, and report duplicated keys."""
    rows = distinct = 0
    earliest: list[tuple[int, int, dict[str, object]]] = []
    for batch in _batches(directory):
        duplicated = (
            pl.scan_parquet(batch)
            .group_by(list(keys))
            .agg(pl.len().alias(_COUNT), pl.col(_ORDINAL).min())
            .filter(pl.col(_COUNT) > 1)
            .collect(engine="streaming")
        )
        if duplicated.is_empty():
            continue
        rows += int(duplicated[_COUNT].sum()) - duplicated.height
        distinct += duplicated.height
        for row in duplicated.sort(_ORDINAL).head(EXAMPLES).iter_rows(named=True):
            values = {name: row[name] for name in keys}
            earliest.append((int(row[_ORDINAL]), int(row[_COUNT]), values))
    first = heapq.nsmallest(EXAMPLES, earliest, key=lambda item: item[0])
    return DuplicateFinding(
        tuple(keys), rows, distinct, tuple((values, count) for _, count, values in first)
    )
