"""The partition checks' share of the data pass: side branches in, a quality report out."""

from __future__ import annotations

from collections.abc import Sequence
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
    """Side branches for :func:`worker.core.sink.run_pass`: aggregates first, then spills."""
    spills: dict[tuple[str, ...], Path]
    has_aggregates: bool


def quality_branches(plan: QualityPlan, clean: pl.LazyFrame, scratch: Path) -> QualityBranches:
    """The lazy side branches measuring ``plan`` over the clean rows."""
    aggregates = plan.aggregate_branch(clean)
    spills = {keys: spill_directory(scratch, keys) for keys in plan.unique_keys}
    frames = [spill(clean, keys, directory) for keys, directory in spills.items()]
    if aggregates is not None:
        frames.insert(0, aggregates)
    return QualityBranches(plan, tuple(frames), spills, aggregates is not None)


def judge(
    branches: QualityBranches, results: Sequence[pl.DataFrame], day: date
) -> tuple[CheckOutcome, ...]:
    """The quality report of the pass whose side results are ``results``."""
    plan = branches.plan
    measures: dict[str, object] = results[0].row(0, named=True) if branches.has_aggregates else {}
    duplicates = {keys: find_duplicates(path, keys) for keys, path in branches.spills.items()}
    return plan.evaluate(measures, duplicates, day)
