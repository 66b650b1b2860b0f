"""``make bench``: every benchmark in one run, a table of ratios, JSON under bench/results/.

    python -m bench.run                      # 1M and 10M rows, CSV / CSV.gz / Parquet, ~15 min
    python -m bench.run --large              # adds the 30M-row partition
    python -m bench.run --sizes 1000000 --formats csv --only pipeline

Ratios are contender / worker, measured in this run on the same data: above 1 the worker is
faster. Each contender runs in its own process; its peak RSS comes from ``wait4``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from datetime import UTC, datetime
from typing import Any

from bench.backfill_bench import run_backfill_bench
from bench.common import PYTHON, REPO, RESULTS, child_env, machine, measure, write_result
from bench.data import FORMATS, ensure_inputs
from bench.pipeline_bench import CONTENDERS, Case, run_case
from bench.report import format_tables
from bench.validation_bench import run_validation_bench

SECTIONS = ("pipeline", "validation", "messages", "backfill")


def _log(line: str) -> None:
    print(line, flush=True)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="rows per partition")
    parser.add_argument("--large", action="store_true", help="also 30M rows (CSV only)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="csv,csv.gz,parquet")
    parser.add_argument("--repeat", type=int, help="runs per contender (default 3, 1 >= 10M)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="besides the worker")
    parser.add_argument("--validation-rows", type=int, default=10_000_000)
    parser.add_argument("--backfill-days", type=int, default=90)
    parser.add_argument("--backfill-rows", type=int, default=100_000, help="rows per day")
    parser.add_argument("--only", default=",".join(SECTIONS), help=",".join(SECTIONS))
    return parser.parse_args()


def _pipeline(args: argparse.Namespace) -> list[dict[str, Any]]:
    sizes = [int(size) for size in args.sizes.split(",") if size]
    formats = tuple(fmt for fmt in args.formats.split(",") if fmt)
    contenders = [name for name in args.contenders.split(",") if name]
    cases = [(size, formats) for size in sizes]
    if args.large:
        # pandas at 30M rows needs ~14 GB: it is left out of the large case on purpose.
        cases.append((30_000_000, ("csv",)))
    reports = []
    for size, size_formats in cases:
        _log(f"generating {size:,} rows ({', '.join(size_formats)}) if missing")
        inputs = ensure_inputs(size, size_formats)
        repeat = args.repeat or (3 if size < 10_000_000 else 1)
        names = [name for name in contenders if size < 30_000_000 or name != "pandas+pyarrow"]
        for fmt in size_formats:
            reports.append(run_case(Case(inputs, fmt), repeat, names, _log))
    return reports


def _messages() -> dict[str, Any]:
    startup = measure([PYTHON, "-m", "worker", "version"])
    report: dict[str, Any] = {"cli_startup": startup.summary()}
    _log(
        f"  worker CLI start-up (worker version): {startup.wall_s:.2f} s, {startup.cpu_s:.2f} CPU-s"
    )
    broker = REPO / "bench" / "broker_bench.py"
    if not broker.exists():
        report["broker"] = "not measured: bench/broker_bench.py is absent"
        return report
    completed = subprocess.run(
        [PYTHON, "-m", "bench.broker_bench"],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    _log(completed.stdout.rstrip())
    if completed.returncode != 0:
        report["broker"] = f"failed (exit {completed.returncode}): {completed.stderr[-2000:]}"
    else:
        report["broker"] = json.loads((RESULTS / "broker.json").read_text())
    report["latency"] = (
        "not measured: end-to-end upload -> completion latency needs the notifying "
        "fake-gcs-server and the Pub/Sub emulator harness; see RESULTS.md"
    )
    return report


def main() -> None:
    args = _parse()
    sections = {name for name in args.only.split(",") if name}
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine_at_start": machine(),
        "argv": vars(args),
    }
    if "pipeline" in sections:
        _log("== partition pipeline")
        results["pipeline"] = _pipeline(args)
    if "validation" in sections:
        _log(f"== validation ({args.validation_rows:,} rows)")
        results["validation"] = run_validation_bench(args.validation_rows, _log)
    if "messages" in sections:
        _log("== messages")
        results["messages"] = _messages()
    if "backfill" in sections:
        _log(f"== backfill ({args.backfill_days} days x {args.backfill_rows:,} rows)")
        results["backfill"] = run_backfill_bench(
            args.backfill_days, args.backfill_rows, [1, 2], _log
        )
    results["machine_at_end"] = machine()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = write_result(f"run-{stamp}", results)
    write_result("latest", results)
    print()
    print(format_tables(results))
    print(f"\nwritten: {path.relative_to(REPO)} and bench/results/latest.json")


if __name__ == "__main__":
    main()
