"""Broker faults: the Pub/Sub emulator is restarted under a serving worker.

The emulator keeps no state, so (as an operator would after a Pub/Sub outage that lost
resources) ``worker setup`` runs again once it is back. The same worker process — never
restarted — reconnects, and every file that arrives afterwards is committed and announced.
The test starts its own emulator; the session one is shared and never restarted.

Scale: ``RELIABILITY_BROKER_RESTARTS`` (default 1), ``RELIABILITY_BROKER_FILES`` (files per
round, 4).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from support.reliability_audit import Landed, announced_days, audit_partitions
from support.reliability_inputs import trips_csv
from support.reliability_results import env_int, record
from support.reliability_stack import Stack, wait_for
from worker.devenv.emulators import find_pubsub_emulator, start_pubsub_emulator

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

FIRST_DAY = date(2024, 5, 1)
ROWS = 1000


def test_worker_reconnects_after_the_emulator_restarts_and_loses_nothing_after(
    tmp_path: Path, unique_name: str
) -> None:
    if find_pubsub_emulator() is None:
        pytest.skip("LOUD SKIP: Google's Pub/Sub emulator is not installed")
    restarts = env_int("RELIABILITY_BROKER_RESTARTS", 1)
    per_round = env_int("RELIABILITY_BROKER_FILES", 4)
    emulator = start_pubsub_emulator(tmp_path / "logs")
    stack = Stack(tmp_path, emulator.host, unique_name)
    try:
        stack.start()
        worker = stack.start_worker("broker")
        landed: dict[date, list[Landed]] = {}
        announced: set[date] = set()
        after_restart: set[date] = set()
        for round_ in range(restarts + 1):
            batch = set()
            for index in range(per_round):
                day = FIRST_DAY + timedelta(days=round_ * per_round + index)
                name = f"trips/{day.isoformat()}.csv"
                generation = stack.upload(name, trips_csv(day, ROWS))
                landed[day] = [Landed(f"gs://landing/{name}", generation, ROWS)]
                batch.add(day)
            if round_ > 0:
                after_restart |= batch

            def batch_announced(days: set[date] = batch) -> bool:
                pulled = stack.pull("partition-completed-keep", quiet_s=0)
                announced.update(announced_days((m.data for m in pulled), "trips"))
                return days <= announced

            wait_for(batch_announced, 240, f"round {round_} to be committed and announced")
            if round_ < restarts:
                emulator.restart()
                stack.setup()
        audit = audit_partitions(stack.output, "trips", landed)
        alive = worker.proc.poll() is None
        record(
            "broker-restart",
            broker_restarts=restarts,
            files_after_restart=len(after_restart),
            partitions=audit.partitions,
            corrupt=audit.corrupt,
            lost=audit.lost,
            same_worker_process=str(alive),
        )
        assert audit.problems == []
        assert audit.partitions == len(landed)
        assert after_restart <= announced
        assert alive, f"the worker exited instead of reconnecting; log {worker.log}"
    finally:
        stack.stop()
        emulator.stop()
