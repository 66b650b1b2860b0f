"""The partition checks' share of the data pass: key spills, then a quality report.

A unique key that reaches the output unchanged (same column names) is checked on the staged
data file after the pass: reading one column of a local Parquet file is cheap, and any
extra branch of the shared scan costs memory while the pass runs (measured: ~290 MB at 10M
rows for a key spill branch, bench/RESULTS.md). A key the transform drops is spilled
inside the pass instead, as a side branch of the clean rows. Either way the input is read
once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from worker.core.quality import CheckOutcome, QualityPlan
from worker.core.unique_keys import find_duplicates, spill, spill_directory


@dataclass(frozen=True)
class QualityBranches:
    plan: QualityPlan
    frames: tuple[pl.LazyFrame, ...]
    """Side branches for :func:`worker.core.sink.run_pass`: spills of keys not in the output."""
    in_pass: dict[tuple[str, ...], Path]
    after_pass: dict[tuple[str, ...], Path]
    """Keys checked on the staged output, and where their spill goes."""


def quality_branches(
    plan: QualityPlan, clean: pl.LazyFrame, output: pl.Schema, scratch: Path
) -> QualityBranches:
    in_pass: dict[tuple[str, ...], Path] = {}
    after_pass: dict[tuple[str, ...], Path] = {}
    for keys in plan.unique_keys:
        target = after_pass if all(name in output for name in keys) else in_pass
        target[keys] = spill_directory(scratch, keys)
    frames = tuple(spill(clean, keys, directory) for keys, directory in in_pass.items())
    return QualityBranches(plan, frames, in_pass, after_pass)


def judge(
    branches: QualityBranches, measures: Mapping[str, object], day: date, staged: Path
) -> tuple[CheckOutcome, ...]:
    """The quality report of a pass: its aggregate ``measures`` and the keys' duplicates."""
    for keys, directory in branches.after_pass.items():
        spill(pl.scan_parquet(staged), keys, directory).collect(engine="streaming")
    spills = {**branches.in_pass, **branches.after_pass}
    duplicates = {keys: find_duplicates(path, keys) for keys, path in spills.items()}
    return branches.plan.evaluate(measures, duplicates, day)
