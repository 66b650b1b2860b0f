"""Bad inputs handed to ``worker run --input``: each one a clear one-line error and exit 4,
nothing read from outside the landing root, nothing written outside the output root.

The commands run in-process (Typer's runner on the real app) to keep the suite fast; the
subprocess path of the CLI is covered by tests/e2e and by test_rel_secrets.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from support import reliability_inputs as bad
from support.reliability_results import record
from worker.cli.app import app

pytestmark = pytest.mark.reliability


@dataclass(frozen=True)
class Case:
    name: str
    dataset: str
    input: str
    """Relative to the test directory; ``{root}`` is its absolute path."""
    says: str
    """A fragment the error line must contain (what went wrong)."""


CASES = (
    Case("'..' segment", "trips", "landing/../outside/2024-01-01.csv", "'..' segment"),
    Case("absolute path outside", "trips", "{root}/outside/2024-01-01.csv", "allowed root"),
    Case(
        "URL-encoded traversal",
        "trips",
        "file://{root}/landing/trips/%2e%2e/%2e%2e/outside/2024-01-01.csv",
        "'..' segment",
    ),
    Case("URL-encoded NUL byte", "trips", "{root}/landing/trips/2024-01-02.csv%00", "control"),
    Case("missing file", "trips", "landing/trips/2030-01-01.csv", "does not exist"),
    Case("gzip bomb", "readings_gz", "landing/gz/2024-01-01.csv.gz", "gzip bomb"),
    Case("empty .gz", "readings_gz", "landing/gz/2024-01-03.csv.gz", "not gzip"),
    Case("huge CSV header", "trips", "landing/trips/2024-01-03.csv", "header line is longer"),
    Case("binary named .csv", "trips", "landing/trips/2024-01-04.csv", "content looks like"),
    Case("Parquet named .csv", "trips", "landing/trips/2024-01-05.csv", "looks like parquet"),
    Case("Parquet of another schema", "readings_parquet", "landing/parquet/2024-01-01.parquet",
         "contract"),
    Case("empty Parquet", "readings_parquet", "landing/parquet/2024-01-02.parquet", "parquet"),
    Case("truncated Avro", "readings_avro", "landing/avro/2024-01-01.avro", "Avro"),
)  # fmt: skip


def _land(root: Path) -> None:
    files = {
        "outside/2024-01-01.csv": bad.trips_csv(date(2024, 1, 1)),
        "landing/trips/2024-01-02.csv": bad.trips_csv(date(2024, 1, 2)),
        "landing/trips/2024-01-03.csv": bad.huge_header_csv(),
        "landing/trips/2024-01-04.csv": bad.malformed_csv(),
        "landing/trips/2024-01-05.csv": bad.readings_parquet(),
        "landing/trips/2024-01-06.csv": b"",
        "landing/gz/2024-01-01.csv.gz": bad.gzip_bomb(),
        "landing/gz/2024-01-03.csv.gz": b"",
        "landing/parquet/2024-01-01.parquet": bad.other_schema_parquet(),
        "landing/parquet/2024-01-02.parquet": b"",
        "landing/avro/2024-01-01.avro": bad.truncated_avro(),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _worker(root: Path, *args: str) -> Result:
    env = {
        "WORKER_LANDING_URI": str(root / "landing"),
        "WORKER_OUTPUT_URI": str(root / "output"),
        "WORKER_WORKDIR": str(root / "scratch"),
        "WORKER_DATASETS": "support.reliability_datasets",
        "WORKER_LOG_FORMAT": "json",
    }
    return CliRunner().invoke(app, list(args), env=env)


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def test_every_bad_input_is_one_clear_error_and_nothing_escapes(tmp_path: Path) -> None:
    _land(tmp_path)
    before = _files(tmp_path)
    clear_errors = 0
    for case in CASES:
        uri = case.input.format(root=tmp_path)
        result = _worker(tmp_path, "run", "--dataset", case.dataset, "--input", uri)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.exit_code == 4, f"{case.name}: exit {result.exit_code}\n{result.stderr}"
        assert len(errors) == 1, f"{case.name}: {result.stderr}"
        assert case.says in errors[0], f"{case.name}: {errors[0]}"
        assert "Traceback" not in result.stderr, case.name
        clear_errors += 1

    # A documented choice, not a failure: trips allows empty days, so an empty file is
    # an empty partition (the reliability datasets set allow_empty=False and refuse it).
    empty = _worker(
        tmp_path, "run", "--dataset", "trips", "--input", "landing/trips/2024-01-06.csv"
    )
    assert empty.exit_code == 0, empty.stderr
    good = _worker(tmp_path, "run", "--dataset", "trips", "--input", "landing/trips/2024-01-02.csv")
    assert good.exit_code == 0, good.stderr

    output = tmp_path / "output"
    committed = sorted(p.parent.relative_to(output) for p in output.rglob("_manifest.json"))
    read_outside = sum(1 for partition in committed if partition.name == "day=01")
    assert committed == [
        Path("trips/year=2024/month=01/day=02"),
        Path("trips/year=2024/month=01/day=06"),
    ], "only the good and the empty day may be committed; nothing from outside the landing root"
    written = _files(tmp_path) - before
    escaped = sorted(
        str(p) for p in written if not p.is_relative_to(output) and "scratch" not in p.parts
    )
    assert escaped == [], f"written outside the output root: {escaped}"
    record(
        "cli-bad-inputs",
        inputs_tried=len(CASES),
        clear_errors=clear_errors,
        exit_code=4,
        written_outside_output=len(escaped),
        read_outside_landing=read_outside,
        good_after_bad="committed",
    )
