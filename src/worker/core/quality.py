"""Partition checks: what a data team checks first, over a whole partition, in the one pass.

A row check judges one row; a partition check judges the day: its key is unique, it has
roughly the rows it should, no column is suddenly mostly null, its data is fresh, and any
custom aggregate the dataset states holds. Every check but uniqueness is an aggregate in the
pass's row-count select (:meth:`QualityPlan.measures`); uniqueness spills the key columns
to local scratch inside the same pass (:mod:`worker.core.unique_keys`). Nothing reads the
input twice.

Checks come from the input model (Pandera's ``Field(unique=True)`` and ``Config.unique``)
and from the dataset's :class:`Expect` block; each has a severity: ``error`` fails the
partition, ``warn`` commits and reports. Every check lands in the quality report
(:class:`CheckOutcome`), passed or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from worker.core.contract import Contract
from worker.core.unique_keys import DuplicateFinding
from worker.errors import ConfigurationError, QualityError

Severity = Literal["error", "warn"]
OnDuplicate = Literal["fail", "quarantine"]
ROW_COUNT = "row_count"


@dataclass(frozen=True, kw_only=True)
class Freshness:
    """The newest value of ``column`` is at most ``within`` before the end of the day."""

    column: str
    within: timedelta


@dataclass(frozen=True, kw_only=True)
class Expect:
    """A dataset's partition checks, beside the unique keys its input model declares.

    ``severity`` maps check names (``row_count``, ``null_fraction:<column>``,
    ``freshness:<column>``, ``unique:<columns>``, or an ``aggregates`` name) to ``warn``
    or ``error``; a check not named there is an error. ``on_duplicate="quarantine"`` turns
    the unique keys into a row rule instead: every occurrence but the first is quarantined.
    """

    min_rows: int | None = None
    max_rows: int | None = None
    max_null_fraction: Mapping[str, float] = field(default_factory=dict)
    freshness: Freshness | None = None
    aggregates: Mapping[str, pl.Expr] = field(default_factory=dict)
    """Name → an aggregate expression over the clean rows that yields one boolean."""
    severity: Mapping[str, Severity] = field(default_factory=dict)
    on_duplicate: OnDuplicate = "fail"


class CheckOutcome(BaseModel):
    """One line of the quality report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    severity: Severity
    measured: str | None
    """What the partition holds (None when there is nothing to measure, e.g. no rows)."""
    bound: str
    passed: bool


def unique_check_name(keys: Sequence[str]) -> str:
    return f"unique:{','.join(keys)}"


@dataclass(frozen=True)
class QualityPlan:
    """A dataset's partition checks, validated against its input contract."""

    expect: Expect
    unique_keys: tuple[tuple[str, ...], ...]
    """Key column sets checked over the whole partition (empty when quarantined per row)."""

    def measures(self, clean: pl.Expr) -> list[pl.Expr]:
        """The aggregate checks' measures over the rows where ``clean`` holds (custom
        aggregates see every conformed row: an arbitrary expression cannot be re-aimed)."""
        expect = self.expect
        exprs: list[pl.Expr] = []
        if expect.min_rows is not None or expect.max_rows is not None:
            exprs.append(clean.sum().alias(ROW_COUNT))
        for column in expect.max_null_fraction:
            nulls = (pl.col(column).is_null() & clean).sum()
            exprs.append((nulls / clean.sum()).alias(f"null_fraction:{column}"))
        if expect.freshness is not None:
            column = expect.freshness.column
            exprs.append(pl.col(column).filter(clean).max().alias(f"freshness:{column}"))
        exprs.extend(expr.alias(name) for name, expr in expect.aggregates.items())
        return exprs

    def _aggregate_names(self) -> list[str]:
        return [expr.meta.output_name() for expr in self.measures(pl.lit(True))]

    def check_names(self) -> list[str]:
        return [*(unique_check_name(keys) for keys in self.unique_keys), *self._aggregate_names()]

    def describe(self) -> dict[str, Any]:
        """What ``worker datasets`` shows of the partition checks."""
        return {
            "checks": [
                {"name": name, "severity": self.severity_of(name)} for name in self.check_names()
            ],
            "on_duplicate": self.expect.on_duplicate,
        }

    def severity_of(self, name: str) -> Severity:
        return self.expect.severity.get(name, "error")

    def evaluate(
        self,
        measures: Mapping[str, object],
        duplicates: Mapping[tuple[str, ...], DuplicateFinding],
        day: date,
    ) -> tuple[CheckOutcome, ...]:
        """Judge the measures of one pass over the partition of ``day``."""
        outcomes = [self._unique(keys, duplicates[keys]) for keys in self.unique_keys]
        expect = self.expect
        if ROW_COUNT in measures:
            outcomes.append(self._row_count(_as_int(measures[ROW_COUNT])))
        for column, limit in expect.max_null_fraction.items():
            name = f"null_fraction:{column}"
            fraction = measures[name]
            measured = None if fraction is None else float(str(fraction))
            if measured is not None and math.isnan(measured):
                measured = None  # no clean rows: nothing to measure
            passed = measured is None or measured <= limit
            shown = None if measured is None else f"{measured:.4f}"
            outcomes.append(self._outcome(name, shown, f"<= {limit:.4f}", passed))
        if expect.freshness is not None:
            outcomes.append(self._freshness(expect.freshness, measures, day))
        for name in expect.aggregates:
            value = measures[name]
            outcomes.append(self._outcome(name, _shown(value), "true", value is True))
        return tuple(outcomes)

    def _outcome(self, name: str, measured: str | None, bound: str, passed: bool) -> CheckOutcome:
        return CheckOutcome(
            name=name,
            severity=self.severity_of(name),
            measured=measured,
            bound=bound,
            passed=passed,
        )

    def _unique(self, keys: tuple[str, ...], found: DuplicateFinding) -> CheckOutcome:
        return self._outcome(
            unique_check_name(keys), found.describe(), "0 duplicate rows", found.rows == 0
        )

    def _row_count(self, rows: int) -> CheckOutcome:
        low, high = self.expect.min_rows, self.expect.max_rows
        passed = (low is None or rows >= low) and (high is None or rows <= high)
        bound = f"{'' if low is None else low}..{'' if high is None else high} rows"
        return self._outcome(ROW_COUNT, str(rows), bound, passed)

    def _freshness(
        self, freshness: Freshness, measures: Mapping[str, object], day: date
    ) -> CheckOutcome:
        name = f"freshness:{freshness.column}"
        day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
        oldest_allowed = day_end - freshness.within
        newest = _as_utc(measures[name])
        passed = newest is not None and newest >= oldest_allowed
        measured = None if newest is None else newest.isoformat()
        return self._outcome(name, measured, f">= {oldest_allowed.isoformat()}", passed)


