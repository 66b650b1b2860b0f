"""``worker run``: flag validation, date derivation, output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import (
    LANDING,
    error_line,
    partition_dir,
    poison,
    sample,
    worker,
    worker_json,
)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--dataset", "flights", "--date", "2024-01-01"], 3, "unknown dataset 'flights'"),
        (["--dataset", "trips", "--date", "2024-02-30"], 3, "--date '2024-02-30' is not"),
        (["--dataset", "trips"], 3, "pass --date, --input or both"),
        (["--date", "2024-01-01"], 3, "Missing option '--dataset'"),
        (["--dataset", "trips", "--input", "data/landing/trips/2030-01-01.csv"], 4,
         "input does not exist"),
        (["--dataset", "trips", "--input", "/etc/hosts", "--date", "2024-01-01"], 4,
         "--input is outside the allowed root"),
        # Over NAME_MAX (255 bytes a segment) and PATH_MAX (4096): refused, not an OSError.
        (["--dataset", "trips", "--input", f"data/landing/trips/{'n' * 300}.csv"], 4,
         "304-byte segment, the limit is 255"),
        (["--dataset", "trips", "--date", "2024-01-01", "--input",
          "data/landing/" + "d/" * 2100 + "2024-01-01.csv"], 4, "the limit is 4095"),
    ],
)  # fmt: skip
def test_bad_input_exits_with_the_right_code_and_one_line(
    args: list[str], code: int, message: str
) -> None:
    result = worker("run", *args)
    assert result.exit_code == code
    assert message in error_line(result)


@pytest.mark.parametrize("explicit", [True, False], ids=["--input", "discovered"])
def test_a_symlink_in_the_landing_root_that_leads_outside_is_refused(
    explicit: bool, tmp_path: Path
) -> None:
    sample("2024-01-01", days=1)
    outside = tmp_path / "elsewhere.csv"
    outside.write_text((LANDING / "trips" / "2024-01-01.csv").read_text())
    link = LANDING / "trips" / "2024-01-02.csv"
    link.symlink_to(outside)
    args = ["--input", str(link)] if explicit else ["--date", "2024-01-02"]
    result = worker("run", "--dataset", "trips", *args)
    assert result.exit_code == 4
    assert "outside the allowed root" in error_line(result)
    assert not (partition_dir("2024-01-02") / "_manifest.json").exists()
    # The link refuses its own day only, not the days listed beside it.
    assert worker("run", "--dataset", "trips", "--date", "2024-01-01").exit_code == 0


def test_an_input_no_dataset_claims_needs_a_date() -> None:
    stray = LANDING / "misc" / "notes.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("a\n1\n")
    result = worker("run", "--dataset", "trips", "--input", str(stray))
    assert result.exit_code == 3
    assert "matches no dataset's naming rule; pass --date" in error_line(result)
    assert str(stray.resolve()) in error_line(result)


def test_run_commits_then_skips_then_forces() -> None:
    sample()
    result = worker("run", "--dataset", "trips", "--date", "2024-01-01")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "committed trips 2024-01-01"
    assert lines[1].startswith("  rows       in 200, out ")
    assert lines[3].endswith(str(partition_dir("2024-01-01")))

    again = worker_json("run", "--dataset", "trips", "--date", "2024-01-01")
    assert again["status"] == "skipped"
    assert lines[2] == f"  run id     {again['run_id']}"

    forced = worker_json("run", "--dataset", "trips", "--date", "2024-01-01", "--force")
    assert forced["status"] == "committed"
    assert forced["run_id"] == again["run_id"]


def test_input_without_date_takes_the_date_from_the_name() -> None:
    sample(days=2)
    result = worker_json(
        "run", "--dataset", "trips", "--input", str(LANDING / "trips" / "2024-01-02.csv")
    )
    assert result["partition"] == "2024-01-02"
    assert [item["uri"] for item in result["inputs"]] == [
        str((LANDING / "trips" / "2024-01-02.csv").resolve())
    ]
    assert partition_dir("2024-01-02").is_dir()
    assert not partition_dir("2024-01-01").exists()


def test_dry_run_writes_nothing() -> None:
    sample(days=1)
    result = worker_json("run", "--dataset", "trips", "--date", "2024-01-01", "--dry-run")
    assert result["status"] == "dry-run"
    assert result["reason"]
    assert not Path("data/output").exists() or not any(Path("data/output").rglob("*.parquet"))


def test_contract_violation_exits_4() -> None:
    sample(days=1)
    poison("2024-01-01")
    result = worker("run", "--dataset", "trips", "--date", "2024-01-01")
    assert result.exit_code == 4
    assert "2024-01-01.csv" in error_line(result)


def test_run_prints_the_partition_checks_as_a_table() -> None:
    sample(days=1)
    result = worker("run", "--dataset", "trips", "--date", "2024-01-01")
    assert result.exit_code == 0, result.output
    assert "partition checks" in result.stdout
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "passed" in rows["unique:trip_id"]
    assert "error" in rows["unique:trip_id"]
    assert {"row_count", "freshness:pickup_at"} <= set(rows)


def test_a_failed_error_check_exits_4_with_the_table_on_stderr() -> None:
    sample(days=1)
    path = LANDING / "trips" / "2024-01-01.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1], lines[2]]) + "\n")  # two trips again
    result = worker("run", "--dataset", "trips", "--date", "2024-01-01")
    assert result.exit_code == 4
    assert "unique:trip_id: measured 2 duplicate rows over 2 keys" in error_line(result)
    assert "partition checks (partition failed)" in result.stderr
    assert "FAILED" in result.stderr
    assert not (partition_dir("2024-01-01") / "_manifest.json").exists()
