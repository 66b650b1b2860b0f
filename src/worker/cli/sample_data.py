"""``worker sample-data``: write generated input files into the landing root."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from worker.cli.common import register_command, worker_command
from worker.cli.render import console, print_json
from worker.core.partitions import parse_date
from worker.errors import ConfigurationError
from worker.settings import Settings

SAMPLE_MODULE = "worker.datasets.{name}"
"""A shipped dataset offers sample data by defining ``write_sample_data`` in its module."""


@worker_command
def sample_data(
    settings: Settings,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Shipped dataset name.")],
    start_date: Annotated[str, typer.Option("--start-date", help="First day, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option("--days", min=1, max=3660, help="How many days.")] = 7,
    rows_per_day: Annotated[
        int, typer.Option("--rows-per-day", min=0, help="Rows in each day's file.")
    ] = 1000,
    bad_row_fraction: Annotated[
        float,
        typer.Option(
            "--bad-row-fraction", min=0.0, max=1.0, help="Share of rows that break the contract."
        ),
    ] = 0.01,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print written URIs as JSON.")] = False,
) -> None:
    """Generate input files for a shipped dataset under the landing root."""
    start = parse_date(start_date, what="--start-date")
    from worker.runtime import build_ports

    ports = build_ports(settings)
    ports.registry.get(dataset)
    try:
        module = importlib.import_module(SAMPLE_MODULE.format(name=dataset))
        writer = module.write_sample_data
    except (ImportError, AttributeError):
        raise ConfigurationError(
            f"dataset {dataset!r} ships no sample-data generator", where="worker sample-data"
        ) from None
    written: list[str] = writer(
        ports.storage, ports.landing_uri, start, days, rows_per_day, bad_row_fraction, seed=seed
    )
    if as_json:
        print_json(written)
        return
    out = console()
    for uri in written:
        out.print(uri)
    out.print(f"wrote {len(written)} files for {dataset} under {ports.landing_uri}")


def register(app: typer.Typer) -> None:
    register_command(app, "sample-data", sample_data)
