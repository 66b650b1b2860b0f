"""The partition checks' share of the data pass: key spills in, a quality report out."""

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
    """Side branches for :func:`worker.core.sink.run_pass`: one key spill per unique key."""
    spills: dict[tuple[str, ...], Path]


def quality_branches(plan: QualityPlan, clean: pl.LazyFrame, scratch: Path) -> QualityBranches:
    """The lazy side branches spilling each unique key of ``plan`` from the clean rows."""
    spills = {keys: spill_directory(scratch, keys) for keys in plan.unique_keys}
    frames = tuple(spill(clean, keys, directory) for keys, directory in spills.items())
    return QualityBranches(plan, frames, spills)


def judge(
    branches: QualityBranches, measures: Mapping[str, object], day: date
) -> tuple[CheckOutcome, ...]:
    """The quality report of a pass: its aggregate ``measures`` and the spilled keys."""
    duplicates = {keys: find_duplicates(path, keys) for keys, path in branches.spills.items()}
    return branches.plan.evaluate(measures, duplicates, day)
