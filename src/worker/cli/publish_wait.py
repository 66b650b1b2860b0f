"""``worker publish backfill --wait``: follow a backfill to its ``backfill-completed``.

The watch subscriptions exist before the request is published; a Rich progress bar (on a
terminal) advances with each ``partition-completed`` of the backfill, its total read from
the backfill's record in storage. Exit codes as ``worker backfill``: 0 every partition
committed or skipped, 2 some failed, 1 no completion within ``--timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from worker.cli.render import console, print_json
from worker.core.backfill_announce import BackfillCompletion, claim_uri, read_claim
from worker.core.backfill_record import read_record
from worker.errors import PartialFailureError, WorkerError
from worker.events import BackfillCompleted, PartitionCompleted, decode
from worker.settings import Settings

POLL_S = 1.0


def completion_of_claim(settings: Settings, dataset: str, backfill_id: str) -> BackfillCompletion:
    """In-process (memory broker) runs: the announced summary, read back from storage."""
    from worker.runtime import build_ports

    ports = build_ports(settings)
    found = read_claim(ports.storage, claim_uri(ports.output_uri, dataset, backfill_id))
    if found is None:
        raise WorkerError("the backfill did not complete", where=f"backfill {backfill_id}")
    return found[0].completion


def wait_on_pubsub(
    settings: Settings,
    dataset: str,
    backfill_id: str,
    publish: Callable[[], None],
    *,
    timeout_s: float,
) -> BackfillCompletion:
    """Watch, publish, then follow the backfill until its completion or ``timeout_s``."""
    from worker.ops.event_watch import EventWatch
    from worker.runtime import build_ports

    ports = build_ports(settings)
    topics = settings.topics
    with EventWatch(
        settings.project,
        [topics.partition_completed, topics.backfill_completed],
        emulator_host=settings.pubsub_emulator_host,
    ) as watch:
        publish()
        deadline = time.monotonic() + timeout_s
        out = console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(
            *columns, TimeElapsedColumn(), console=out, disable=not out.is_terminal
        ) as bar:
            task_id = bar.add_task(f"backfill {backfill_id}", total=None)
            seen: set[str] = set()
            while time.monotonic() < deadline:
                if bar.tasks[0].total is None:
                    record = read_record(ports.storage, ports.output_uri, dataset, backfill_id)
                    if record is not None:
                        bar.update(task_id, total=len(record.to_run()))
                for item in watch.pull():
                    if item.topic == topics.backfill_completed:
                        done = decode(item.data, item.attributes, BackfillCompleted)
                        if done.backfill_id == backfill_id:
                            bar.update(task_id, completed=done.planned - done.skipped)
                            return _completion(done)
                    else:
                        event = decode(item.data, item.attributes, PartitionCompleted)
                        if event.backfill_id == backfill_id:
                            seen.add(event.partition_date.isoformat())
                            bar.update(task_id, completed=len(seen))
                time.sleep(POLL_S)
    raise WorkerError(
        f"no backfill-completed within {timeout_s:g} s; `worker status --backfill-id "
        f"{backfill_id}` shows where it stands",
        where=f"backfill {backfill_id}",
    )


def _completion(event: BackfillCompleted) -> BackfillCompletion:
    return BackfillCompletion.model_validate(
        event.model_dump(exclude={"event_id", "worker_version"})
    )


def report(completion: BackfillCompletion, *, as_json: bool) -> None:
    """Print the outcome; PartialFailureError (exit 2) when a partition failed."""
    if as_json:
        print_json(completion)
    else:
        out = console()
        out.print(
            f"backfill {completion.backfill_id} completed: {completion.committed} committed, "
            f"{completion.failed} failed, {completion.skipped} skipped"
        )
        for failure in completion.failures:
            out.print(
                f"  {failure.partition_date.isoformat()}  {failure.reason}: {failure.message}"
            )
    if completion.failed:
        listed: list[Any] = [item.partition_date.isoformat() for item in completion.failures]
        raise PartialFailureError(
            f"{completion.failed} of {completion.planned} partitions failed: {', '.join(listed)}",
            where=f"backfill {completion.backfill_id}",
        )
