"""Every delivery may be a duplicate: 1,000 duplicate Cloud Storage notifications for 10
objects, shuffled and consumed concurrently by two ``worker serve`` processes, commit each
partition once and announce it under one id.

Scale: ``RELIABILITY_DUPLICATES`` (default 1000), ``RELIABILITY_DUPLICATE_OBJECTS`` (10).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from support.gcs_notifications import finalized
from support.reliability_audit import (
    Landed,
    audit_partitions,
    check_completions,
    commits_per_partition,
)
from support.reliability_inputs import trips_csv
from support.reliability_results import env_int, record
from support.reliability_stack import READY_TIMEOUT_S, Stack, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

FIRST_DAY = date(2024, 4, 1)
ROWS = 2000


def test_a_thousand_duplicates_on_two_workers_commit_each_partition_once(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    duplicates = env_int("RELIABILITY_DUPLICATES", 1000)
    objects = env_int("RELIABILITY_DUPLICATE_OBJECTS", 10)
    stack = Stack(
        tmp_path, pubsub_emulator.host, unique_name, extra_env={"WORKER_MAX_MESSAGES": "16"}
    )
    try:
        stack.start()
        workers = [stack.spawn_worker("dup-a"), stack.spawn_worker("dup-b")]
        landed: dict[date, list[Landed]] = {}
        for offset in range(objects):
            day = FIRST_DAY + timedelta(days=offset)
            name = f"trips/{day.isoformat()}.csv"
            generation = stack.upload(name, trips_csv(day, ROWS))
            landed[day] = [Landed(f"gs://landing/{name}", generation, ROWS)]
        for worker in workers:
            worker.wait_ready(f"http://{worker.host}/readyz", READY_TIMEOUT_S)
        copies = [
            (b"", finalized("landing", item.uri.removeprefix("gs://landing/"), item.generation))
            for index in range(duplicates)
            for item in landed[FIRST_DAY + timedelta(days=index % objects)]
        ]
        random.shuffle(copies)
        stack.publish("file-arrived", copies)
        # fake-gcs-server announced each upload once more.
        deliveries = duplicates + objects

        completions: list[bytes] = []

        def every_delivery_announced() -> bool:
            completions.extend(m.data for m in stack.pull("partition-completed-keep", quiet_s=0))
            return len(completions) >= deliveries

        wait_for(every_delivery_announced, 300, f"{deliveries} completion events", every_s=1.0)

        audit = audit_partitions(stack.output, "trips", landed)
        events = check_completions(completions, "trips", audit.run_ids)
        commits = commits_per_partition(stack.log_lines(), "trips")
        dead_letters = stack.pull("file-arrived-dlq-keep", quiet_s=1)
        settled_per_worker = [
            worker.log.read_text().count('"event": "message.settled"') for worker in workers
        ]
        record(
            "duplicates",
            duplicates_published=duplicates,
            objects=objects,
            workers=len(workers),
            commits=sum(commits.values()),
            completion_events=events.events,
            distinct_event_ids=events.distinct_ids,
            settled_per_worker="/".join(map(str, settled_per_worker)),
            dead_lettered=len(dead_letters),
            partitions=audit.partitions,
            corrupt=audit.corrupt,
            lost=audit.lost,
            double_commits=sum(1 for count in commits.values() if count > 1),
        )
        assert audit.problems == []
        assert sum(commits.values()) == objects, f"commits per partition: {commits}"
        assert events.distinct_ids == objects
        assert events.unstable == []
        assert events.missing == []
        assert dead_letters == []
        assert min(settled_per_worker) > 0, "both workers must have taken deliveries"
    finally:
        stack.stop()
