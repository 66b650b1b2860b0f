"""Scale: ``worker backfill`` of 90 daily ``trips`` partitions with 1 and with 2 processes."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from typing import Any

from bench.common import OUT, PYTHON, child_env, measure
from worker.datasets.trips_sample import write_sample_data
from worker.storage.local import LocalStorage

START = date(2024, 1, 1)
BAD_ROW_FRACTION = 0.01


def _landing(days: int, rows_per_day: int) -> str:
    root = OUT / "data" / f"backfill-{days}x{rows_per_day}"
    done = root / ".complete"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        write_sample_data(
            LocalStorage(), str(root), START, days, rows_per_day, BAD_ROW_FRACTION, seed=3
        )
        done.touch()
    return str(root)


def run_backfill_bench(
    days: int, rows_per_day: int, parallels: list[int], log: Any
) -> dict[str, Any]:
    landing = _landing(days, rows_per_day)
    end = START + timedelta(days=days - 1)
    runs: dict[str, Any] = {}
    for parallel in parallels:
        scratch = OUT / "runs" / f"backfill-p{parallel}"
        shutil.rmtree(scratch, ignore_errors=True)
        argv = [PYTHON, "-m", "worker", "backfill", "--dataset", "trips"]
        argv += ["--start-date", START.isoformat(), "--end-date", end.isoformat()]
        argv += ["--mode", "all", "--parallel", str(parallel), "--fresh", "--json"]
        env = child_env(
            {
                "WORKER_LANDING_URI": landing,
                "WORKER_OUTPUT_URI": str(scratch / "output"),
                "WORKER_WORKDIR": str(scratch / "work"),
                "WORKER_LOG_FORMAT": "json",
            }
        )
        measured = measure(argv, env=env)
        summary = measured.payload()
        outcomes = summary.get("outcomes", [])
        failed = [item for item in outcomes if item.get("status") == "failed"]
        runs[f"parallel_{parallel}"] = {
            **measured.summary(),
            "partitions": len(outcomes),
            "failed": len(failed),
            "partitions_per_s": round(len(outcomes) / measured.wall_s, 2),
        }
        log(
            f"  backfill {days} days x {rows_per_day:,} rows --parallel {parallel}: "
            f"{measured.wall_s:.1f} s wall, {len(outcomes)} partitions, {len(failed)} failed, "
            f"load {measured.load_before}"
        )
    report: dict[str, Any] = {"days": days, "rows_per_day": rows_per_day, "runs": runs}
    if "parallel_1" in runs and "parallel_2" in runs:
        report["speedup_2_vs_1"] = round(
            runs["parallel_1"]["wall_s"] / runs["parallel_2"]["wall_s"], 2
        )
    return report
