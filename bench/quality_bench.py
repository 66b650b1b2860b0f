"""What the partition checks cost: ``trips`` with its checks against the same day without.

Every contender is one child process running ``process_partition`` on the same generated
CSV day (``bench.data``); repeats go round-robin. Reported per contender: median wall and
CPU time, peak RSS, and the data pass and quality read-back timings from the manifest. The
headline is the unique check's read-back as a share of the pass in the same run (target: at
most 10%) and the peak-RSS difference against no checks (target: the pass's memory stays
where it was).

Run: ``.venv/bin/python -m bench.quality_bench --rows 30000000 --repeats 1``.
"""

from __future__ import annotations

import argparse
import shutil
from typing import Any

from bench.common import OUT, PYTHON, child_env, machine, measure, median, write_result
from bench.data import DAY, ensure_inputs

CONTENDERS = ("trips_plain", "trips_aggregates", "trips", "trips_first_kept")


def _run(dataset: str, landing: str) -> dict[str, Any]:
    output = OUT / "runs" / f"quality-{dataset}"
    shutil.rmtree(output, ignore_errors=True)
    argv = [PYTHON, "-m", "bench.contenders.quality_core", dataset, DAY.isoformat()]
    measured = measure([*argv, landing, str(output)], env=child_env({"WORKER_LOG_FORMAT": "json"}))
    payload = measured.payload()
    shutil.rmtree(output, ignore_errors=True)
    return {**measured.summary(), **payload}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    args = parser.parse_args()
    inputs = ensure_inputs(args.rows, ("csv",))
    names = args.contenders.split(",")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for _ in range(args.repeats):
        for name in names:
            runs[name].append(_run(name, str(inputs.landing)))
    rows: dict[str, dict[str, Any]] = {}
    for name, results in runs.items():
        rows[name] = {
            "wall_s": median([r["wall_s"] for r in results]),
            "cpu_s": median([r["cpu_s"] for r in results]),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "data_pass_s": median([r["timings_s"]["data_pass"] for r in results]),
            "quality_s": median([r["timings_s"].get("quality", 0.0) for r in results]),
        }
        print(f"{args.rows:,} rows {name}: {rows[name]}")
    if "trips_plain" in rows and "trips" in rows:
        plain, checked = rows["trips_plain"], rows["trips"]
        # Within one run, so outside load hits both numbers alike; the pass's own aggregates
        # are measured apart by trips_aggregates against trips_plain.
        share = checked["quality_s"] / checked["data_pass_s"]
        rss = checked["peak_rss_mb"] - plain["peak_rss_mb"]
        print(
            f"unique read-back {checked['quality_s']:.2f} s = {share:.1%} of the pass "
            f"({checked['data_pass_s']:.2f} s); peak RSS {rss:+.0f} MB against no checks"
        )
    write_result(
        "quality", {"rows": args.rows, "repeats": args.repeats, "machine": machine(), "runs": rows}
    )


if __name__ == "__main__":
    main()
