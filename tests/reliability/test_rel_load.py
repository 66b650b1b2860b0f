"""Load: a steady stream of small files for a while, consumed by two ``worker serve``
processes. Every file is committed and announced (no stuck message, nothing lost), and
neither worker's memory (RSS from /proc) grows past a bound relative to its warm-up RSS.
Throughput per interval is reported, never asserted.

Scale: ``RELIABILITY_LOAD_SECONDS`` (default 45), ``RELIABILITY_LOAD_RATE`` (files per
second, 1.5), ``RELIABILITY_LOAD_ROWS`` (rows per file, 500).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from support.reliability_audit import Landed, announced_days, audit_partitions
from support.reliability_inputs import trips_csv
from support.reliability_results import env_float, env_int, record
from support.reliability_stack import READY_TIMEOUT_S, Stack, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

FIRST_DAY = date(2020, 1, 1)
INTERVAL_S = 5.0
RSS_GROWTH_BOUND = 2.0
"""The largest RSS in the second half of the run may be at most this times the warm-up's."""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def commits_per_interval(log_text: str, start: datetime) -> list[int]:
    bins: Counter[int] = Counter()
    for line in log_text.splitlines():
        if '"partition.completed"' not in line:
            continue
        entry = json.loads(line)
        at = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
        bins[int((at - start).total_seconds() // INTERVAL_S)] += 1
    return [bins[index] for index in range(max(bins, default=-1) + 1)]


def test_steady_small_files_on_two_workers_keep_memory_bounded_and_lose_nothing(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    seconds = env_float("RELIABILITY_LOAD_SECONDS", 45.0)
    rate = env_float("RELIABILITY_LOAD_RATE", 1.5)
    rows = env_int("RELIABILITY_LOAD_ROWS", 500)
    stack = Stack(tmp_path, pubsub_emulator.host, unique_name)
    try:
        stack.start()
        workers = [stack.spawn_worker("load-a"), stack.spawn_worker("load-b")]
        for worker in workers:
            worker.wait_ready(f"http://{worker.host}/readyz", READY_TIMEOUT_S)
        landed: dict[date, list[Landed]] = {}
        rss: list[list[int]] = [[] for _ in workers]
        start = datetime.now().astimezone()
        began = time.monotonic()
        next_sample = began
        while (elapsed := time.monotonic() - began) < seconds:
            day = FIRST_DAY + timedelta(days=len(landed))
            name = f"trips/{day.isoformat()}.csv"
            landed[day] = [
                Landed(f"gs://landing/{name}", stack.upload(name, trips_csv(day, rows)), rows)
            ]
            if time.monotonic() >= next_sample:
                for index, worker in enumerate(workers):
                    rss[index].append(rss_kib(worker.pid))
                next_sample += INTERVAL_S
            time.sleep(max(0.0, len(landed) / rate - elapsed))

        announced: set[date] = set()

        def all_announced() -> bool:
            pulled = stack.pull("partition-completed-keep", quiet_s=0)
            announced.update(announced_days((m.data for m in pulled), "trips"))
            return set(landed) <= announced

        wait_for(all_announced, 240, f"all {len(landed)} files to be committed", every_s=1.0)
        for index, worker in enumerate(workers):
            rss[index].append(rss_kib(worker.pid))
        audit = audit_partitions(stack.output, "trips", landed)
        throughput = commits_per_interval(stack.log_lines(), start)
        growth = [
            max(samples[len(samples) // 2 :]) / max(samples[: max(1, len(samples) // 4)])
            for samples in rss
        ]
        record(
            "load",
            seconds=seconds,
            files=len(landed),
            workers=len(workers),
            partitions=audit.partitions,
            corrupt=audit.corrupt,
            lost=audit.lost,
            stuck=len(set(landed) - announced),
            commits_per_5s=throughput,
            warmup_rss_mib="/".join(str(s[0] // 1024) for s in rss),
            peak_rss_mib="/".join(str(max(s) // 1024) for s in rss),
            rss_growth=" / ".join(f"{g:.2f}" for g in growth),
        )
        assert audit.problems == []
        assert audit.partitions == len(landed)
        assert max(growth) <= RSS_GROWTH_BOUND, f"RSS grew {growth} over warm-up"
        assert all(worker.proc.poll() is None for worker in workers)
    finally:
        stack.stop()
