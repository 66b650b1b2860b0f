"""``worker publish``: trigger processing by hand with our own events.

On Pub/Sub (``WORKER_BROKER=pubsub``) the event is published to its topic and the message
id printed; a running ``worker serve`` picks it up. On the in-memory broker nothing outlives
the process, so the command starts the service in-process, publishes, waits until every
message it set off is settled, and prints the completions and fates too.
"""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated, Literal

import typer

from worker.cli.common import command_group, register_command, worker_command
from worker.cli.render import console, status_text
from worker.core.partitions import BACKFILL_MODES, parse_date, parse_mode
from worker.errors import InputNotFoundError
from worker.events import Event
from worker.settings import Settings

Encoding = Literal["json", "avro"]
IN_PROCESS_TIMEOUT_S = 600.0


def _with_encoding(settings: Settings, encoding: Encoding | None) -> Settings:
    return settings.model_copy(update={"event_encoding": encoding}) if encoding else settings


def _announce(settings: Settings, event: Event, topic: str, *, quiet: bool = False) -> None:
    """Publish ``event`` to ``topic`` on the configured broker and print what happened."""
    from faststream_gcp_pubsub import PubSubBroker
    from worker.service.app import build_service
    from worker.service.publishing import publish_event

    async def publish(broker: PubSubBroker) -> str:
        return await publish_event(broker, event, settings.event_encoding, topic=topic)

    async def on_pubsub() -> str:
        broker = PubSubBroker(project=settings.project)
        try:
            await broker.connect()
            return await publish(broker)
        finally:
            await broker.stop()

    async def in_process() -> str:
        service = build_service(settings)
        async with service.running():
            message_id = await publish(service.broker)
            await service.wait_idle(timeout_s=IN_PROCESS_TIMEOUT_S)
        if quiet:
            return message_id
        out = console()
        for completed in service.completions:
            out.print(
                status_text("committed"),
                f"{completed.dataset} {completed.partition_date.isoformat()} "
                f"run {completed.run_id} ({completed.rows_out} rows)",
            )
        for record in service.fates:
            out.print(
                f"  {record.subscription} message {record.message_id}: {record.fate} "
                f"({record.reason})"
            )
        return message_id

    message_id = asyncio.run(in_process() if settings.broker == "memory" else on_pubsub())
    if not quiet:
        console().print(f"published {event.event_type} to {topic}: message id {message_id}")


@worker_command
def file_arrived(
    settings: Settings,
    uri: Annotated[str, typer.Option("--uri", help="gs://bucket/object or a local path.")],
    generation: Annotated[
        int | None,
        typer.Option(
            "--generation",
            help="Object generation; read from storage when omitted.",
            show_default=False,
        ),
    ] = None,
    encoding: Annotated[
        Encoding | None,
        typer.Option("--encoding", help="json or avro (default WORKER_EVENT_ENCODING)."),
    ] = None,
) -> None:
    """Announce a file as arrived (our own file-arrived event)."""
    from worker.runtime import utc_now
    from worker.service.publishing import file_arrived_event
    from worker.storage.router import StorageRouter

    settings = _with_encoding(settings, encoding)
    size: int | None = None
    if generation is None:
        storage = StorageRouter(project=settings.project)
        try:
            info = storage.stat(uri)
        finally:
            storage.close()
        if info is None:
            raise InputNotFoundError("cannot announce a file that does not exist", where=uri)
        generation, size = info.generation, info.size
    event = file_arrived_event(uri, generation=generation, size=size, event_time=utc_now())
    _announce(settings, event, settings.topics.file_arrived)


@worker_command
def backfill(
    settings: Settings,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Registered dataset name.")],
    start_date: Annotated[str, typer.Option("--start-date", help="First day, YYYY-MM-DD.")],
    end_date: Annotated[str, typer.Option("--end-date", help="Last day (included).")],
    mode: Annotated[
        str, typer.Option("--mode", help=f"Which partitions: {', '.join(BACKFILL_MODES)}.")
    ] = "missing",
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept on every request).")
    ] = None,
    encoding: Annotated[
        Encoding | None,
        typer.Option("--encoding", help="json or avro (default WORKER_EVENT_ENCODING)."),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Follow the backfill until backfill-completed arrives: exit 0 all "
            "committed, 2 some failed, 1 no completion within --timeout.",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds --wait waits at most.")
    ] = 3600.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --wait: print the completion as JSON.")
    ] = False,
) -> None:
    """Request a backfill: the service fans it out, one partition per message."""
    from worker.runtime import utc_now
    from worker.service.publishing import backfill_event

    settings = _with_encoding(settings, encoding)
    event = backfill_event(
        dataset,
        parse_date(start_date, what="--start-date"),
        parse_date(end_date, what="--end-date"),
        mode=parse_mode(mode),
        reason=reason,
        requested_by=_operator(),
        requested_at=utc_now(),
    )
    if not as_json:
        console().print(f"backfill id {event.backfill_id}")
    topic = settings.topics.backfill_requested
    if not wait:
        _announce(settings, event, topic)
        return
    from worker.cli.publish_wait import completion_of_claim, report, wait_on_pubsub

    if settings.broker == "memory":
        _announce(settings, event, topic, quiet=as_json)
        completion = completion_of_claim(settings, dataset, event.backfill_id)
    else:
        completion = wait_on_pubsub(
            settings,
            dataset,
            event.backfill_id,
            lambda: _announce(settings, event, topic, quiet=as_json),
            timeout_s=timeout,
        )
    report(completion, as_json=as_json)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def register(app: typer.Typer) -> None:
    publish_app = command_group(
        "publish", "Trigger processing by hand: publish a file-arrived or backfill-requested event."
    )
    register_command(publish_app, "file-arrived", file_arrived)
    register_command(publish_app, "backfill", backfill)
    app.add_typer(publish_app)
