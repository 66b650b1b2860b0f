"""Crash at any point: ``worker serve`` is killed with SIGKILL at random moments while it
works through a dozen daily files, and restarted each time.

The files arrive in rounds, one per kill and a last one, so every worker has work to die
over. Nothing tells the worker where to die (no hooks): a random delay after it started a
partition (or, sometimes, during start-up) lands the kills during extract, between data
files and manifest, after the commit before the ack, or during the completion publish;
where each kill landed is read from the worker's log and counted. In the end every day is
committed exactly once and reads complete, nothing is lost, every partition was announced
under one id (its run id), nothing was dead-lettered, and the last worker stops cleanly.

The workers reach the Pub/Sub emulator through a :class:`HalfCloseProxy`. The installed
emulator (0.8.20) cannot clean up after a client whose connection just drops: the dead
streaming pull stays registered, keeps taking the subscription's messages, and fresh
subscribers starve. When a killed worker's connection drops, the proxy half-closes the
calls it left open, so the emulator ends them normally, as real Pub/Sub forgets a dead
stream. It acks, nacks and hands back nothing: what the dead worker held comes back only
after its ack deadline, as on real Pub/Sub (see RELIABILITY.md, "Known gaps").

Scale: ``RELIABILITY_CRASH_KILLS`` (default 4), ``RELIABILITY_CRASH_DAYS`` (12),
``RELIABILITY_CRASH_ROWS`` (rows per file, 40000), ``RELIABILITY_SEED``.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from support.halfclose_proxy import HalfCloseProxy
from support.reliability_audit import (
    Landed,
    announced_days,
    audit_partitions,
    check_completions,
    commits_per_partition,
)
from support.reliability_inputs import trips_csv
from support.reliability_results import env_int, record
from support.reliability_stack import READY_TIMEOUT_S, Stack, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

FIRST_DAY = date(2024, 3, 1)


def _kill_at_random(worker: ManagedProcess, rng: random.Random) -> str:
    """SIGKILL ``worker`` at a random moment and say what it was doing (from its log).

    Mostly once it has started a partition, after a random delay about as long as the
    work it was given (a default partition takes ~0.3 s, two run at once); sometimes while
    it boots, with deliveries waiting for it."""
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 2.0))
        worker.kill()
        return "starting"
    worker.wait_ready(f"http://{worker.host}/readyz", READY_TIMEOUT_S)
    with contextlib.suppress(AssertionError):  # killed idle then: still a kill worth making
        wait_for(lambda: b'"partition.started"' in worker.log.read_bytes(), 30, "work", 0.02)
    time.sleep(rng.uniform(0.0, 0.6))
    worker.kill()
    return _work_in_hand(worker.log.read_text(errors="replace"))


def _work_in_hand(log_text: str) -> str:
    """Where a killed worker's partitions stood: ``before-commit`` if one had started and
    not committed (extract, transform, data files, manifest), else ``after-commit`` if one
    had committed, or found itself committed, and its message was not settled (completion
    publish, ack), else ``idle``."""
    stage: dict[str, str] = {}
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("event") in _STAGES:
            stage[str(entry.get("message_id"))] = _STAGES[entry["event"]]
    in_hand = set(stage.values())
    return next((s for s in ("before-commit", "after-commit") if s in in_hand), "idle")


_STAGES = {
    "partition.started": "before-commit",
    "partition.completed": "after-commit",
    "partition.skipped": "after-commit",  # already committed by a killed worker
    "message.settled": "settled",
}


def test_sigkill_at_random_moments_loses_nothing_and_commits_each_day_once(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    kills, days, rows = (
        env_int("RELIABILITY_CRASH_KILLS", 4),
        env_int("RELIABILITY_CRASH_DAYS", 12),
        env_int("RELIABILITY_CRASH_ROWS", 40_000),
    )
    seed = env_int("RELIABILITY_SEED", random.randrange(1_000_000))
    rng = random.Random(seed)
    stack = Stack(
        tmp_path,
        pubsub_emulator.host,
        unique_name,
        extra_env={
            # A killed worker's leases come back after 10 s, not the default minute.
            "WORKER_ACK_DEADLINE_S": "10",
            # Every kill costs the messages it held one delivery attempt; none may be
            # dead-lettered for being unlucky.
            "WORKER_MAX_DELIVERY_ATTEMPTS": "100",
            "WORKER_MAX_MESSAGES": "2",
        },
    )
    proxy = HalfCloseProxy(pubsub_emulator.host).start()
    via_proxy = {"PUBSUB_EMULATOR_HOST": proxy.host}
    try:
        stack.start()
        worker = stack.spawn_worker("crash", **via_proxy)
        landed: dict[date, list[Landed]] = {}

        def upload(offsets: range) -> None:
            for offset in offsets:
                day = FIRST_DAY + timedelta(days=offset)
                name = f"trips/{day.isoformat()}.csv"
                generation = stack.upload(name, trips_csv(day, rows, seed=seed))
                landed[day] = [Landed(f"gs://landing/{name}", generation, rows)]

        # Each worker gets fresh files to be killed over, besides the redeliveries of
        # what its predecessors held.
        per_round = -(-days // (kills + 1))
        moments = []
        for round_ in range(kills):
            upload(range(round_ * per_round, min(days, (round_ + 1) * per_round)))
            moments.append(_kill_at_random(worker, rng))
            worker = stack.spawn_worker("crash", **via_proxy)
        upload(range(kills * per_round, days))

        completions: list[bytes] = []

        def all_announced() -> bool:
            completions.extend(m.data for m in stack.pull("partition-completed-keep", quiet_s=0))
            return announced_days(completions, "trips") >= set(landed)

        try:
            wait_for(all_announced, 180, "a completion event for every day", every_s=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the proxy: {proxy.history}") from None
        # Work may all be done before the last worker booted; a clean stop needs it up.
        worker.wait_ready(f"http://{worker.host}/readyz", READY_TIMEOUT_S)
        worker.stop(timeout_s=30)
        exit_code = worker.proc.returncode

        audit = audit_partitions(stack.output, "trips", landed)
        events = check_completions(completions, "trips", audit.run_ids)
        commits = commits_per_partition(stack.log_lines(), "trips")
        dead_letters = stack.pull("file-arrived-dlq-keep", quiet_s=1)
        record(
            "crash-sigkill-serve",
            seed=seed,
            kills=kills,
            kills_before_commit=moments.count("before-commit"),
            kills_after_commit_before_ack=moments.count("after-commit"),
            kills_idle=moments.count("idle"),
            kills_starting=moments.count("starting"),
            partitions=audit.partitions,
            rows_per_partition=rows,
            corrupt=audit.corrupt,
            lost=audit.lost,
            double_commits=sum(1 for count in commits.values() if count > 1),
            completion_events=events.events,
            distinct_event_ids=events.distinct_ids,
            dead_lettered=len(dead_letters),
            orphan_files=audit.orphans,
            calls_half_closed_for_dead_workers=proxy.half_closed_streams,
        )
        assert audit.problems == []
        assert (audit.partitions, audit.corrupt, audit.lost) == (days, 0, 0)
        assert events.missing == []
        assert events.unstable == [], "a partition was announced under two ids"
        assert events.distinct_ids == days
        assert max(commits.values()) == 1, f"committed more than once: {commits}"
        assert dead_letters == [], [m.attributes for m in dead_letters]
        assert exit_code == 0, f"the last worker did not stop cleanly; log {worker.log}"
    finally:
        stack.stop()
        proxy.stop()
