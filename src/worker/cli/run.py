"""``worker run``: compute one partition, from one day's arrivals or from named inputs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from worker.cli.common import register_command, worker_command
from worker.cli.render import console, print_json, quality_table, status_text
from worker.core.model import PartitionResult, PartitionTask, Ports
from worker.core.partitions import parse_date
from worker.core.quality import CheckOutcome
from worker.errors import ConfigurationError, InputNotFoundError, QualityError, WorkerError
from worker.settings import Settings
from worker.storage.uris import parse_uri, require_within


def resolve_inputs(ports: Ports, inputs: list[str]) -> list[str]:
    """Canonical URIs of ``--input`` values: inside the landing root, and existing."""
    resolved = []
    for given in inputs:
        uri = str(parse_uri(given))
        require_within(uri, ports.landing_uri, what="--input")
        if ports.storage.stat(uri) is None:
            raise InputNotFoundError("input does not exist", where=uri)
        resolved.append(uri)
    return resolved


def partition_of_inputs(ports: Ports, dataset: str, inputs: list[str]) -> date:
    """The one partition date the inputs belong to, by the dataset's naming rule."""
    days = set()
    for uri in inputs:
        matched = ports.registry.match(uri, ports.landing_uri)
        if matched is None:
            raise ConfigurationError(
                "cannot tell the partition date: the input matches no dataset's naming rule; "
                "pass --date",
                where=uri,
            )
        owner, day = matched
        if owner.name != dataset:
            raise ConfigurationError(
                f"input belongs to dataset {owner.name!r}, not {dataset!r}", where=uri
            )
        days.add(day)
    if len(days) > 1:
        listed = ", ".join(sorted(day.isoformat() for day in days))
        raise ConfigurationError(f"inputs span several partitions ({listed}); pass --date")
    return days.pop()


def print_result(result: PartitionResult) -> None:
    out = console()
    out.print(status_text(result.status), f"{result.dataset} {result.partition.isoformat()}")
    out.print(
        f"  rows       in {result.rows_in}, out {result.rows_out}, "
        f"quarantined {result.rows_quarantined}"
    )
    out.print(f"  run id     {result.run_id}")
    out.print(f"  partition  {result.partition_uri}")
    if result.reason:
        out.print(f"  why        {result.reason}")
    if result.quality:
        out.print(quality_table(result.quality))


@worker_command
def run(
    settings: Settings,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Registered dataset name.")],
    day: Annotated[
        str | None, typer.Option("--date", help="Partition date, YYYY-MM-DD.", show_default=False)
    ] = None,
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="Input URI under the landing root (repeatable). Without --date the "
            "partition date comes from the dataset's naming rule.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Recompute even when already committed.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would run and why; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compute one partition (every file that arrived for the day, or just --input)."""
    if day is None and not inputs:
        raise ConfigurationError("pass --date, --input or both", where="worker run")
    partition = parse_date(day, what="--date") if day is not None else None
    from worker.core.pipeline import process_partition
    from worker.runtime import build_ports

    ports = build_ports(settings)
    ports.registry.get(dataset)
    explicit = resolve_inputs(ports, inputs) if inputs else None
    if partition is None:
        partition = partition_of_inputs(ports, dataset, explicit or [])
    task = PartitionTask(
        dataset=dataset,
        partition=partition,
        inputs=explicit,
        force=force,
        dry_run=dry_run,
        trigger="cli",
    )
    try:
        result = process_partition(task, ports)
    except QualityError as exc:
        # The report says which checks failed and by how much; stderr keeps --json clean.
        report = [item for item in exc.report if isinstance(item, CheckOutcome)]
        console(stderr=True).print(quality_table(report, "partition checks (partition failed)"))
        raise
    if as_json:
        print_json(result)
    else:
        print_result(result)
    if result.status == "failed":
        raise WorkerError(
            f"partition failed: {result.reason or 'no reason given'}",
            where=result.partition_uri,
        )


def register(app: typer.Typer) -> None:
    register_command(app, "run", run)
