"""Partition dates, inclusive date ranges, backfill planning and Cloud Run Jobs sharding.

Everything here is pure: the caller hands in the state of each partition (read from
storage) and the shard coordinates (read from the environment at the CLI edge).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol, TypeVar, get_args

from worker.errors import ConfigurationError

BackfillMode = Literal["missing", "failed", "all"]
"""missing: every partition without a committed manifest; failed: only those whose last
attempt failed; all: every partition, recomputed even when already committed."""

BACKFILL_MODES: tuple[str, ...] = get_args(BackfillMode)

MAX_RANGE_DAYS = 366 * 100
"""A range longer than a century is a typo, not a backfill."""

_Item = TypeVar("_Item")


class KnownState(Protocol):
    """What planning needs to know about a partition (``worker.core.load.PartitionState``)."""

    @property
    def status(self) -> str:
        """committed, failed or missing."""

    @property
    def run_id(self) -> str | None: ...

    @property
    def rows(self) -> int | None: ...

    @property
    def reason(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PlannedPartition:
    """One date of a backfill range: whether it runs, and why (or why not)."""

    dataset: str
    partition: date
    runs: bool
    reason: str
    force: bool = False
    """Recompute even when the committed manifest already has the same run id."""


def parse_date(text: str, *, what: str = "date") -> date:
    """Parse an ISO calendar date (``YYYY-MM-DD``); ``what`` names the flag in the error."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"{what} {text!r} is not a calendar date in YYYY-MM-DD form"
        ) from None


def date_range(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    if end < start:
        raise ConfigurationError(
            f"end date {end.isoformat()} is before start date {start.isoformat()}"
        )
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise ConfigurationError(
            f"date range {start.isoformat()}..{end.isoformat()} spans {days} days; "
            f"at most {MAX_RANGE_DAYS} are allowed"
        )
    return [start + timedelta(days=offset) for offset in range(days)]


def parse_mode(text: str) -> BackfillMode:
    """Validate a ``--mode`` value (the CLI also restricts choices; the service does not)."""
    modes: dict[str, BackfillMode] = {"missing": "missing", "failed": "failed", "all": "all"}
    if text not in modes:
        raise ConfigurationError(
            f"backfill mode {text!r} is not one of {', '.join(BACKFILL_MODES)}"
        )
    return modes[text]


def _describe(state: KnownState) -> str:
    if state.status == "committed":
        rows = f", {state.rows} rows" if state.rows is not None else ""
        return f"committed (run {state.run_id}{rows})"
    if state.status == "failed":
        kept = (
            f"; an older commit ({state.rows} rows) is still served"
            if state.rows is not None
            else "; no committed manifest"
        )
        return f"last attempt failed: {state.reason or 'no reason recorded'}{kept}"
    return "no committed manifest"


def plan_partition(
    dataset: str, day: date, mode: BackfillMode, state: KnownState
) -> PlannedPartition:
    """Decide one partition. The reason always quotes what storage says about it."""
    described = _describe(state)
    if mode == "all":
        return PlannedPartition(dataset, day, True, f"forced (mode all); {described}", True)
    if mode == "failed":
        if state.status == "failed":
            return PlannedPartition(dataset, day, True, described)
        return PlannedPartition(
            dataset, day, False, f"{described}; mode failed reruns only failures"
        )
    if state.status == "committed":
        return PlannedPartition(dataset, day, False, f"already {described}")
    if state.rows is not None:
        return PlannedPartition(
            dataset, day, False, f"{described}; mode missing leaves committed partitions alone"
        )
    return PlannedPartition(dataset, day, True, described)


def plan_backfill(
    dataset: str,
    start: date,
    end: date,
    mode: BackfillMode,
    state_of: Callable[[date], KnownState],
) -> list[PlannedPartition]:
    """One planned item per day of ``start..end`` (inclusive), in date order.

    ``missing`` runs every partition without a committed manifest (including failed ones
    that never committed); ``failed`` runs those whose last attempt failed, even over an
    older commit; ``all`` forces every one.
    """
    return [plan_partition(dataset, day, mode, state_of(day)) for day in date_range(start, end)]


def shard(items: Sequence[_Item], task_index: int, task_count: int) -> list[_Item]:
    """The items task ``task_index`` of ``task_count`` owns: round-robin by position.

    Deterministic and stateless, so every item lands in exactly one task no matter when
    each task runs; round-robin spreads consecutive (similarly sized) days across tasks.
    """
    if task_count < 1:
        raise ConfigurationError(f"task count must be at least 1, got {task_count}")
    if not 0 <= task_index < task_count:
        raise ConfigurationError(
            f"task index {task_index} is outside 0..{task_count - 1} (task count {task_count})"
        )
    return list(items[task_index::task_count])


def parse_shard(index_text: str | None, count_text: str | None) -> tuple[int, int]:
    """Shard coordinates from ``CLOUD_RUN_TASK_INDEX`` / ``CLOUD_RUN_TASK_COUNT`` values.

    Both unset means one task doing everything; the variable names appear in every error
    because that is where an operator has to look.
    """
    if index_text is None and count_text is None:
        return 0, 1
    values: dict[str, int] = {}
    for name, text in (("CLOUD_RUN_TASK_INDEX", index_text), ("CLOUD_RUN_TASK_COUNT", count_text)):
        if text is None:
            raise ConfigurationError(
                f"{name} is unset while its partner is set; Cloud Run sets both"
            )
        try:
            values[name] = int(text.strip())
        except ValueError:
            raise ConfigurationError(f"{name}={text!r} is not an integer") from None
    index, count = values["CLOUD_RUN_TASK_INDEX"], values["CLOUD_RUN_TASK_COUNT"]
    if count < 1:
        raise ConfigurationError(f"CLOUD_RUN_TASK_COUNT={count} must be at least 1")
    if not 0 <= index < count:
        raise ConfigurationError(
            f"CLOUD_RUN_TASK_INDEX={index} is outside 0..{count - 1} (CLOUD_RUN_TASK_COUNT={count})"
        )
    return index, count
