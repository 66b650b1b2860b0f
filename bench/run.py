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
from bench.codec import drift_from_worker
from bench.common import PYTHON, REPO, RESULTS, child_env, machine, measure, write_result
from bench.data import FORMATS, ensure_inputs
from bench.pipeline_bench import CONTENDERS, Case, run_case
from bench.report import format_tables
from bench.validation_bench import run_validation_bench

LATENCY_FILES = 50
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
    parser.add_argument("--backfill-rows", type=int, default=50_000, help="rows per day")
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


def _startup() -> dict[str, Any]:
    """Importing the pipeline and building its ports, as shipped and in this dev venv."""
    code = (
        "from worker.core.pipeline import process_partition\n"
        "from worker.runtime import build_ports\n"
        "from worker.settings import Settings\n"
        "build_ports(Settings(landing_uri='.', output_uri='.'))\n"
    )
    figures = {}
    for label, prefix in (
        ("as_shipped", ["-m", "bench.contenders.as_shipped", "bench.contenders.run_code"]),
        ("dev_venv", ["-m", "bench.contenders.run_code"]),
    ):
        measured = measure([PYTHON, *prefix, code])
        figures[label] = measured.summary()
        _log(f"  start-up {label}: {measured.wall_s:.2f} s wall, {measured.cpu_s:.2f} CPU-s")
    return figures


def _messages() -> dict[str, Any]:
    report: dict[str, Any] = {"startup": _startup()}
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
    latency = subprocess.run(
        [PYTHON, "-m", "bench.latency_bench", "--files", str(LATENCY_FILES)],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if latency.returncode == 0:
        report["latency"] = json.loads(latency.stdout.strip().splitlines()[-1])
        _log(
            f"  latency upload -> partition-completed: p50 {report['latency']['p50_s']:.3f} s, "
            f"p99 {report['latency']['p99_s']:.3f} s over {LATENCY_FILES} files"
        )
    else:
        report["latency"] = f"not measured (exit {latency.returncode}): {latency.stderr[-1500:]}"
    return report


def main() -> None:
    args = _parse()
    drift = drift_from_worker()
    if drift:
        raise SystemExit(f"bench/codec.py no longer matches worker.core.sink: {'; '.join(drift)}")
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
