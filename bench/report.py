"""Plain-text tables of a bench run (also pasted into RESULTS.md)."""

from __future__ import annotations

from typing import Any

from bench.pipeline_bench import WORKER


def _pipeline_table(reports: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| case | contender | wall s | CPU s | peak RSS MB | wall ratio | CPU ratio | out MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        case = f"{report['rows']:,} {report['format']}"
        for name, figures in report["contenders"].items():
            ratio = "1.00" if name == WORKER else f"{figures['wall_ratio_vs_worker']:.2f}"
            cpu_ratio = "1.00" if name == WORKER else f"{figures['cpu_ratio_vs_worker']:.2f}"
            written = figures.get("output_bytes", 0) / 1e6
            lines.append(
                f"| {case} | {name} | {figures['wall_s']:.2f} | {figures['cpu_s']:.2f} | "
                f"{figures['peak_rss_mb']:.0f} | {ratio} | {cpu_ratio} | {written:.0f} |"
            )
        worker = report["contenders"][WORKER]
        stages = ", ".join(f"{k} {v:.2f}" for k, v in worker.get("timings_s", {}).items())
        lines.append(
            f"| {case} | worker: {report['worker_rows_per_s']:,} rows/s; stages s: {stages} "
            "| | | | | | |"
        )
    return lines


def _validation_lines(validation: dict[str, Any]) -> list[str]:
    runs = validation["runs"]
    return [
        f"validation on {validation['rows']:,} rows: pass without checks "
        f"{runs['no-checks']['pass_s']:.2f} s, with checks + quarantine "
        f"{runs['checks']['pass_s']:.2f} s, Pandera on the LazyFrame "
        f"{runs['pandera']['pass_s']:.2f} s",
        f"  contract checks with quarantine: {validation['contract_cost_s']:.2f} s = "
        f"{validation['contract_share_of_pass']:.1%} of the pass's wall time, "
        f"{validation['contract_cost_cpu_s']:.2f} CPU-s = "
        f"{validation['contract_share_of_pass_cpu']:.1%} of its CPU time; Pandera takes "
        f"{validation['pandera_vs_checked_pass']:.1f}x the whole checked pass",
    ]


def _messages_lines(messages: dict[str, Any]) -> list[str]:
    lines = [
        f"start-up (import the pipeline, build ports) {label}: {figures['wall_s']:.2f} s wall, "
        f"{figures['cpu_s']:.2f} CPU-s"
        for label, figures in messages["startup"].items()
    ]
    broker = messages.get("broker")
    if isinstance(broker, dict):
        rows = broker.get("results", {})
        raw_cpu = rows.get("raw", {}).get("cpu_us_per_message")
        for name, row in rows.items():
            per_message = row.get("cpu_us_per_message", 0.0)
            versus = f", {per_message / raw_cpu:.2f}x raw" if raw_cpu else ""
            lines.append(
                f"  broker bench {name}: {per_message:.0f} CPU-us per message{versus}, "
                f"{row.get('messages_per_s', 0):.0f} msg/s, peak RSS "
                f"{row.get('peak_rss_mb', 0):.0f} MB"
            )
    else:
        lines.append(f"  broker bench: {broker}")
    latency = messages.get("latency")
    if isinstance(latency, dict):
        lines.append(
            f"  latency upload -> partition-completed ({latency['files']} files of "
            f"{latency['rows_per_file']} rows): p50 {latency['p50_s']:.3f} s, "
            f"p99 {latency['p99_s']:.3f} s, max {latency['max_s']:.3f} s"
        )
    else:
        lines.append(f"  latency: {latency}")
    return lines


def _backfill_lines(backfill: dict[str, Any]) -> list[str]:
    lines = [f"backfill {backfill['days']} days x {backfill['rows_per_day']:,} rows:"]
    for name, run in backfill["runs"].items():
        lines.append(
            f"  {name}: {run['wall_s']:.1f} s wall, {run['partitions']} partitions "
            f"({run['failed']} failed), peak RSS {run['peak_rss_mb']:.0f} MB"
        )
    if "speedup_2_vs_1" in backfill:
        lines.append(f"  --parallel 2 speed-up: {backfill['speedup_2_vs_1']:.2f}x")
    return lines


def format_tables(results: dict[str, Any]) -> str:
    lines: list[str] = []
    start, end = results["machine_at_start"], results.get("machine_at_end", {})
    lines.append(
        f"machine: {start['nproc']} CPUs ({start['cpu_model']}), {start['mem_total_gb']} GB; "
        f"load average at start {start['loadavg']}, at end {end.get('loadavg')}"
    )
    if results.get("pipeline"):
        lines += ["", *_pipeline_table(results["pipeline"])]
    if results.get("validation"):
        lines += ["", *_validation_lines(results["validation"])]
    if results.get("messages"):
        lines += ["", *_messages_lines(results["messages"])]
    if results.get("backfill"):
        lines += ["", *_backfill_lines(results["backfill"])]
    return "\n".join(lines)
