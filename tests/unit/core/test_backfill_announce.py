"""The announcement claim: one winner among racing replicas, takeover of a stale claim.

The protocol rests on the storage contract of conditional writes: Cloud Storage's
``ifGenerationMatch=0`` makes a write succeed only when no live object exists
(https://cloud.google.com/storage/docs/request-preconditions#special-case), and a write
with a generation succeeds only when that generation is still current. The local adapter
implements the same contract.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from worker.core.backfill_announce import claim_completion, mark_published, read_claim
from worker.core.backfill_record import (
    BackfillRecord,
    PlannedEntry,
    SettledPartition,
    create_record,
    read_progress,
    record_settled,
)
from worker.errors import AnnouncementPendingError
from worker.storage.local import LocalStorage

DAYS = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]
T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def record(backfill_id: str = "bf-1", planned_at: datetime = T0) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=backfill_id,
        dataset="trips",
        start_date=DAYS[0],
        end_date=DAYS[-1],
        mode="missing",
        requested_by="test",
        requested_at=T0,
        planned_at=planned_at,
        planned_by="service",
        partitions=(
            PlannedEntry(partition=DAYS[0], runs=True, reason="missing"),
            PlannedEntry(partition=DAYS[1], runs=True, reason="missing"),
            PlannedEntry(partition=DAYS[2], runs=False, reason="already committed"),
        ),
    )


def settle(storage: LocalStorage, output: str, day: date, status: str = "committed") -> None:
    note = SettledPartition.model_validate(
        {"partition": day, "status": status, "reason": "quality", "settled_at": T0}
    )
    record_settled(storage, output, "trips", "bf-1", note)


@pytest.fixture
def output(tmp_path: Path) -> str:
    return str(tmp_path / "out")


def test_the_first_planner_s_record_wins(output: str) -> None:
    storage = LocalStorage()
    first = create_record(storage, output, record())
    later = create_record(storage, output, record(planned_at=T0 + timedelta(hours=1)))
    assert later == first
    assert later.planned_at == T0


def test_nothing_is_claimed_while_a_partition_is_pending(output: str) -> None:
    storage = LocalStorage()
    create_record(storage, output, record())
    settle(storage, output, DAYS[0])
    assert claim_completion(storage, output, "trips", "bf-1", claimer="a", clock=lambda: T0) is None
    progress = read_progress(storage, output, "trips", "bf-1")
    assert progress is not None
    assert progress.pending == [DAYS[1]]


def test_counts_include_the_partitions_the_plan_skipped(output: str) -> None:
    storage = LocalStorage()
    create_record(storage, output, record())
    settle(storage, output, DAYS[0])
    settle(storage, output, DAYS[1], status="failed")
    claimed = claim_completion(storage, output, "trips", "bf-1", claimer="a", clock=lambda: T0)
    assert claimed is not None
    summary = claimed.completion
    assert (summary.planned, summary.committed, summary.failed, summary.skipped) == (3, 1, 1, 1)
    assert [item.partition_date for item in summary.failures] == [DAYS[1]]


def test_of_many_racing_replicas_exactly_one_claims(output: str) -> None:
    storage = LocalStorage()
    create_record(storage, output, record())
    settle(storage, output, DAYS[0])
    settle(storage, output, DAYS[1])
    winners: list[str] = []
    pending: list[str] = []
    barrier = threading.Barrier(8)

    def replica(name: str) -> None:
        barrier.wait()
        try:
            claimed = claim_completion(
                storage, output, "trips", "bf-1", claimer=name, clock=lambda: T0
            )
        except AnnouncementPendingError:
            pending.append(name)
            return
        if claimed is not None:
            winners.append(name)

    threads = [threading.Thread(target=replica, args=(f"r{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert len(pending) == 7


def test_a_published_claim_is_never_announced_again(output: str) -> None:
    storage = LocalStorage()
    create_record(storage, output, record())
    settle(storage, output, DAYS[0])
    settle(storage, output, DAYS[1])
    claimed = claim_completion(storage, output, "trips", "bf-1", claimer="a", clock=lambda: T0)
    assert claimed is not None
    assert mark_published(storage, claimed)
    later = T0 + timedelta(days=1)
    assert (
        claim_completion(storage, output, "trips", "bf-1", claimer="b", clock=lambda: later) is None
    )


def test_a_stale_unpublished_claim_is_taken_over_once_with_the_same_summary(output: str) -> None:
    storage = LocalStorage()
    create_record(storage, output, record())
    settle(storage, output, DAYS[0])
    settle(storage, output, DAYS[1])
    dead = claim_completion(storage, output, "trips", "bf-1", claimer="dead", clock=lambda: T0)
    assert dead is not None

    soon = T0 + timedelta(seconds=5)
    with pytest.raises(AnnouncementPendingError, match="dead"):
        claim_completion(storage, output, "trips", "bf-1", claimer="b", clock=lambda: soon)

    stale = T0 + timedelta(minutes=5)
    taken = claim_completion(storage, output, "trips", "bf-1", claimer="b", clock=lambda: stale)
    assert taken is not None
    assert taken.completion == dead.completion
    assert not mark_published(storage, dead)  # the dead claimant's late write loses
    assert mark_published(storage, taken)
    found = read_claim(storage, taken.claim_uri)
    assert found is not None
    assert found[0].claimed_by == "b"
    assert found[0].published
