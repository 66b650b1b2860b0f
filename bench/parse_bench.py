"""What a bad cell costs: the strict pass, the re-pass after it fails, and lenient parsing.

One day of generated trips (``bench.data``; 1 % of its rows fail row checks, all parse), in
three child processes, each timing its own data pass (no interpreter start-up or imports):

- ``clean``: ``process_partition`` over the file as is — the strict pass only, what every
  file whose values all parse costs;
- ``bad-cell``: the same file with one unparsable fare in its last row — the strict pass
  fails at the end, then the lenient re-pass quarantines that row;
- ``lenient``: the lenient pass alone over the clean file — what parsing every file
  leniently, without the strict pass first, would cost.

Rerun: ``.venv/bin/python -m bench.parse_bench --rows 1000000`` (prints JSON; add ``--save``
to write ``bench/results/parse-<time>.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import OUT, PYTHON, machine, measure, write_result
from bench.data import DAY, ensure_inputs
from worker.core.datasets import DatasetRegistry
from worker.core.extract import combined, rescan, scan_inputs
from worker.core.model import PartitionTask, Ports
from worker.core.pipeline import _transform, process_partition
from worker.core.sink import run_pass
from worker.core.validate import split
from worker.datasets.trips import TRIPS
from worker.storage.local import LocalStorage

MODES = ("clean", "bad-cell", "lenient")


def _with_bad_cell(source: Path, target: Path) -> None:
    """``source`` with the fare of its last row replaced by text no float parses."""
    lines = source.read_bytes().splitlines(keepends=True)
    fare = lines[0].decode().rstrip("\r\n").split(",").index("fare_amount")
    fields = lines[-1].rstrip(b"\r\n").split(b",")
    fields[fare] = b"lots"
    lines[-1] = b",".join(fields) + b"\n"
    target.write_bytes(b"".join(lines))


def _child(mode: str, landing: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-parse-", dir=OUT) as tmp:
        scratch = Path(tmp)
        began, began_cpu = time.perf_counter(), time.process_time()
        if mode == "lenient":
            uri = str(landing / "trips" / f"{DAY.isoformat()}.csv")
            scanned = scan_inputs(TRIPS, [uri], LocalStorage(), scratch / "inputs")
            lenient = [rescan(one, TRIPS, lenient=True) for one in scanned]
            branches = split(combined(lenient), TRIPS.input_contract)
            staged = run_pass(branches, _transform(TRIPS, branches.clean), scratch / "out", "b")
            rows = (staged.rows_in, staged.rows_out, staged.rows_quarantined)
        else:
            ports = Ports(
                storage=LocalStorage(),
                registry=DatasetRegistry([TRIPS]),
                landing_uri=str(landing),
                output_uri=str(scratch / "output"),
                workdir=scratch / "work",
                code_version="bench",
                clock=lambda: datetime.now(UTC),
            )
            result = process_partition(PartitionTask("trips", DAY), ports)
            rows = (result.rows_in, result.rows_out, result.rows_quarantined)
        return {
            "mode": mode,
            "pass_s": time.perf_counter() - began,
            "pass_cpu_s": time.process_time() - began_cpu,
            "rows": rows,
        }


def run_parse_bench(rows: int) -> dict[str, Any]:
    inputs = ensure_inputs(rows, ("csv",))
    bad_landing = OUT / "data" / f"trips-{rows}-bad-cell"
    bad_file = bad_landing / "trips" / f"{DAY.isoformat()}.csv"
    if not bad_file.exists():
        bad_file.parent.mkdir(parents=True, exist_ok=True)
        _with_bad_cell(inputs.files["csv"], bad_file)
    runs: dict[str, Any] = {}
    for mode in MODES:
        landing = bad_landing if mode == "bad-cell" else inputs.landing
        measured = measure([PYTHON, "-m", "bench.parse_bench", "--child", mode, str(landing)])
        payload = measured.payload()
        runs[mode] = {
            **measured.summary(),
            "pass_s": round(payload["pass_s"], 3),
            "pass_cpu_s": round(payload["pass_cpu_s"], 3),
            "rows_in_out_quarantined": payload["rows"],
        }
    clean_s = runs["clean"]["pass_s"]
    return {
        "rows": rows,
        "runs": runs,
        "bad_cell_vs_clean": round(runs["bad-cell"]["pass_s"] / clean_s, 2),
        "lenient_vs_clean": round(runs["lenient"]["pass_s"] / clean_s, 2),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "LANDING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], Path(args.child[1]))))
        return
    result = run_parse_bench(args.rows)
    if args.save:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        print(write_result(f"parse-{stamp}", result), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
