"""Register our Avro schemas with Pub/Sub's schema service, commit new revisions, and bind
topics to them, where the endpoint has a schema service.

Schemas are registered as ``<event-type>-v<version>`` (e.g. ``partition-completed-v1``).
When one exists but its latest revision differs from our definition (say a field with a
default was added to the ``.avsc``), our definition is committed as a new revision, so
messages written with either revision stay valid on a topic that accepts both. Binding
(``worker setup --bind-topics``) sets a topic's schema settings: ``file-arrived`` is never
bound, since it carries Cloud Storage's JSON notifications that no Avro schema admits; the
others are bound with ``BINARY`` encoding, which the worker's own publishing must then
use (``WORKER_EVENT_ENCODING=avro``). Google's emulator implements all of this; an endpoint
that does not is reported ``unsupported`` per schema and setup goes on. This is the adapter
for that API: Google's errors end here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from worker.events.schemas import EVENT_TYPES, latest_version, load_schema
from worker.service.schema_revisions import schema_service_client

SchemaStatus = Literal[
    "created",
    "exists",
    "committed",
    "bound",
    "would create",
    "would commit",
    "would bind",
    "unsupported",
    "failed",
]


@dataclass(frozen=True, slots=True)
class SchemaOutcome:
    resource: str
    """``schema <id>`` or ``topic <name>`` (a binding)."""
    status: SchemaStatus
    detail: str = ""


def schema_id(event_type: str, version: int) -> str:
    return f"{event_type}-v{version}"


def register_schemas(
    project: str, *, dry_run: bool, emulator_host: str | None = None
) -> list[SchemaOutcome]:
    """Create each event's current Avro schema, or commit it as a new revision when the
    latest one differs (blocking; run in a thread)."""
    from google.api_core import exceptions as google_exceptions

    wanted = [(event_type, latest_version(event_type)) for event_type in EVENT_TYPES]
    try:
        client: Any = schema_service_client(emulator_host)
    except google_exceptions.GoogleAPIError as error:
        detail = f"cannot reach the schema service: {error}"
        return [SchemaOutcome(f"schema {schema_id(*item)}", "failed", detail) for item in wanted]
    outcomes: list[SchemaOutcome] = []
    try:
        for event_type, version in wanted:
            name = schema_id(event_type, version)
            definition = load_schema(event_type, version)
            try:
                outcomes.append(_ensure_schema(client, project, name, definition, dry_run))
            except (google_exceptions.MethodNotImplemented, google_exceptions.Unknown) as error:
                outcomes.append(SchemaOutcome(f"schema {name}", "unsupported", _first_line(error)))
            except google_exceptions.GoogleAPIError as error:
                outcomes.append(SchemaOutcome(f"schema {name}", "failed", _first_line(error)))
    finally:
        client.transport.close()
    return outcomes


def _ensure_schema(
    client: Any, project: str, name: str, definition: Mapping[str, Any], dry_run: bool
) -> SchemaOutcome:
    from google.api_core import exceptions as google_exceptions
    from google.pubsub_v1.types import Schema

    path = client.schema_path(project, name)
    resource = f"schema {name}"
    text = json.dumps(definition)
    try:
        latest = client.get_schema(request={"name": path})
    except google_exceptions.NotFound:
        latest = None
    if latest is not None:
        if json.loads(latest.definition) == definition:
            return SchemaOutcome(resource, "exists", f"revision {latest.revision_id}")
        if dry_run:
            return SchemaOutcome(resource, "would commit", f"over revision {latest.revision_id}")
        schema = Schema(name=path, type_=Schema.Type.AVRO, definition=text)
        committed = client.commit_schema(request={"name": path, "schema": schema})
        return SchemaOutcome(
            resource, "committed", f"revision {committed.revision_id} over {latest.revision_id}"
        )
    if dry_run:
        return SchemaOutcome(resource, "would create")
    try:
        created = client.create_schema(
            request={
                "parent": f"projects/{project}",
                "schema_id": name,
                "schema": Schema(name=path, type_=Schema.Type.AVRO, definition=text),
            }
        )
    except google_exceptions.AlreadyExists:
        return SchemaOutcome(resource, "exists")
    return SchemaOutcome(resource, "created", f"revision {created.revision_id}")


def bind_topics(
    project: str,
    topics: Mapping[str, str],
    *,
    dry_run: bool,
    emulator_host: str | None = None,
) -> list[SchemaOutcome]:
    """Bind each topic (name → event type) to that event's current schema, BINARY encoded,
    accepting every revision; a topic bound to another schema is left alone and reported."""
    from google.api_core import exceptions as google_exceptions
    from google.pubsub_v1 import PublisherClient
    from google.pubsub_v1.types import Encoding

    publisher: Any = _publisher(emulator_host) if emulator_host else PublisherClient()
    outcomes: list[SchemaOutcome] = []
    try:
        for topic, event_type in topics.items():
            resource = f"topic {topic}"
            schema = (
                f"projects/{project}/schemas/{schema_id(event_type, latest_version(event_type))}"
            )
            path = publisher.topic_path(project, topic)
            try:
                current = publisher.get_topic(request={"topic": path}).schema_settings.schema
                if current == schema:
                    outcomes.append(SchemaOutcome(resource, "exists", f"bound to {schema}"))
                elif current:
                    detail = f"bound to {current}, not {schema}: left as it is"
                    outcomes.append(SchemaOutcome(resource, "failed", detail))
                elif dry_run:
                    outcomes.append(SchemaOutcome(resource, "would bind", schema))
                else:
                    settings = {"schema": schema, "encoding": Encoding.BINARY}
                    publisher.update_topic(
                        request={
                            "topic": {"name": path, "schema_settings": settings},
                            "update_mask": {"paths": ["schema_settings"]},
                        }
                    )
                    outcomes.append(SchemaOutcome(resource, "bound", f"{schema} (BINARY)"))
            except (google_exceptions.MethodNotImplemented, google_exceptions.Unknown) as error:
                outcomes.append(SchemaOutcome(resource, "unsupported", _first_line(error)))
            except google_exceptions.GoogleAPIError as error:
                outcomes.append(SchemaOutcome(resource, "failed", _first_line(error)))
    finally:
        publisher.transport.close()
    return outcomes


def _publisher(emulator_host: str) -> Any:
    # grpcio ships no type information and the project pins no stubs for it.
    import grpc  # type: ignore[import-untyped]
    from google.pubsub_v1 import PublisherClient
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

    channel = grpc.insecure_channel(emulator_host)
    return PublisherClient(transport=PublisherGrpcTransport(channel=channel))


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
