"""Graceful shutdown: SIGTERM while ``worker serve`` is inside a long partition.

With a grace period longer than the partition, the work finishes, is committed, announced
and acked, and the process exits 0. With a grace period shorter than the partition, the
process still exits 0 and never acks the message: it hands it back, and a new worker gets
the same message again (a later delivery attempt) and acks it once the partition is
committed. The core run cut short by the grace finishes in its thread before the process
exits (docs/service.md, ``worker serve``), so the new worker usually finds the partition
committed and only announces it; either way each day is committed exactly once. The
transform of ``readings_slow`` sleeps on purpose.

A broker that acked instead of handing back on shutdown loses the cut-short message: the
new worker never gets it, and the test fails waiting for it. The workers reach the Pub/Sub
emulator through a :class:`HalfCloseProxy`, as in the SIGKILL test, so that a call a
stopping worker left open could not stay registered on the installed emulator (0.8.20) and
starve the next worker (see RELIABILITY.md, "Known gaps"); the broker half-closes its own
streaming pull on a clean stop, so the proxy must find nothing left to end.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from support.halfclose_proxy import HalfCloseProxy
from support.reliability_audit import (
    Landed,
    announced_days,
    audit_partitions,
    check_completions,
    commits_per_partition,
)
from support.reliability_inputs import readings_csv_gz
from support.reliability_results import record
from support.reliability_stack import Stack, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

DATASET = "readings_slow"
ROWS = 20
FINISHES = date(2024, 7, 1)
CUT_SHORT = date(2024, 7, 2)


def _settled(worker: ManagedProcess, day: date) -> list[dict[str, Any]]:
    """The ``message.settled`` log entries of ``worker`` for ``day``'s partition."""
    entries = []
    for line in worker.log.read_text(errors="replace").splitlines():
        if '"message.settled"' in line:
            entry = json.loads(line)
            if entry.get("partition") == day.isoformat():
                entries.append(entry)
    return entries


def _fates(worker: ManagedProcess, day: date) -> list[str]:
    return [str(entry["fate"]) for entry in _settled(worker, day)]


def _stop_during_partition(
    stack: Stack, day: date, via_proxy: dict[str, str], *, grace_s: int, work_s: int
) -> tuple[ManagedProcess, Landed]:
    """Start a worker, land ``day``'s file, SIGTERM the worker once the partition started."""
    worker = stack.start_worker(
        f"sigterm-{day.isoformat()}",
        WORKER_SHUTDOWN_GRACE_S=str(grace_s),
        RELIABILITY_SLOW_TRANSFORM_S=str(work_s),
        **via_proxy,
    )
    name = f"slow/{day.isoformat()}.csv.gz"
    landed = Landed(f"gs://landing/{name}", stack.upload(name, readings_csv_gz(ROWS)), ROWS)
    wait_for(
        lambda: '"partition.started"' in worker.log.read_text(errors="replace"),
        120,
        f"the {day} partition to start",
        every_s=0.1,
    )
    worker.stop(timeout_s=grace_s + work_s + 60)
    return worker, landed


def test_sigterm_lets_work_finish_within_the_grace_or_hands_it_back_for_a_new_worker(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    stack = Stack(
        tmp_path,
        pubsub_emulator.host,
        unique_name,
        extra_env={
            "WORKER_DATASETS": "support.reliability_datasets",
            "WORKER_ACK_DEADLINE_S": "10",
        },
    )
    proxy = HalfCloseProxy(pubsub_emulator.host).start()
    via_proxy = {"PUBSUB_EMULATOR_HOST": proxy.host}
    try:
        stack.start()
        finished, finished_input = _stop_during_partition(
            stack, FINISHES, via_proxy, grace_s=30, work_s=3
        )
        cut_short, cut_short_input = _stop_during_partition(
            stack, CUT_SHORT, via_proxy, grace_s=1, work_s=10
        )
        successor = stack.start_worker("successor", RELIABILITY_SLOW_TRANSFORM_S="0", **via_proxy)
        completions: list[bytes] = []

        def redelivered_and_announced() -> bool:
            completions.extend(m.data for m in stack.pull("partition-completed-keep", quiet_s=0))
            announced = announced_days(completions, DATASET) >= {FINISHES, CUT_SHORT}
            return announced and bool(_settled(successor, CUT_SHORT))

        try:
            wait_for(redelivered_and_announced, 120, "the cut-short message to come back")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; logs {stack.root / 'logs'}") from None
        successor.stop(timeout_s=30)

        landed = {FINISHES: [finished_input], CUT_SHORT: [cut_short_input]}
        audit = audit_partitions(stack.output, DATASET, landed)
        events = check_completions(completions, DATASET, audit.run_ids)
        commits = commits_per_partition(stack.log_lines(), DATASET)
        handed_back = _settled(cut_short, CUT_SHORT)
        taken_again = _settled(successor, CUT_SHORT)
        record(
            "graceful-shutdown",
            sigterms=3,
            exit_codes="/".join(str(w.proc.returncode) for w in (finished, cut_short, successor)),
            within_grace_fates="/".join(_fates(finished, FINISHES)),
            past_grace_fates="/".join(_fates(cut_short, CUT_SHORT)) or "none",
            acked_unprocessed=_fates(cut_short, CUT_SHORT).count("ack"),
            redelivered_to_new_worker_fates="/".join(_fates(successor, CUT_SHORT)),
            redelivery_attempt="/".join(str(e.get("delivery_attempt")) for e in taken_again),
            cut_short_committed_by="stopped worker (after its grace)"
            if str(CUT_SHORT) in commits_per_partition(cut_short.log.read_text(), DATASET)
            else "new worker",
            partitions=audit.partitions,
            corrupt=audit.corrupt,
            lost=audit.lost,
            double_commits=sum(1 for count in commits.values() if count > 1),
            calls_half_closed_for_stopped_workers=proxy.half_closed_streams,
        )
        assert finished.proc.returncode == 0, f"log {finished.log}"
        assert _fates(finished, FINISHES) == ["ack"]
        assert commits_per_partition(finished.log.read_text(), DATASET)[str(FINISHES)] == 1

        assert cut_short.proc.returncode == 0, f"log {cut_short.log}"
        assert handed_back, f"the cut-short delivery was never settled; log {cut_short.log}"
        assert "ack" not in _fates(cut_short, CUT_SHORT), "acked before the work was done"

        # The same message again, a later delivery, settled by the new worker.
        assert [e["fate"] for e in taken_again] == ["ack"], f"log {successor.log}"
        assert taken_again[0]["message_id"] == handed_back[0]["message_id"]
        assert taken_again[0]["delivery_attempt"] > handed_back[-1]["delivery_attempt"]
        assert successor.proc.returncode == 0, f"log {successor.log}"

        assert audit.problems == []
        assert (audit.partitions, audit.corrupt, audit.lost) == (2, 0, 0)
        assert dict(commits) == {str(FINISHES): 1, str(CUT_SHORT): 1}, f"commits: {commits}"
        assert events.missing == []
        assert events.unstable == [], "a partition was announced under two ids"
        assert proxy.half_closed_streams == 0, f"a stopped worker left calls open: {proxy.history}"
    finally:
        stack.stop()
        proxy.stop()
