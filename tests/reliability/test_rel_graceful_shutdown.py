"""Graceful shutdown: SIGTERM while ``worker serve`` is inside a long partition.

With a grace period longer than the partition, the work finishes, is committed, announced
and acked, and the process exits 0. With a grace period shorter than the partition, the
message is nacked on shutdown and never acked, and the process still exits 0 (whether it
came back to the subscription is reported). The transform of ``readings_slow`` sleeps on
purpose.
"""

from __future__ import annotations

import json
import signal
from datetime import date
from pathlib import Path

import pytest

from support.reliability_audit import announced_days, partition_dir
from support.reliability_inputs import readings_csv_gz
from support.reliability_results import record
from support.reliability_stack import Stack, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

FINISHES = date(2024, 7, 1)
CUT_SHORT = date(2024, 7, 2)


def _fates(worker: ManagedProcess, day: date) -> list[str]:
    """The fates the worker logged for deliveries of ``day``'s partition."""
    fates = []
    for line in worker.log.read_text(errors="replace").splitlines():
        if '"message.settled"' in line:
            entry = json.loads(line)
            if entry.get("partition") == day.isoformat():
                fates.append(str(entry["fate"]))
    return fates


def _stop_during_partition(stack: Stack, day: date, *, grace_s: int, work_s: int) -> ManagedProcess:
    worker = stack.start_worker(
        f"sigterm-{day.isoformat()}",
        WORKER_SHUTDOWN_GRACE_S=str(grace_s),
        RELIABILITY_SLOW_TRANSFORM_S=str(work_s),
    )
    stack.upload(f"slow/{day.isoformat()}.csv.gz", readings_csv_gz())
    wait_for(
        lambda: '"partition.started"' in worker.log.read_text(errors="replace"),
        120,
        f"the {day} partition to start",
        every_s=0.1,
    )
    worker.proc.send_signal(signal.SIGTERM)
    worker.proc.wait(timeout=grace_s + work_s + 60)
    return worker


def test_sigterm_lets_work_finish_within_the_grace_or_nacks_it_and_exits_0(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    # One project per phase: once a subscriber's stream closes, the emulator (0.8.20) hits
    # a NoSuchMethodError in its gRPC server and may stop dispatching that subscription.
    stacks = [
        Stack(
            tmp_path / phase,
            pubsub_emulator.host,
            f"{unique_name}{phase}",
            extra_env={
                "WORKER_DATASETS": "support.reliability_datasets",
                "WORKER_ACK_DEADLINE_S": "10",
            },
        )
        for phase in ("a", "b")
    ]
    try:
        within, past = stacks
        within.start()
        finished = _stop_during_partition(within, FINISHES, grace_s=30, work_s=3)
        announced = announced_days(
            (m.data for m in within.pull("partition-completed-keep", quiet_s=1)), "readings_slow"
        )
        manifest = partition_dir(within.output, "readings_slow", FINISHES) / "_manifest.json"

        past.start()
        cut_short = _stop_during_partition(past, CUT_SHORT, grace_s=1, work_s=10)
        back = [
            m
            for m in past.pull("file-arrived-worker", quiet_s=15)
            if m.attributes.get("objectId") == f"slow/{CUT_SHORT.isoformat()}.csv.gz"
        ]
        past_fates = _fates(cut_short, CUT_SHORT)
        record(
            "graceful-shutdown",
            sigterms=2,
            exit_codes=f"{finished.proc.returncode}/{cut_short.proc.returncode}",
            within_grace_fates="/".join(_fates(finished, FINISHES)),
            within_grace_committed=str(manifest.exists()),
            past_grace_fates="/".join(past_fates) or "none (nacked on shutdown)",
            past_grace_redelivered_within_15s=len(back),
            acked_unprocessed=past_fates.count("ack"),
        )
        assert finished.proc.returncode == 0, f"log {finished.log}"
        assert _fates(finished, FINISHES) == ["ack"]
        assert manifest.exists()
        assert FINISHES in announced
        assert cut_short.proc.returncode == 0, f"log {cut_short.log}"
        assert "ack" not in past_fates, "acked before the work was done"
        # Redelivery of the nacked message is reported, not asserted: the same emulator
        # defect can hold it back (RELIABILITY.md, "Known gaps").
    finally:
        for stack in stacks:
            stack.stop()
