"""``worker backfill``: plan and run a date range, resumable, sharded across Cloud Run tasks."""

from __future__ import annotations

import functools
import getpass
import os
from typing import Annotated

import typer

from worker.cli.backfill_record import announce, note_outcome, open_record, shared_backfill_id
from worker.cli.common import register_command, worker_command
from worker.cli.render import backfill_progress, console, plan_table, print_json, summary_table
from worker.core.backfill import (
    BackfillProgress,
    BackfillSummary,
    Checkpoint,
    checkpoint_path,
    prestart_workers,
    run_backfill,
)
from worker.core.partitions import (
    PlannedPartition,
    date_range,
    parse_date,
    parse_mode,
    parse_shard,
    plan_backfill,
    shard,
)
from worker.errors import PartialFailureError
from worker.settings import Settings

MAX_LISTED_FAILURES = 10
"""The error line names this many failed partitions; the table above it lists them all."""


def failure_error(summary: BackfillSummary, dataset: str) -> PartialFailureError:
    failed = summary.failed
    listed = ", ".join(
        f"{outcome.partition.isoformat()} ({outcome.error_type})"
        for outcome in failed[:MAX_LISTED_FAILURES]
    )
    more = (
        f" and {len(failed) - MAX_LISTED_FAILURES} more"
        if len(failed) > MAX_LISTED_FAILURES
        else ""
    )
    return PartialFailureError(
        f"{len(failed)} of {len(summary.outcomes)} partitions failed: {listed}{more}; "
        "fix the inputs and rerun with --mode failed",
        where=f"dataset {dataset}",
    )


def plan_payload(plan: list[PlannedPartition], shard_of: tuple[int, int]) -> dict[str, object]:
    return {
        "task_index": shard_of[0],
        "task_count": shard_of[1],
        "partitions": [
            {
                "partition": item.partition,
                "runs": item.runs,
                "force": item.force,
                "why": item.reason,
            }
            for item in plan
        ],
    }


@worker_command
def backfill(
    settings: Settings,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Registered dataset name.")],
    start_date: Annotated[str, typer.Option("--start-date", help="First day, YYYY-MM-DD.")],
    end_date: Annotated[str, typer.Option("--end-date", help="Last day (included).")],
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="missing: no committed manifest; failed: last attempt failed; all: every day.",
        ),
    ] = "missing",
    parallel: Annotated[int, typer.Option("--parallel", "-p", min=1, help="Worker processes.")] = 1,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print which partitions would run, and why.")
    ] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Ignore the checkpoint of an interrupted run.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print plan/summary as JSON.")] = False,
) -> None:
    """Recompute a date range. Honors CLOUD_RUN_TASK_INDEX/COUNT: each task takes its share."""
    start = parse_date(start_date, what="--start-date")
    end = parse_date(end_date, what="--end-date")
    date_range(start, end)  # refuse a reversed range before touching storage
    chosen_mode = parse_mode(mode)
    shard_of = parse_shard(
        os.environ.get("CLOUD_RUN_TASK_INDEX"), os.environ.get("CLOUD_RUN_TASK_COUNT")
    )
    if not dry_run:
        prestart_workers(parallel)
    from worker.core.load import partition_state
    from worker.runtime import build_ports, configure, state_dir

    ports = build_ports(settings)
    ports.registry.get(dataset)
    whole = plan_backfill(
        dataset,
        start,
        end,
        chosen_mode,
        lambda day: partition_state(ports.storage, ports.output_uri, dataset, day),
    )
    plan = shard(whole, *shard_of)
    out = console()
    share = f"task {shard_of[0]} of {shard_of[1]}: " if shard_of[1] > 1 else ""
    runs = sum(item.runs for item in plan)
    if dry_run:
        if as_json:
            print_json(plan_payload(plan, shard_of))
            return
        out.print(plan_table(plan, f"{share}{runs} of {len(plan)} partitions would run"))
        return

    checkpoint_file = checkpoint_path(
        state_dir(settings),
        dataset=dataset,
        start=start,
        end=end,
        mode=chosen_mode,
        output_uri=settings.output_uri,
        shard=shard_of,
    )
    if fresh:
        checkpoint_file.unlink(missing_ok=True)
    checkpoint = Checkpoint.open(checkpoint_file)
    own_id = checkpoint.backfill_id
    checkpoint.backfill_id = shared_backfill_id(own_id)
    backfill_id = checkpoint.backfill_id
    open_record(
        ports,
        backfill_id=backfill_id,
        dataset=dataset,
        start=start,
        end=end,
        mode=chosen_mode,
        # Tasks sharing an id share the record of the whole range; a task on its own
        # records only its share, or the record would wait for the others forever.
        whole_plan=whole if backfill_id != own_id else plan,
        requested_by=_operator(),
    )
    with backfill_progress(console(stderr=True), f"{share}{dataset}") as show_progress:

        def on_progress(event: BackfillProgress) -> None:
            if event.outcome is not None:
                note_outcome(ports, dataset, backfill_id, event.outcome)
            show_progress(event)

        summary = run_backfill(
            plan,
            ports_factory=functools.partial(build_ports, settings),
            parallel=parallel,
            checkpoint=checkpoint,
            on_progress=on_progress,
            child_setup=functools.partial(configure, settings),
        )
    for outcome in summary.outcomes:
        if outcome.resumed:  # finished by an interrupted earlier invocation
            note_outcome(ports, dataset, backfill_id, outcome)
    announced = announce(
        settings,
        ports,
        dataset,
        backfill_id,
        warn=lambda text: console(stderr=True).print(f"warning: {text}"),
    )
    if announced is not None and not as_json:
        completion, published = announced
        where = f"announced on {settings.topics.backfill_completed}" if published else "recorded"
        out.print(
            f"backfill {backfill_id} completed: {completion.committed} committed, "
            f"{completion.failed} failed, {completion.skipped} skipped ({where})"
        )
    if as_json:
        print_json(summary)
    else:
        resumed = sum(outcome.resumed for outcome in summary.outcomes)
        title = (
            f"{share}backfill {summary.backfill_id}: {len(summary.outcomes) - resumed} ran, "
            f"{resumed} done earlier, {len(summary.failed)} failed, "
            f"{len(summary.not_run)} skipped by plan"
        )
        out.print(summary_table(summary, title))
    if summary.failed:
        raise failure_error(summary, dataset)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def register(app: typer.Typer) -> None:
    register_command(app, "backfill", backfill)
