"""End-to-end latency of small files: upload to fake-gcs-server → ``partition-completed``.

Starts the demo's emulated environment (Pub/Sub emulator, fake-gcs-server publishing
Cloud Storage notifications, ``worker serve``) and an observer subscribed to completions,
then lands one small ``trips`` file at a time and times each until its completion event
arrives, so the figures hold no queueing behind other files. Every process it started is
stopped by PID on the way out. Run: ``python -m bench.latency_bench [--files N]``; prints
one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import median
from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.devenv.demo_environments import EmulatedEnvironment
from worker.devenv.demo_observer import DemoObserver
from worker.devenv.demo_tally import Completion
from worker.devenv.logs import logs_to_file
from worker.devenv.supervisor import Supervisor
from worker.settings import Settings
from worker.storage.uris import join_uri

FIRST_DAY = date(2024, 3, 1)
TIMEOUT_S = 120.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _measure(environment: EmulatedEnvironment, files: int, rows: int) -> list[float]:
    await environment.start(lambda _: None)
    arrived: dict[date, float] = {}

    def on_completion(completion: Completion) -> None:
        arrived.setdefault(completion.partition, time.monotonic())

    observer = DemoObserver(
        environment.settings,
        environment.transport,
        on_completion=on_completion,
        on_dead_letter=lambda _: None,
    )
    latencies = []
    async with observer:
        await environment.ready()
        for index in range(files):
            day = FIRST_DAY + timedelta(days=index)
            content = generate_trips_csv(day, rows, bad_row_fraction=0.01, seed=index)
            uri = join_uri(environment.settings.landing_uri, sample_name(day))
            began = time.monotonic()
            await environment.land(uri, content)
            deadline = began + TIMEOUT_S
            while day not in arrived:
                environment.check()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no completion for {uri} within {TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.005)
            latencies.append(arrived[day] - began)
    return latencies


def run(files: int, rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        workdir = Path(tmp)
        with Supervisor(None) as supervisor, logs_to_file(workdir / "bench.log", "WARNING"):
            environment = EmulatedEnvironment(Settings(), workdir, supervisor)
            try:
                latencies = asyncio.run(_run(environment, files, rows))
            finally:
                supervisor.stop_all()
    return {
        "files": files,
        "rows_per_file": rows,
        "p50_s": round(median(latencies), 3),
        "p99_s": round(_percentile(latencies, 0.99), 3),
        "max_s": round(max(latencies), 3),
        "latencies_s": [round(value, 3) for value in latencies],
    }


async def _run(environment: EmulatedEnvironment, files: int, rows: int) -> list[float]:
    try:
        return await _measure(environment, files, rows)
    finally:
        await environment.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rows", type=int, default=1000, help="rows per file")
    args = parser.parse_args()
    result = run(args.files, args.rows)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
