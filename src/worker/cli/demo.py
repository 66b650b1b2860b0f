"""``worker demo``: run the whole product locally, once, and show what happened."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from worker.cli.common import register_command, worker_command
from worker.cli.render import STATUS_STYLES, console
from worker.devenv.demo import (
    DEFAULT_TIMEOUT_S,
    DEFAULT_WORKDIR,
    DemoOptions,
    DemoSummary,
    first_completions,
    run_demo,
)
from worker.devenv.demo_plan import build_plan
from worker.errors import WorkerError
from worker.settings import Settings

ASYNCAPI_HINT = "not generated yet: `worker docs gen` writes asyncapi/index.html"


def _files_table(summary: DemoSummary) -> Table:
    table = Table(title="Files landed, against the plan", title_justify="left")
    for name in ("object", "role", "expected", "outcome", ""):
        table.add_column(name)
    for verdict in summary.verdicts:
        planned = verdict.planned
        expected = planned.expect + (f" ({planned.reason})" if planned.reason else "")
        mark = Text("ok", style="green") if verdict.ok else Text("WRONG", style="bold red")
        table.add_row(planned.name, planned.role, expected, verdict.outcome, mark)
    return table


def _partitions_table(summary: DemoSummary) -> Table:
    table = Table(title="Partitions (from partition-completed events)", title_justify="left")
    for name, justify in (
        ("dataset", "left"),
        ("partition", "left"),
        ("status", "left"),
        ("rows in", "right"),
        ("rows out", "right"),
        ("quarantined", "right"),
        ("run id", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in first_completions(summary.completions):
        table.add_row(
            c.dataset,
            c.partition.isoformat(),
            Text(c.status, style=STATUS_STYLES.get(c.status, "")),
            str(c.rows_in),
            str(c.rows_out),
            str(c.rows_quarantined),
            c.run_id,
        )
    return table


def _dead_letters_table(summary: DemoSummary) -> Table:
    table = Table(title="Dead letters (from the -dlq-keep subscriptions)", title_justify="left")
    for name in ("object", "reason", "error", "message"):
        table.add_column(name)
    landing = summary.landing_uri.rstrip("/") + "/"
    for d in summary.dead_letters:
        shown = d.uri.removeprefix(landing) if d.uri else "?"
        table.add_row(shown, Text(d.reason, style="yellow"), d.error_type, d.message)
    return table


def render_summary(out: Console, summary: DemoSummary) -> None:
    out.print(_files_table(summary))
    out.print(_partitions_table(summary))
    out.print(_dead_letters_table(summary))
    completions = first_completions(summary.completions)
    rows = [
        ("mode", summary.mode + (f" ({summary.note})" if summary.note else "")),
        ("partitions committed", str(sum(c.status == "committed" for c in completions))),
        (
            "rows in / out / quarantined",
            " / ".join(
                str(sum(getattr(c, f) for c in completions))
                for f in ("rows_in", "rows_out", "rows_quarantined")
            ),
        ),
        ("completion events received", str(len(summary.completions))),
        ("dead letters", str(len(summary.dead_letters))),
        ("landing", summary.landing_uri),
        ("output", summary.output_uri),
        (
            "AsyncAPI page",
            f"{summary.asyncapi_page} (or `worker docs serve`)"
            if summary.asyncapi_page
            else ASYNCAPI_HINT,
        ),
        ("logs", str(summary.logs)),
        (
            "processes started and stopped",
            ", ".join(f"{name} (pid {pid})" for name, pid in summary.processes.items()) or "none",
        ),
        ("total time", f"{summary.elapsed_s:.1f} s"),
    ]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for label, value in rows:
        facts.add_row(label, value)
    out.print(facts)
    failure = summary.failure()
    if failure is None:
        out.print(Text("demo passed: every file had the expected outcome", style="bold green"))
    else:
        out.print(Text(f"demo FAILED: {failure}", style="bold red"))


@worker_command
def demo(
    settings: Settings,
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Demo directory (emptied first): output and logs.")
    ] = DEFAULT_WORKDIR,
    no_emulators: Annotated[
        bool,
        typer.Option(
            "--no-emulators",
            help="Use the in-memory broker and a local directory even if the emulator exists.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1.0, help="Seconds to wait for every file's outcome."),
    ] = DEFAULT_TIMEOUT_S,
    rows_per_day: Annotated[
        int, typer.Option("--rows-per-day", min=10, help="Rows in each day's trips file.")
    ] = 2000,
    json_summary: Annotated[
        Path | None, typer.Option("--json-summary", help="Also write the summary as JSON here.")
    ] = None,
    pid_file: Annotated[
        Path | None,
        typer.Option("--pid-file", help="Keep the PIDs of started processes in this JSON file."),
    ] = None,
) -> None:
    """Run the worker end to end on this machine: emulators, upload, events, summary.

    Landing and output are the demo's own, under --workdir; without Google's Pub/Sub
    emulator (or with --no-emulators or WORKER_BROKER=memory) the service runs in this
    process on the in-memory broker."""
    err = console(stderr=True)
    started = time.monotonic()

    def progress(line: str) -> None:
        err.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {line}", highlight=False)

    options = DemoOptions(
        workdir=workdir,
        use_emulators=not no_emulators,
        timeout_s=timeout,
        plan=build_plan(rows_per_day=rows_per_day),
        pid_file=pid_file,
    )
    summary = run_demo(settings, options, progress=progress)
    if json_summary is not None:
        json_summary.parent.mkdir(parents=True, exist_ok=True)
        json_summary.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
    render_summary(console(), summary)
    if summary.error is not None:
        raise summary.error
    failure = summary.failure()
    if failure is not None:
        raise WorkerError(failure, where="worker demo")


def register(app: typer.Typer) -> None:
    register_command(app, "demo", demo)
