"""``worker datasets``: the registered datasets and their contracts."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from worker.cli.common import register_command, worker_command
from worker.cli.render import console, print_json
from worker.settings import Settings


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return "\n".join(json.dumps(item, sort_keys=True, default=str) for item in value)
    return json.dumps(value, sort_keys=True, default=str)


@worker_command
def datasets(
    settings: Settings,
    as_json: Annotated[bool, typer.Option("--json", help="Print the contracts as JSON.")] = False,
) -> None:
    """List registered datasets (shipped ones plus WORKER_DATASETS modules) with contracts."""
    from worker.core.datasets import load_registry

    registry = load_registry(settings.dataset_modules)
    described = [dataset.describe() for dataset in registry.all()]
    if as_json:
        print_json(described)
        return
    out = console()
    for dataset, details in zip(registry.all(), described, strict=True):
        table = Table(title=f"dataset {dataset.name}", title_justify="left", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for key, value in details.items():
            table.add_row(str(key), _cell(value))
        out.print(table)


def register(app: typer.Typer) -> None:
    register_command(app, "datasets", datasets)
