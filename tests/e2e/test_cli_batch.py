"""The installed ``worker`` command, run as an operator would, on local landing/output dirs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WORKER = Path(sys.executable).parent / "worker"


class Cli:
    """Runs ``worker`` with its settings pointing at one temp directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = root / "landing"
        self.output = root / "output"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("WORKER_", "CLOUD_RUN_"))
        }
        self.env |= {
            "WORKER_LANDING_URI": str(self.landing),
            "WORKER_OUTPUT_URI": str(self.output),
            "WORKER_WORKDIR": str(root / "work"),
            "WORKER_LOG_FORMAT": "json",
        }

    def start(self, *args: str, **extra_env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(WORKER), *args],
            cwd=self.root,
            env=self.env | extra_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __call__(self, *args: str, expect: int = 0, **extra_env: str) -> tuple[str, str]:
        process = self.start(*args, **extra_env)
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == expect, f"worker {' '.join(args)}:\n{stderr[-2000:]}"
        return stdout, stderr

    def json(self, *args: str, expect: int = 0, **extra_env: str) -> Any:
        stdout, _ = self(*args, "--json", expect=expect, **extra_env)
        return json.loads(stdout)

    def copy_landing(self, source: Path) -> None:
        shutil.copytree(source, self.landing)

    def partition_bytes(self, day: str) -> dict[str, str]:
        year, month, dom = day.split("-")
        partition = self.output / "trips" / f"year={year}" / f"month={month}" / f"day={dom}"
        return {
            str(path.relative_to(partition)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(partition.rglob("*"))
            if path.is_file()
        }


@pytest.fixture(scope="module")
def sample_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One week of generated trips (2024-01-01..07), written once by ``worker sample-data``."""
    cli = Cli(tmp_path_factory.mktemp("sample"))
    written = cli.json(
        "sample-data", "--dataset", "trips", "--start-date", "2024-01-01", "--days", "7",
        "--rows-per-day", "300", "--bad-row-fraction", "0.005",
    )  # fmt: skip
    assert [Path(uri).name for uri in written] == [f"2024-01-0{day}.csv" for day in range(1, 8)]
    return cli.landing


def json_log_lines(stderr: str) -> list[dict[str, Any]]:
    """The structured log lines on stderr (anything else there is not a log line)."""
    found = []
    for line in stderr.splitlines():
        with contextlib.suppress(ValueError):
            parsed = json.loads(line)
            if isinstance(parsed, dict):
                found.append(parsed)
    return found


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_sample_run_rerun_backfill_status(tmp_path: Path, sample_landing: Path) -> None:
    cli = Cli(tmp_path)
    cli.copy_landing(sample_landing)

    stdout, stderr = cli("run", "--dataset", "trips", "--date", "2024-01-01", "--json")
    first = json.loads(stdout)
    assert first["status"] == "committed"
    assert first["rows_out"] > 0
    assert first["rows_in"] == first["rows_out"] + first["rows_quarantined"]
    log_lines = json_log_lines(stderr)
    assert any(
        {"dataset", "partition", "run_id"} <= line.keys() and line["run_id"] == first["run_id"]
        for line in log_lines
    ), "the run's log lines carry dataset, partition and run_id"
    committed_bytes = cli.partition_bytes("2024-01-01")
    assert any(name.endswith(".parquet") for name in committed_bytes)

    again = cli.json("run", "--dataset", "trips", "--date", "2024-01-01")
    assert again["status"] == "skipped"
    assert again["run_id"] == first["run_id"]
    assert cli.partition_bytes("2024-01-01") == committed_bytes

    summary = cli.json(
        "backfill", "--dataset", "trips", "--start-date", "2024-01-01",
        "--end-date", "2024-01-04", "--parallel", "2",
    )  # fmt: skip
    assert [o["partition"] for o in summary["outcomes"]] == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    assert {o["status"] for o in summary["outcomes"]} == {"committed"}
    assert [item["partition"] for item in summary["not_run"]] == ["2024-01-01"]

    states = cli.json("status", "--dataset", "trips", "--start-date", "2024-01-01",
                      "--end-date", "2024-01-05")  # fmt: skip
    assert [state["status"] for state in states] == ["committed"] * 4 + ["missing"]
    assert states[0]["run_id"] == first["run_id"]
    assert states[0]["rows"] == first["rows_out"]
    assert not list((tmp_path / "work").glob("backfill-*.json")), "success clears the checkpoint"


def test_backfill_with_a_poisoned_day_exits_2_and_names_it(
    tmp_path: Path, sample_landing: Path
) -> None:
    cli = Cli(tmp_path)
    cli.copy_landing(sample_landing)
    (cli.landing / "trips" / "2024-01-02.csv").write_text("this,is,not\nthe,trips,contract\n")

    stdout, stderr = cli(
        "backfill", "--dataset", "trips", "--start-date", "2024-01-01",
        "--end-date", "2024-01-03", "--parallel", "2", expect=2,
    )  # fmt: skip
    (line,) = error_lines(stderr)
    assert line.startswith("error: 1 of 3 partitions failed: 2024-01-02 (")
    assert "2024-01-02" in stdout, "the summary table lists the failed partition"
    child_logs = json_log_lines(stderr)
    assert any(
        log.get("partition") == "2024-01-02"
        and log.get("dataset") == "trips"
        and log["backfill_id"]
        for log in child_logs
    ), "worker processes log JSON lines carrying dataset, partition and backfill id"

    assert not (
        cli.output / "trips" / "year=2024" / "month=01" / "day=02" / "_manifest.json"
    ).exists()
    assert (cli.output / "trips" / "year=2024" / "month=01" / "day=03" / "_manifest.json").exists()


def test_cloud_run_tasks_share_the_range_exactly_once(tmp_path: Path, sample_landing: Path) -> None:
    cli = Cli(tmp_path)
    cli.copy_landing(sample_landing)
    args = ("backfill", "--dataset", "trips", "--start-date", "2024-01-01",
            "--end-date", "2024-01-07", "--json")  # fmt: skip
    tasks = [
        cli.start(*args, CLOUD_RUN_TASK_INDEX=str(index), CLOUD_RUN_TASK_COUNT="3")
        for index in range(3)
    ]
    ran: list[str] = []
    for task in tasks:
        stdout, stderr = task.communicate(timeout=300)
        assert task.returncode == 0, stderr[-2000:]
        ran += [outcome["partition"] for outcome in json.loads(stdout)["outcomes"]]
    assert sorted(ran) == [f"2024-01-0{day}" for day in range(1, 8)]

    states = cli.json("status", "--dataset", "trips", "--start-date", "2024-01-01",
                      "--end-date", "2024-01-07")  # fmt: skip
    assert {state["status"] for state in states} == {"committed"}