def raise_on_errors(report: Sequence[CheckOutcome], *, where: str) -> None:
    """QualityError naming every failed ``error`` check with its measure and bound."""
    failed = [item for item in report if not item.passed and item.severity == "error"]
    if failed:
        described = "; ".join(
            f"{item.name}: measured {item.measured or 'nothing'}, bound {item.bound}"
            for item in failed
        )
        raise QualityError(
            f"{len(failed)} partition check(s) failed: {described}", where=where, report=report
        )


def _as_int(value: object) -> int:
    return int(str(value))


def _shown(value: object) -> str | None:
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _as_utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return None


def plan_quality(contract: Contract, expect: Expect, *, where: str) -> QualityPlan:
    """Validate ``expect`` against the input contract; refuse what cannot be checked."""
    known_columns = set(contract.columns)
    mentioned = [*expect.max_null_fraction]
    if expect.freshness is not None:
        mentioned.append(expect.freshness.column)
    unknown = sorted(set(mentioned) - known_columns)
    if unknown:
        raise ConfigurationError(
            f"expect names columns the input contract lacks: {', '.join(unknown)}", where=where
        )
    if (
        expect.min_rows is not None
        and expect.max_rows is not None
        and (expect.min_rows > expect.max_rows)
    ):
        raise ConfigurationError("expect min_rows is above max_rows", where=where)
    for column, limit in expect.max_null_fraction.items():
        if not 0.0 <= limit <= 1.0:
            raise ConfigurationError(
                f"max_null_fraction[{column!r}] must be within 0..1", where=where
            )
    if expect.freshness is not None:
        dtype = contract.columns[expect.freshness.column]
        if not isinstance(dtype, pl.Datetime) and dtype != pl.Date():
            raise ConfigurationError(
                f"freshness needs a Datetime or Date column, {expect.freshness.column!r} is "
                f"{dtype}",
                where=where,
            )
    _check_aggregates(contract, expect.aggregates, where=where)
    unique_keys = contract.unique_keys if expect.on_duplicate == "fail" else ()
    plan = QualityPlan(expect, unique_keys)
    names = {unique_check_name(keys) for keys in contract.unique_keys}
    names.update(plan._aggregate_names())
    stray = sorted(set(expect.severity) - names)
    if stray:
        raise ConfigurationError(
            f"expect severity names unknown checks: {', '.join(stray)} "
            f"(known: {', '.join(sorted(names)) or 'none'})",
            where=where,
        )
    return plan


def _check_aggregates(contract: Contract, aggregates: Mapping[str, pl.Expr], *, where: str) -> None:
    empty = pl.LazyFrame(schema=contract.columns)
    for name, expr in aggregates.items():
        if not isinstance(expr, pl.Expr):
            raise ConfigurationError(f"aggregate {name!r} is not a polars expression", where=where)
        try:
            probe = empty.select(expr.alias(name)).collect()
        except pl.exceptions.PolarsError as exc:
            raise ConfigurationError(
                f"aggregate {name!r} does not evaluate: {exc}", where=where
            ) from None
        if probe.height != 1 or probe.schema[name] != pl.Boolean():
            raise ConfigurationError(
                f"aggregate {name!r} must reduce the partition to one boolean "
                f"(gives {probe.height} row(s) of {probe.schema[name]})",
                where=where,
            )
