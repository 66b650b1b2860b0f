"""Helpers for the CLI tests: invoke ``worker`` in-process, write sample data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from worker.cli.app import app

LANDING = Path("data/landing")
OUTPUT = Path("data/output")

READINGS_MODULE = """
import pandera.polars as pa

from worker.core.datasets import Dataset
from worker.core.matching import MatchRule


class Reading(pa.DataFrameModel):
    sensor: str
    value: float


DATASETS = [Dataset(name="readings", match=MatchRule(glob="readings/{date}.csv"),
                    input_model=Reading)]
"""
"""A user dataset module (for WORKER_DATASETS) that ships no sample-data generator."""


def worker(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def worker_json(*args: str, env: dict[str, str] | None = None) -> Any:
    result = worker(*args, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def error_line(result: Result) -> str:
    """The command's single error line (logs may precede it on stderr)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def sample(start: str = "2024-01-01", days: int = 2, rows: int = 200) -> list[str]:
    written: list[str] = worker_json(
        "sample-data", "--dataset", "trips", "--start-date", start, "--days", str(days),
        "--rows-per-day", str(rows), "--bad-row-fraction", "0",
    )  # fmt: skip
    return written


def poison(day: str) -> Path:
    """Replace a day's trips file with one that breaks the contract (missing columns)."""
    path = LANDING / "trips" / f"{day}.csv"
    path.write_text("this,is,not\nthe,trips,contract\n")
    return path


def partition_dir(day: str) -> Path:
    year, month, dom = day.split("-")
    return OUTPUT / "trips" / f"year={year}" / f"month={month}" / f"day={dom}"


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Rows of a Rich table keyed by their first cell (continuation lines are skipped)."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) > 1 and cells[0]:
            rows[cells[0]] = cells
    return rows
