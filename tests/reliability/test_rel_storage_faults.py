"""Storage faults: a FaultyProxy between the worker and fake-gcs-server.

First it answers a share of all requests with 503, 429, connection resets and stalls
(slow responses held past nothing but patience): the storage retries absorb them, every
partition commits complete, nothing partial is visible. Then every read of one object
fails for good: its message is nacked on each delivery and, after the subscription's
maximum delivery attempts, dead-lettered by Pub/Sub, while the worker keeps serving.

Scale: ``RELIABILITY_FAULT_FILES`` (default 6), ``RELIABILITY_FAULT_RATE`` (share of
requests hit, 0.25).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from support.faulty_proxy import Fault, FaultyProxy
from support.reliability_audit import Landed, announced_days, audit_partitions
from support.reliability_inputs import trips_csv
from support.reliability_results import env_float, env_int, record
from support.reliability_stack import Pulled, Stack, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

FIRST_DAY = date(2024, 6, 1)
DOOMED_DAY = date(2024, 6, 30)
ROWS = 2000
MAX_ATTEMPTS = 5


def test_retries_absorb_faults_and_persistent_ones_end_in_the_dead_letter_topic(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    files = env_int("RELIABILITY_FAULT_FILES", 6)
    rate = env_float("RELIABILITY_FAULT_RATE", 0.25)
    rng = random.Random()
    stack = Stack(
        tmp_path,
        pubsub_emulator.host,
        unique_name,
        extra_env={"WORKER_MAX_DELIVERY_ATTEMPTS": str(MAX_ATTEMPTS)},
    )
    proxy: FaultyProxy | None = None
    try:
        stack.start()
        assert stack.gcs is not None
        proxy = FaultyProxy(upstream=stack.gcs.host, stall_s=2.0).start()
        stack.storage_host = proxy.url
        share = rate / 4
        for fault in (Fault.UNAVAILABLE, Fault.RATE_LIMITED, Fault.RESET, Fault.STALL):
            proxy.inject(fault, times=None, when=lambda method, path: rng.random() < share)
        worker = stack.start_worker("faults")

        landed: dict[date, list[Landed]] = {}
        for offset in range(files):
            day = FIRST_DAY + timedelta(days=offset)
            name = f"trips/{day.isoformat()}.csv"
            landed[day] = [
                Landed(f"gs://landing/{name}", stack.upload(name, trips_csv(day, ROWS)), ROWS)
            ]
        announced: set[date] = set()

        def all_announced() -> bool:
            pulled = stack.pull("partition-completed-keep", quiet_s=0)
            announced.update(announced_days((m.data for m in pulled), "trips"))
            return set(landed) <= announced

        wait_for(all_announced, 300, "every file to commit through the faults", every_s=1.0)
        transient_faults = proxy.faults_served()
        audit = audit_partitions(stack.output, "trips", landed)

        proxy.clear()
        doomed = f"trips/{DOOMED_DAY.isoformat()}.csv"
        proxy.inject(Fault.UNAVAILABLE, times=None, when=lambda method, path: "2024-06-30" in path)
        stack.upload(doomed, trips_csv(DOOMED_DAY, ROWS))
        letters: list[Pulled] = []

        def doomed_dead_lettered() -> bool:
            letters.extend(stack.pull("file-arrived-dlq-keep", quiet_s=0))
            return any(letter.attributes.get("objectId") == doomed for letter in letters)

        wait_for(doomed_dead_lettered, 420, "the persistently failing file to be dead-lettered")
        persistent_faults = proxy.faults_served() - transient_faults
        logs = stack.log_lines()
        nacks = logs.count('"fate": "nack"')
        alive = worker.proc.poll() is None
        doomed_output = [
            path.name
            for path in stack.output.glob("trips/year=2024/month=06/day=30/**/*")
            if path.is_file() and path.name != "_last_failure.json"  # a note, not data
        ]
        record(
            "storage-faults",
            fault_rate=rate,
            faults_injected=transient_faults + persistent_faults,
            transient_faults=transient_faults,
            persistent_faults=persistent_faults,
            partitions=audit.partitions,
            corrupt=audit.corrupt,
            lost=audit.lost,
            nacks=nacks,
            dead_lettered_after_max_attempts=len(letters),
            partial_files_of_failed_day=len(doomed_output),
            worker_alive=str(alive),
        )
        assert transient_faults > 0
        assert audit.problems == []
        assert audit.partitions == files
        assert nacks >= MAX_ATTEMPTS, "every failed delivery must be nacked"
        assert [letter.attributes["objectId"] for letter in letters] == [doomed]
        assert doomed_output == [], "a failed partition must leave no output"
        assert alive
    finally:
        if proxy is not None:
            proxy.stop()
        stack.stop()
