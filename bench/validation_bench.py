"""Validation cost: Pandera on the data versus the contract as expressions in the one pass.

Three processes over the same CSV (see :mod:`bench.contenders.validation`); each reports the
seconds of its own validation or pass, without interpreter start-up and imports.
"""

from __future__ import annotations

from typing import Any

from bench.common import PYTHON, measure
from bench.data import ensure_inputs

MODES = ("no-checks", "checks", "pandera")


def run_validation_bench(rows: int, log: Any) -> dict[str, Any]:
    source = ensure_inputs(rows, ("csv",)).files["csv"]
    runs: dict[str, Any] = {}
    for mode in MODES:
        measured = measure([PYTHON, "-m", "bench.contenders.validation", mode, str(source)])
        payload = measured.payload()
        runs[mode] = {
            **measured.summary(),
            "pass_s": round(payload["pass_s"], 3),
            "pass_cpu_s": round(payload["pass_cpu_s"], 3),
        }
        log(
            f"  {mode:<10} {payload['pass_s']:7.2f} s, {payload['pass_cpu_s']:6.2f} CPU-s in the "
            f"pass ({measured.wall_s:.2f} s "
            f"process, {measured.cpu_s:.2f} CPU-s, {measured.peak_rss_mb:.0f} MB), "
            f"load {measured.load_before}"
        )
    checks_s = runs["checks"]["pass_s"]
    # Signed: a negative cost means the difference is below this machine's noise.
    contract_cost = checks_s - runs["no-checks"]["pass_s"]
    checks_cpu = runs["checks"]["pass_cpu_s"]
    contract_cpu = checks_cpu - runs["no-checks"]["pass_cpu_s"]
    return {
        "rows": rows,
        "runs": runs,
        "contract_cost_s": round(contract_cost, 3),
        "contract_share_of_pass": round(contract_cost / checks_s, 3),
        "contract_cost_cpu_s": round(contract_cpu, 3),
        "contract_share_of_pass_cpu": round(contract_cpu / checks_cpu, 3),
        "pandera_vs_checked_pass": round(runs["pandera"]["pass_s"] / checks_s, 2),
        "pandera_vs_contract_cost": round(runs["pandera"]["pass_s"] / contract_cost, 1)
        if contract_cost > 0
        else None,
    }
