"""``worker backfill``: validation, the dry-run plan, sharding, partial failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import error_line, poison, sample, table_rows, worker, worker_json

RANGE = ("--dataset", "trips", "--start-date", "2024-01-01", "--end-date", "2024-01-03")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--dataset", "trips", "--start-date", "2024-01-03", "--end-date", "2024-01-01"], {},
         "end date 2024-01-01 is before start date 2024-01-03"),
        (["--dataset", "trips", "--start-date", "01/01/2024", "--end-date", "2024-01-01"], {},
         "--start-date '01/01/2024' is not a calendar date"),
        ([*RANGE, "--mode", "some"], {}, "backfill mode 'some' is not one of"),
        ([*RANGE, "--parallel", "0"], {}, "Invalid value for '--parallel'"),
        (["--dataset", "nope", "--start-date", "2024-01-01", "--end-date", "2024-01-01"], {},
         "unknown dataset 'nope'"),
        (list(RANGE), {"CLOUD_RUN_TASK_INDEX": "1"}, "CLOUD_RUN_TASK_COUNT is unset"),
        (list(RANGE), {"CLOUD_RUN_TASK_INDEX": "a", "CLOUD_RUN_TASK_COUNT": "2"},
         "CLOUD_RUN_TASK_INDEX='a' is not an integer"),
    ],
)  # fmt: skip
def test_bad_input_is_a_configuration_error(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = worker("backfill", *args, env=env)
    assert result.exit_code == 3
    assert message in error_line(result)


def test_dry_run_prints_each_partition_with_why_and_runs_nothing() -> None:
    sample(days=3)
    assert worker("run", "--dataset", "trips", "--date", "2024-01-02").exit_code == 0
    result = worker("backfill", *RANGE, "--dry-run")
    assert result.exit_code == 0, result.stderr
    rows = table_rows(result.stdout)
    assert rows["2024-01-01"] == ["2024-01-01", "run", "no committed manifest"]
    assert rows["2024-01-02"][1] == "skip"
    assert rows["2024-01-02"][2].startswith("already committed (run ")
    assert rows["2024-01-03"][1] == "run"
    assert "2 of 3 partitions would run" in result.stdout
    status = worker_json("status", *RANGE)
    assert [state["status"] for state in status] == ["missing", "committed", "missing"]


def test_dry_run_json_takes_only_this_tasks_share() -> None:
    sample(days=3)
    plan = worker_json(
        "backfill", *RANGE, "--dry-run", "--mode", "all",
        env={"CLOUD_RUN_TASK_INDEX": "1", "CLOUD_RUN_TASK_COUNT": "2"},
    )  # fmt: skip
    assert (plan["task_index"], plan["task_count"]) == (1, 2)
    assert [(item["partition"], item["force"]) for item in plan["partitions"]] == [
        ("2024-01-02", True)
    ]


def test_backfill_runs_the_range_and_reports_a_summary() -> None:
    sample(days=3)
    result = worker("backfill", *RANGE)
    assert result.exit_code == 0, result.stderr
    assert "3 ran, 0 done earlier, 0 failed, 0 skipped by plan" in result.stdout
    rows = table_rows(result.stdout)
    assert [rows[f"2024-01-0{day}"][1] for day in (1, 2, 3)] == ["committed"] * 3
    assert not list(Path(".worker").glob("backfill-*.json"))


def test_partial_failure_exits_2_lists_the_day_and_keeps_the_checkpoint() -> None:
    sample(days=3)
    poison("2024-01-02")
    result = worker("backfill", *RANGE)
    assert result.exit_code == 2
    assert error_line(result).startswith("error: 1 of 3 partitions failed: 2024-01-02 (")
    assert error_line(result).endswith("rerun with --mode failed (dataset trips)")
    assert len(list(Path(".worker").glob("backfill-*.json"))) == 1

    plan = worker_json("backfill", *RANGE, "--mode", "failed", "--dry-run")
    assert [item["partition"] for item in plan["partitions"] if item["runs"]] == ["2024-01-02"]
