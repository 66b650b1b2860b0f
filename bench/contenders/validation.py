"""Validation cost, three ways over the same typed scan of the ``trips`` CSV.

Modes (first argument; the second is the CSV file):

- ``pandera``: Pandera validates the LazyFrame itself (schema and data checks, lazy error
  collection), as a user would call ``TripsInput.validate``;
- ``checks``: the worker's data pass: contract checks as Polars expressions, clean rows
  through the transform to Parquet, failing rows with their check names to quarantine;
- ``no-checks``: the same pass with no checks and no quarantine, so the difference to
  ``checks`` is what validation with quarantine costs.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaErrors

from worker.core.extract import combined, scan_inputs
from worker.core.pipeline import _transform
from worker.core.sink import run_pass
from worker.core.validate import Split
from worker.core.validate import split as split_branches
from worker.datasets.trips import TRIPS, PaymentType, TripsInput
from worker.storage.local import LocalStorage


def _conformed(path: Path, scratch: Path) -> pl.LazyFrame:
    return combined(scan_inputs(TRIPS, [str(path)], LocalStorage(), scratch / "inputs"))


def _spent(began: float, began_cpu: float) -> dict[str, float]:
    # process_time counts every thread of the process: Polars' pool included.
    return {"pass_s": time.perf_counter() - began, "pass_cpu_s": time.process_time() - began_cpu}


def main(mode: str, path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        scratch = Path(tmp)
        frame = _conformed(path, scratch)
        if mode == "pandera":
            failures = 0
            began, began_cpu = time.perf_counter(), time.process_time()
            # Pandera checks only the schema of a LazyFrame unless asked for the data too.
            with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
                try:
                    TripsInput.validate(frame, lazy=True)
                except SchemaErrors as errors:
                    failures = len(errors.failure_cases)
            print(json.dumps({"mode": mode, "failure_cases": failures, **_spent(began, began_cpu)}))
            return
        began, began_cpu = time.perf_counter(), time.process_time()
        if mode == "checks":
            branches = split_branches(frame, TRIPS.input_contract)
        else:
            # Without checks unknown payment types reach the transform's strict Enum cast;
            # casting leniently first costs the same one cast and leaves the rest alike.
            lenient = frame.with_columns(pl.col("payment_type").cast(PaymentType, strict=False))
            empty = lenient.filter(pl.lit(False))
            branches = Split(
                clean=lenient.select(list(TRIPS.input_contract.columns)),
                quarantine=empty,
                rows_in=lenient.select(pl.len().alias("rows")),
            )
        staged = run_pass(branches, _transform(TRIPS, branches.clean), scratch / "out", "bench")
        print(json.dumps({"mode": mode, "rows_out": staged.rows_out, **_spent(began, began_cpu)}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
