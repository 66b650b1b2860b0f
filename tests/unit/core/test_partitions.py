"""Dates, ranges, backfill planning and Cloud Run sharding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.core.partitions import (
    date_range,
    parse_date,
    parse_mode,
    parse_shard,
    plan_backfill,
    shard,
)
from worker.errors import ConfigurationError


@dataclass(frozen=True)
class State:
    status: str
    run_id: str | None = None
    rows: int | None = None
    reason: str | None = None


JAN1, JAN2, JAN3, JAN4, JAN5 = (date(2024, 1, day) for day in range(1, 6))
STATES = {
    JAN1: State("committed", run_id="r1", rows=10),
    JAN2: State("failed", run_id="r2", reason="ContractError: column fare missing"),
    JAN3: State("missing"),
    JAN4: State("committed", run_id="r4", rows=0),
    JAN5: State("failed", run_id="r5", rows=7, reason="InputFormatError: row 3"),
}


def plan(mode: str) -> dict[date, tuple[bool, str, bool]]:
    planned = plan_backfill("trips", JAN1, JAN5, parse_mode(mode), STATES.__getitem__)
    assert [item.partition for item in planned] == [JAN1, JAN2, JAN3, JAN4, JAN5]
    assert {item.dataset for item in planned} == {"trips"}
    return {item.partition: (item.runs, item.reason, item.force) for item in planned}


def test_parse_date_accepts_iso_dates() -> None:
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    assert parse_date(" 2024-01-15 ") == date(2024, 1, 15)


@pytest.mark.parametrize("text", ["2023-02-29", "2024-13-01", "15/01/2024", "", "yesterday"])
def test_parse_date_names_the_flag_and_value(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"--start-date .* not a calendar date"):
        parse_date(text, what="--start-date")


def test_date_range_is_inclusive() -> None:
    assert date_range(date(2024, 2, 28), date(2024, 3, 1)) == [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    assert date_range(JAN1, JAN1) == [JAN1]


def test_end_before_start_is_a_configuration_error() -> None:
    with pytest.raises(
        ConfigurationError, match=r"end date 2024-01-01 is before start date 2024-01-02"
    ):
        date_range(JAN2, JAN1)


def test_absurdly_long_range_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="spans"):
        date_range(date(1, 1, 1), date(9999, 1, 1))


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'some' is not one of missing, failed, all"):
        parse_mode("some")


def test_mode_missing_runs_everything_without_a_manifest() -> None:
    decided = plan("missing")
    assert decided[JAN1] == (False, "already committed (run r1, 10 rows)", False)
    assert decided[JAN2][0]
    assert "last attempt failed: ContractError" in decided[JAN2][1]
    assert decided[JAN2][1].endswith("; no committed manifest")
    assert decided[JAN3] == (True, "no committed manifest", False)
    assert not decided[JAN4][0]
    assert decided[JAN5] == (
        False,
        "last attempt failed: InputFormatError: row 3; an older commit (7 rows) is still "
        "served; mode missing leaves committed partitions alone",
        False,
    )


def test_mode_failed_runs_only_failures() -> None:
    decided = plan("failed")
    assert [day for day, (runs, _, _) in decided.items() if runs] == [JAN2, JAN5]
    assert decided[JAN2][1].startswith("last attempt failed: ContractError: column fare missing")
    assert "mode failed reruns only failures" in decided[JAN3][1]
    assert decided[JAN1][1] == "committed (run r1, 10 rows); mode failed reruns only failures"


def test_mode_all_forces_every_partition_and_says_what_it_overrides() -> None:
    decided = plan("all")
    assert all(runs and force for runs, _, force in decided.values())
    assert decided[JAN1][1] == "forced (mode all); committed (run r1, 10 rows)"
    assert decided[JAN3][1] == "forced (mode all); no committed manifest"


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=200),
    count=st.integers(min_value=1, max_value=40),
)
def test_shards_cover_every_item_exactly_once(size: int, count: int) -> None:
    items = list(range(size))
    shards = [shard(items, index, count) for index in range(count)]
    assert sorted(item for part in shards for item in part) == items
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert shards == [shard(items, index, count) for index in range(count)]


@pytest.mark.parametrize(("index", "count"), [(-1, 3), (3, 3), (0, 0)])
def test_shard_rejects_impossible_coordinates(index: int, count: int) -> None:
    with pytest.raises(ConfigurationError):
        shard([1, 2, 3], index, count)


def test_parse_shard_defaults_to_a_single_task() -> None:
    assert parse_shard(None, None) == (0, 1)
    assert parse_shard("2", "3") == (2, 3)


@pytest.mark.parametrize(
    ("index", "count", "message"),
    [
        ("x", "3", "CLOUD_RUN_TASK_INDEX='x' is not an integer"),
        ("0", "three", "CLOUD_RUN_TASK_COUNT='three' is not an integer"),
        ("3", "3", r"CLOUD_RUN_TASK_INDEX=3 is outside 0\.\.2"),
        ("-1", "3", r"CLOUD_RUN_TASK_INDEX=-1 is outside"),
        ("0", "0", "CLOUD_RUN_TASK_COUNT=0 must be at least 1"),
        ("1", None, "CLOUD_RUN_TASK_COUNT is unset"),
        (None, "2", "CLOUD_RUN_TASK_INDEX is unset"),
    ],
)
def test_parse_shard_errors_name_the_variable(
    index: str | None, count: str | None, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_shard(index, count)
