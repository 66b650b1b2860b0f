"""Partition pipeline: ``worker run`` against bare Polars, DuckDB, pandas and pyarrow.

Every contender runs in its own process on the same generated day (one format at a time);
repeats go round-robin over the contenders so a burst of load from elsewhere hits them all
alike. Reported per contender: median wall time, CPU time and peak RSS, and the ratio of
its median wall time to the worker's (above 1: the worker is faster).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import OUT, PYTHON, Measurement, child_env, measure, median
from bench.data import DATASET_OF_FORMAT, DAY, Inputs

WORKER = "worker run"
WORKER_CORE = "process_partition"
CONTENDERS: dict[str, list[str]] = {
    "polars bare": ["-m", "bench.contenders.polars_bare"],
    "duckdb": ["-m", "bench.contenders.duckdb_sql"],
    "pandas+pyarrow": ["-m", "bench.contenders.pandas_arrow"],
    "pyarrow copy": ["-m", "bench.contenders.arrow_copy"],
    "pyarrow parse": ["-m", "bench.contenders.arrow_copy", "--parse-only"],
}

FILTERING = {WORKER, WORKER_CORE, "polars bare", "duckdb", "pandas+pyarrow"}
"""Contenders that apply the checks: they must all keep the same rows."""


@dataclass(frozen=True)
class Case:
    inputs: Inputs
    fmt: str

    @property
    def label(self) -> str:
        return f"{self.inputs.rows:,} rows {self.fmt}"


def _scratch(name: str) -> Path:
    target = OUT / "runs" / name.replace(" ", "_").replace("+", "_")
    shutil.rmtree(target, ignore_errors=True)
    return target


def _run_worker(case: Case, *, cli: bool) -> tuple[Measurement, dict[str, Any]]:
    output = _scratch("worker")
    dataset, day = DATASET_OF_FORMAT[case.fmt], DAY.isoformat()
    landing = str(case.inputs.landing)
    # Run as the shipped image runs it: without the dev/bench packages that Pandera would
    # otherwise import at start-up (see bench/contenders/as_shipped.py).
    argv = [PYTHON, "-m", "bench.contenders.as_shipped"]
    if cli:
        argv += ["worker", "run", "--dataset", dataset, "--date", day]
        argv += ["--landing-uri", landing, "--output-uri", str(output), "--json"]
    else:
        argv += ["bench.contenders.worker_core", dataset, day, landing, str(output)]
    env = child_env({"WORKER_DATASETS": "bench.datasets", "WORKER_LOG_FORMAT": "json"})
    measured = measure(argv, env=env)
    result = measured.payload()
    manifest = json.loads(Path(result["manifest_uri"]).read_text())
    details = {
        "rows_in": result["rows_in"],
        "rows_out": result["rows_out"],
        "rows_quarantined": result["rows_quarantined"],
        "timings_s": manifest["timings_s"],
        "output_bytes": sum(entry["size"] for entry in manifest["files"]),
    }
    return measured, details


def _run_contender(name: str, case: Case) -> tuple[Measurement, dict[str, Any]]:
    output = _scratch(name)
    argv = [PYTHON, *CONTENDERS[name][:2], str(case.inputs.files[case.fmt]), str(output)]
    measured = measure([*argv, *CONTENDERS[name][2:]])
    written = sum(path.stat().st_size for path in output.glob("*.parquet"))
    return measured, {"rows_out": measured.payload()["rows_out"], "output_bytes": written}


def run_case(case: Case, repeat: int, contenders: list[str], log: Any) -> dict[str, Any]:
    """Measure the worker and each contender ``repeat`` times on one case."""
    names = [WORKER, WORKER_CORE, *contenders]
    samples: dict[str, list[Measurement]] = {name: [] for name in names}
    details: dict[str, dict[str, Any]] = {}
    for round_index in range(repeat):
        for name in samples:
            if name in (WORKER, WORKER_CORE):
                measured, details[name] = _run_worker(case, cli=name == WORKER)
            else:
                measured, details[name] = _run_contender(name, case)
            samples[name].append(measured)
            log(
                f"  {case.label:<24} {name:<16} run {round_index + 1}/{repeat}: "
                f"{measured.wall_s:7.2f} s wall, {measured.cpu_s:7.2f} s CPU, "
                f"{measured.peak_rss_mb:7.0f} MB, load {measured.load_before}"
            )
    worker_wall = median([m.wall_s for m in samples[WORKER]])
    worker_cpu = median([m.cpu_s for m in samples[WORKER]])
    rows_in = details[WORKER]["rows_in"]
    report: dict[str, Any] = {
        "rows": case.inputs.rows,
        "format": case.fmt,
        "input_bytes": case.inputs.files[case.fmt].stat().st_size,
        "repeat": repeat,
        "worker_rows_per_s": round(rows_in / worker_wall),
        "contenders": {},
    }
    filtered = {name: found["rows_out"] for name, found in details.items() if name in FILTERING}
    report["rows_out_agree"] = len(set(filtered.values())) <= 1
    if not report["rows_out_agree"]:
        log(f"  WARNING: contenders disagree on the clean rows: {filtered}")
    for name, measurements in samples.items():
        wall = median([m.wall_s for m in measurements])
        cpu = median([m.cpu_s for m in measurements])
        report["contenders"][name] = {
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "peak_rss_mb": max(m.peak_rss_mb for m in measurements),
            "wall_ratio_vs_worker": round(wall / worker_wall, 2),
            "cpu_ratio_vs_worker": round(cpu / worker_cpu, 2) if worker_cpu else None,
            "samples": [m.summary() for m in measurements],
            **details[name],
        }
    return report
