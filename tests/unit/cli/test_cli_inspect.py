"""``worker status``, ``worker datasets`` and ``worker sample-data``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import (
    LANDING,
    READINGS_MODULE,
    error_line,
    partition_dir,
    poison,
    sample,
    worker,
    worker_json,
)

RANGE = ("--dataset", "trips", "--start-date", "2024-01-01", "--end-date", "2024-01-03")


def test_status_reads_committed_failed_and_missing_from_storage() -> None:
    sample(days=3)
    committed = worker_json("run", "--dataset", "trips", "--date", "2024-01-01")
    poison("2024-01-02")
    assert worker("run", "--dataset", "trips", "--date", "2024-01-02").exit_code == 4

    states = worker_json("status", *RANGE)
    assert [state["status"] for state in states] == ["committed", "failed", "missing"]
    assert states[0]["run_id"] == committed["run_id"]
    assert states[0]["rows"] == committed["rows_out"]
    assert states[1]["reason"].startswith(("ContractError", "InputFormatError"))

    table = worker("status", *RANGE)
    assert table.exit_code == 0
    assert "trips: 1 committed, 1 failed, 1 missing" in table.stdout
    assert committed["run_id"] in table.stdout


def test_a_failure_over_an_older_commit_shows_both_facts_apart() -> None:
    sample(days=1)
    committed = worker_json("run", "--dataset", "trips", "--date", "2024-01-01")
    poison("2024-01-01")  # new content: a new run id, whose attempt fails
    assert worker("run", "--dataset", "trips", "--date", "2024-01-01").exit_code == 4
    note = json.loads((partition_dir("2024-01-01") / "_last_failure.json").read_text())
    failure_run = note["run_id"]
    assert failure_run != committed["run_id"]

    (state,) = worker_json("status", "--dataset", "trips", "--start-date", "2024-01-01",
                           "--end-date", "2024-01-01")  # fmt: skip
    assert state["status"] == "failed"
    assert (state["run_id"], state["rows"], state["committed_at"]) == (failure_run, None, None)
    assert state["last_failure"]["run_id"] == failure_run
    assert state["last_failure"]["reason"] == state["reason"]
    assert state["last_failure"]["failed_at"] is not None
    assert state["commit"]["run_id"] == committed["run_id"]
    assert state["commit"]["rows"] == committed["rows_out"]
    assert state["commit"]["committed_at"] is not None

    table = worker("status", "--dataset", "trips", "--start-date", "2024-01-01",
                   "--end-date", "2024-01-01", env={"COLUMNS": "250"})  # fmt: skip
    lines = table.stdout.splitlines()
    (failure_line,) = [line for line in lines if "2024-01-01" in line and "failed" in line]
    (commit_line,) = [line for line in lines if "committed (older, served)" in line]
    assert failure_run in failure_line
    assert committed["run_id"] not in failure_line
    assert committed["run_id"] in commit_line
    assert str(committed["rows_out"]) in commit_line
    assert failure_run not in commit_line


def test_status_validates_its_range() -> None:
    result = worker(
        "status", "--dataset", "trips", "--start-date", "2024-01-02", "--end-date", "2024-01-01"
    )
    assert result.exit_code == 3
    assert "is before start date" in error_line(result)


def test_datasets_lists_the_shipped_contract() -> None:
    described = worker_json("datasets")
    trips = next(item for item in described if item["name"] == "trips")
    assert {"version", "match", "input", "thresholds"} <= trips.keys()
    table = worker("datasets")
    assert table.exit_code == 0
    assert "dataset trips" in table.stdout


def test_user_dataset_modules_are_listed_and_bad_ones_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_readings.py").write_text(READINGS_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    names = [item["name"] for item in worker_json("datasets", "--datasets", "acme_readings")]
    assert names == ["trips", "readings"]

    result = worker("datasets", "--datasets", "acme_missing_module")
    assert result.exit_code == 3
    assert "acme_missing_module" in error_line(result)


def test_sample_data_writes_one_file_per_day_deterministically() -> None:
    first = sample(start="2024-03-30", days=3, rows=50)
    assert [Path(uri).name for uri in first] == [
        "2024-03-30.csv",
        "2024-03-31.csv",
        "2024-04-01.csv",
    ]
    before = (LANDING / "trips" / "2024-03-31.csv").read_bytes()
    sample(start="2024-03-30", days=3, rows=50)
    assert (LANDING / "trips" / "2024-03-31.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "Invalid value for '--days'"),
        (["--bad-row-fraction", "1.5"], "Invalid value for '--bad-row-fraction'"),
        (["--rows-per-day", "-1"], "Invalid value for '--rows-per-day'"),
    ],
)
def test_sample_data_refuses_impossible_amounts(args: list[str], message: str) -> None:
    result = worker("sample-data", "--dataset", "trips", "--start-date", "2024-01-01", *args)
    assert result.exit_code == 3
    assert message in error_line(result)


def test_sample_data_needs_a_dataset_that_ships_a_generator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_readings.py").write_text(READINGS_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = worker(
        "sample-data", "--dataset", "readings", "--start-date", "2024-01-01",
        "--datasets", "acme_readings",
    )  # fmt: skip
    assert result.exit_code == 3
    assert error_line(result) == (
        "error: dataset 'readings' ships no sample-data generator (worker sample-data)"
    )
