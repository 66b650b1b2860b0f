"""Writer schemas of Pub/Sub schema revisions, fetched from the Schema service once each.

A message published to a topic bound to a schema carries ``googclient_schemaname`` and
``googclient_schemarevisionid``: the revision that validated it, which is the schema its
producer wrote with. Before such a message is decoded, its revision's definition is
fetched (``GetSchema`` on ``<schema name>@<revision id>``) in a thread and kept for the
life of the process; revisions are immutable, so the cache never goes stale. The decoder
then resolves that writer schema against ours (:func:`worker.events.decode`).

A revision the service does not have (or will not show) is remembered as unknown and the
message is read with our schema; a transient service error is a
:class:`TransientBrokerError`, so the message is nacked and retried. Google's errors end here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from faststream_gcp_pubsub.errors import TransientBrokerError
from worker.errors import SchemaError
from worker.events.wire import PUBSUB_SCHEMA_NAME, PUBSUB_SCHEMA_REVISION

Fetch = Callable[[str], str | None]
"""``<schema name>@<revision id>`` → the revision's Avro definition, or None if unknown."""


class SchemaRevisions:
    """The writer schemas this process has met, by ``<schema name>@<revision id>``."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._known: dict[str, dict[str, Any]] = {}
        self._unknown: set[str] = set()

    @property
    def known(self) -> Mapping[str, Mapping[str, Any]]:
        return self._known

    async def prepare(self, attributes: Mapping[str, str]) -> None:
        """Make sure the revision ``attributes`` name (if any) has been looked up."""
        name, revision = attributes.get(PUBSUB_SCHEMA_NAME), attributes.get(PUBSUB_SCHEMA_REVISION)
        if not name or not revision:
            return
        key = f"{name}@{revision}"
        if key in self._known or key in self._unknown:
            return
        definition = await asyncio.to_thread(self._fetch, key)
        if definition is None:
            self._unknown.add(key)
            return
        try:
            self._known[key] = json.loads(definition)
        except ValueError as error:
            raise SchemaError(
                f"schema revision {key} is not valid JSON: {error}", where=PUBSUB_SCHEMA_NAME
            ) from error


def schema_service_fetch(emulator_host: str | None) -> Fetch:
    """A :data:`Fetch` over Google's Schema service (the emulator's when ``emulator_host``)."""
    client: list[Any] = []

    def fetch(key: str) -> str | None:
        from google.api_core import exceptions as google

        if not client:
            client.append(schema_service_client(emulator_host))
        try:
            schema = client[0].get_schema(request={"name": key})
        except (google.NotFound, google.PermissionDenied, google.MethodNotImplemented):
            return None
        except google.GoogleAPIError as error:
            raise TransientBrokerError(
                f"cannot fetch schema revision {key}: {type(error).__name__}: {error}",
                where="Pub/Sub schema service",
            ) from None
        definition: str = schema.definition
        return definition

    return fetch


def schema_service_client(emulator_host: str | None) -> Any:
    """Google's SchemaServiceClient; plaintext gRPC to ``emulator_host`` when given."""
    from google.pubsub_v1 import SchemaServiceClient

    if not emulator_host:
        return SchemaServiceClient()
    # grpcio ships no type information and the project pins no stubs for it.
    import grpc  # type: ignore[import-untyped]
    from google.pubsub_v1.services.schema_service.transports import SchemaServiceGrpcTransport

    channel = grpc.insecure_channel(emulator_host)
    return SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))


def no_fetch(key: str) -> str | None:
    """For brokers without a Schema service (the in-memory one)."""
    return None
