"""Register our Avro schemas with Pub/Sub's schema service, where the endpoint has one.

Schemas are registered as ``<event-type>-v<version>`` (e.g. ``partition-completed-v1``)
so operators can bind a topic to them. ``worker setup`` does not bind topics itself:
``file-arrived`` carries Cloud Storage's JSON notifications, which no Avro schema admits,
and binding the others would force every producer to Avro. Google's emulator (as
installed here) implements the schema service; an endpoint that does not is reported
``unsupported`` per schema and setup goes on. This is the adapter for that API: Google's
errors end here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from worker.events.schemas import EVENT_TYPES, latest_version, load_schema

SchemaStatus = Literal["created", "exists", "would create", "unsupported", "failed"]


@dataclass(frozen=True, slots=True)
class SchemaOutcome:
    schema_id: str
    status: SchemaStatus
    detail: str = ""


def schema_id(event_type: str, version: int) -> str:
    return f"{event_type}-v{version}"


def register_schemas(project: str, *, dry_run: bool) -> list[SchemaOutcome]:
    """Create each event's current Avro schema unless it exists (blocking; run in a thread)."""
    from google.api_core import exceptions as google_exceptions
    from google.pubsub_v1 import SchemaServiceClient
    from google.pubsub_v1.types import Schema

    wanted = [(event_type, latest_version(event_type)) for event_type in EVENT_TYPES]
    try:
        client: Any = SchemaServiceClient()
    except google_exceptions.GoogleAPIError as error:
        detail = f"cannot reach the schema service: {error}"
        return [SchemaOutcome(schema_id(*item), "failed", detail) for item in wanted]
    outcomes: list[SchemaOutcome] = []
    try:
        for event_type, version in wanted:
            name = schema_id(event_type, version)
            path = client.schema_path(project, name)
            try:
                client.get_schema(request={"name": path})
                outcomes.append(SchemaOutcome(name, "exists"))
                continue
            except google_exceptions.NotFound:
                pass
            except (google_exceptions.MethodNotImplemented, google_exceptions.Unknown) as error:
                outcomes.append(SchemaOutcome(name, "unsupported", _first_line(error)))
                continue
            if dry_run:
                outcomes.append(SchemaOutcome(name, "would create"))
                continue
            definition = json.dumps(load_schema(event_type, version))
            try:
                client.create_schema(
                    request={
                        "parent": f"projects/{project}",
                        "schema_id": name,
                        "schema": Schema(name=path, type_=Schema.Type.AVRO, definition=definition),
                    }
                )
                outcomes.append(SchemaOutcome(name, "created"))
            except google_exceptions.AlreadyExists:
                outcomes.append(SchemaOutcome(name, "exists"))
            except (google_exceptions.MethodNotImplemented, google_exceptions.Unknown) as error:
                outcomes.append(SchemaOutcome(name, "unsupported", _first_line(error)))
            except google_exceptions.GoogleAPIError as error:
                outcomes.append(SchemaOutcome(name, "failed", _first_line(error)))
    except google_exceptions.GoogleAPIError as error:
        done = {outcome.schema_id for outcome in outcomes}
        outcomes += [
            SchemaOutcome(schema_id(*item), "failed", _first_line(error))
            for item in wanted
            if schema_id(*item) not in done
        ]
    finally:
        client.transport.close()
    return outcomes


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
