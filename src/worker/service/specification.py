"""The service's AsyncAPI 3.0 specification, carried by its FastStream app.

``worker docs gen``, ``faststream docs gen worker.service.app:app`` and the app's
``/docs/asyncapi`` page all read this one factory: FastStream's document of the broker
(descriptions as the service wrote them), the broker's ``googlepubsub`` channel bindings
(see ``faststream_gcp_pubsub.asyncapi``), plus what only the service knows:

* ``x-avro-schema`` on every message that is one of our events: the ``.avsc`` file of the
  Avro form, shipped beside the document;
* a stable order (servers, channels, operations, messages and schemas sorted by name), so
  the committed document can be compared with a fresh generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream_gcp_pubsub.asyncapi import PubSubAsyncAPI
from worker import __version__
from worker.events.models import EVENT_MODELS
from worker.events.schemas import schema_path

if TYPE_CHECKING:
    from collections.abc import Mapping

    from faststream.specification.base import Specification

TITLE = "worker"
DESCRIPTION = (
    "Google Cloud event-driven data worker. Files land in a bucket; a message says so; the "
    "worker turns that day's input into a validated, Hive-partitioned Parquet partition and "
    "announces it on `partition-completed`.\n\n"
    "Every message is JSON or Avro binary, told apart by its `content-type` attribute "
    "(`application/json` or `application/avro`, with `event-type` and `schema-version`); "
    "`file-arrived` also accepts Cloud Storage notifications and Eventarc CloudEvents. "
    "A message that can never succeed is republished, bytes and attributes unchanged plus "
    "`x-error-*` attributes, to the subscription's dead-letter topic; `worker dlq list` and "
    "`worker dlq replay` inspect and replay them."
)
AVRO_DIR = "schemas"
AVRO_EXTENSION = "x-avro-schema"
_MODELS_BY_SCHEMA_NAME = {model.__name__: model for model in EVENT_MODELS.values()}


class ServiceAsyncAPI(PubSubAsyncAPI):
    """Title ``worker``, the package version, the service description, AsyncAPI 3.0."""

    def __init__(self) -> None:
        super().__init__(
            title=TITLE, version=__version__, description=DESCRIPTION, schema_version="3.0.0"
        )

    def to_specification(self) -> Specification:
        specification: Any = super().to_specification()
        components = specification.components
        for message in (components.messages or {}).values():
            avro = avro_schema_of(message.payload)
            if avro is not None:
                setattr(message, AVRO_EXTENSION, avro)
        for name in ("servers", "channels", "operations"):
            setattr(specification, name, _by_name(getattr(specification, name)))
        for name in ("messages", "schemas"):
            setattr(components, name, _by_name(getattr(components, name)))
        result: Specification = specification
        return result


def avro_schema_of(payload: Mapping[str, Any]) -> str | None:
    """The relative path of the Avro schema of a payload that is one of our events."""
    reference = str(payload.get("$ref", ""))
    model = _MODELS_BY_SCHEMA_NAME.get(reference.rsplit("/", 1)[-1])
    if model is None:
        return None
    return f"{AVRO_DIR}/{schema_path(model.event_type).name}"


def _by_name(collection: dict[str, Any] | None) -> dict[str, Any] | None:
    return dict(sorted(collection.items())) if collection else collection
