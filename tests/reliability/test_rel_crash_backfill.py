"""Crash at any point, CLI path: ``worker backfill --parallel 2`` over a dozen days is
killed with SIGKILL — the whole process group, as a container kill takes the CLI, its fork
server and its workers at once — at random moments, and rerun each time.

Nothing tells the worker where to die: once the first partition has started, a random
delay picks the moment, so kills land during extract, validation, between data files and
manifest, and between the commit and the checkpoint. After
every kill, each day that has a manifest must read complete (a reader that trusts only the
manifest's files never sees half a partition); after the final run every day is committed
exactly once and every input row is accounted for.

Scale: ``RELIABILITY_CRASH_KILLS`` (default 4), ``RELIABILITY_CRASH_DAYS`` (12),
``RELIABILITY_CRASH_ROWS`` (rows per file, 100000), ``RELIABILITY_SEED``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from support.reliability_audit import Landed, audit_partitions, commits_per_partition
from support.reliability_inputs import trips_csv
from support.reliability_results import env_int, record
from support.reliability_stack import WORKER

pytestmark = pytest.mark.reliability

FIRST_DAY = date(2024, 3, 1)


def _backfill(root: Path, log: Path, last_day: date) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "CLOUD_RUN_"))}
    env |= {
        "WORKER_LANDING_URI": str(root / "landing"),
        "WORKER_OUTPUT_URI": str(root / "output"),
        "WORKER_WORKDIR": str(root / "work"),
        "WORKER_LOG_FORMAT": "json",
    }
    argv = [str(WORKER), "backfill", "--dataset", "trips", "--start-date", FIRST_DAY.isoformat()]
    argv += ["--end-date", last_day.isoformat(), "--parallel", "2"]
    with log.open("wb") as sink:
        return subprocess.Popen(
            argv, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for_work(process: subprocess.Popen[bytes], log: Path, started: int) -> None:
    """Until this run has started ``started`` partitions (or ended)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if log.read_bytes().count(b'"partition.started"') >= started:
            return
        time.sleep(0.02)


def test_sigkill_of_a_backfill_at_random_moments_leaves_no_half_partition(tmp_path: Path) -> None:
    kills_wanted = env_int("RELIABILITY_CRASH_KILLS", 4)
    days = env_int("RELIABILITY_CRASH_DAYS", 12)
    rows = env_int("RELIABILITY_CRASH_ROWS", 100_000)
    seed = env_int("RELIABILITY_SEED", random.randrange(1_000_000))
    rng = random.Random(seed)
    landed: dict[date, list[Landed]] = {}
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        path = tmp_path / "landing" / "trips" / f"{day.isoformat()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(trips_csv(day, rows, seed=seed))
        # A local file's generation is its modification time in nanoseconds.
        landed[day] = [Landed(str(path), path.stat().st_mtime_ns, rows)]
    last_day = FIRST_DAY + timedelta(days=days - 1)
    logs = tmp_path / "logs"
    logs.mkdir()

    kills = finished_early = 0
    corrupt_seen = 0
    committed_at_kill: list[int] = []
    run = 0
    while kills < kills_wanted:
        log = logs / f"backfill-{run}.log"
        process = _backfill(tmp_path, log, last_day)
        run += 1
        # Start-up takes seconds and is not where crashes hurt: aim past it, into the work,
        # at a moment relative to this run's progress (a fixed delay would let the later,
        # shorter reruns finish before it).
        _wait_for_work(process, log, started=rng.randint(1, 2))
        time.sleep(rng.uniform(0.0, 0.8))
        if process.poll() is not None:
            finished_early += 1
            break
        os.killpg(process.pid, signal.SIGKILL)  # the group we started: CLI, fork server, workers
        process.wait(timeout=30)
        kills += 1
        midway = audit_partitions(tmp_path / "output", "trips", landed)
        corrupt_seen += midway.corrupt
        committed_at_kill.append(midway.partitions)

    final = _backfill(tmp_path, logs / f"backfill-{run}.log", last_day)
    exit_code = final.wait(timeout=600)
    audit = audit_partitions(tmp_path / "output", "trips", landed)
    all_logs = "\n".join(path.read_text(errors="replace") for path in sorted(logs.iterdir()))
    commits = commits_per_partition(all_logs, "trips")
    record(
        "crash-sigkill-backfill",
        seed=seed,
        kills=kills,
        runs=run + 1,
        finished_before_kill=finished_early,
        committed_when_killed=committed_at_kill,
        partitions=audit.partitions,
        rows_per_partition=rows,
        corrupt=audit.corrupt + corrupt_seen,
        lost=audit.lost,
        double_commits=sum(1 for count in commits.values() if count > 1),
        commits_logged=sum(commits.values()),
        orphan_files=audit.orphans,
    )
    assert exit_code == 0, f"the final backfill failed; log {logs}"
    assert corrupt_seen == 0, "a kill left a manifest naming incomplete files"
    assert audit.problems == []
    assert (audit.partitions, audit.corrupt, audit.lost) == (days, 0, 0)
    # A kill between a commit and its log line leaves that commit unlogged (the rerun then
    # skips the day): at most one logged commit per day, never two.
    assert max(commits.values()) == 1, f"committed more than once: {commits}"
