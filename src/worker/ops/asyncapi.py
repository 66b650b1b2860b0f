"""The service's AsyncAPI 3.0 document and the files ``worker docs gen`` writes.

FastStream's specification API describes the broker: one channel per subscription and per
published topic, message payloads as JSON Schema from the handlers' types. Two things
FastStream 0.7.8 cannot say are added here as AsyncAPI specification extensions:

* ``x-google-pubsub`` on every channel: the subscription's Pub/Sub settings (topic, ack
  deadline, dead-letter topic and max delivery attempts, the subscription keeping dead
  letters, retry backoff), field names as in Pub/Sub's REST ``Subscription`` resource;
* ``x-avro-schema`` on every message that is one of our events: the ``.avsc`` file of the
  Avro form, shipped beside the document.

The output is deterministic (collections sorted by name, no timestamps), so a test can
compare the committed files with a fresh generation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faststream_gcp_pubsub import (
    PubSubBroker,
    PubSubPublisher,
    PubSubSubscriberBase,
    SubscriptionSpec,
)
from faststream_gcp_pubsub.specs import keep_subscription
from worker import __version__
from worker.errors import ConfigurationError, OutputNotWritableError
from worker.events.models import EVENT_MODELS
from worker.events.schemas import SCHEMA_DIR, schema_path
from worker.ops.asyncapi_html import render_page, render_viewer
from worker.ops.yaml_text import dump_yaml
from worker.settings import Settings, TopicNames

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
DOCUMENT_FILE = "asyncapi.yaml"
PAGE_FILE = "index.html"
VIEWER_FILE = "viewer.html"
AVRO_DIR = "schemas"
PUBSUB_EXTENSION = "x-google-pubsub"
AVRO_EXTENSION = "x-avro-schema"
_SORTED_COLLECTIONS = (("servers",), ("channels",), ("operations",))
_SORTED_COMPONENTS = ("messages", "schemas")
_MODELS_BY_SCHEMA_NAME = {model.__name__: model for model in EVENT_MODELS.values()}


def documented_settings() -> Settings:
    """The default settings, ignoring the environment and ``.env``: the committed
    document must not depend on who generates it or where."""
    return Settings.model_construct(topics=TopicNames.model_construct())


def service_document(settings: Settings | None = None) -> dict[str, Any]:
    """The AsyncAPI document of ``worker.service`` built with ``settings`` (default names
    unless given)."""
    from worker.service.app import create_app

    app = create_app(settings or documented_settings())
    broker = app.broker
    if not isinstance(broker, PubSubBroker):
        raise ConfigurationError(
            f"the service app has no PubSubBroker (got {type(broker).__name__})",
            where="worker.service.app.create_app",
        )
    return describe_broker(broker, title=TITLE, version=__version__, description=DESCRIPTION)


def describe_broker(
    broker: PubSubBroker, *, title: str, version: str, description: str | None = None
) -> dict[str, Any]:
    """AsyncAPI 3.0 for ``broker``, with Pub/Sub settings and Avro schema references."""
    from faststream.specification import AsyncAPI

    specification = AsyncAPI(
        broker, title=title, version=version, description=description, schema_version="3.0.0"
    ).to_specification()
    document: dict[str, Any] = specification.to_jsonable()
    settings = pubsub_settings(broker)
    for channel in document.get("channels", {}).values():
        extension = settings.get(channel.get("address", ""))
        if extension is not None:
            channel[PUBSUB_EXTENSION] = extension
    for message in document.get("components", {}).get("messages", {}).values():
        avro = avro_schema_of(message)
        if avro is not None:
            message[AVRO_EXTENSION] = avro
    return _sorted(document)


def pubsub_settings(broker: PubSubBroker) -> dict[str, dict[str, Any]]:
    """The ``x-google-pubsub`` extension of each channel, keyed by channel address."""
    described: dict[str, dict[str, Any]] = {}
    for publisher in broker.publishers:
        if isinstance(publisher, PubSubPublisher):
            described[publisher.topic] = {"topic": publisher.topic}
    for subscriber in broker.subscribers:
        if isinstance(subscriber, PubSubSubscriberBase):
            described[subscriber.spec.name] = _subscription_settings(subscriber.spec)
    return described


def _subscription_settings(spec: SubscriptionSpec) -> dict[str, Any]:
    settings: dict[str, Any] = {"subscription": spec.name}
    if spec.topic:
        settings["topic"] = spec.topic
    settings["ackDeadlineSeconds"] = spec.ack_deadline_s
    if spec.dead_letter_topic:
        settings["deadLetterPolicy"] = {
            "deadLetterTopic": spec.dead_letter_topic,
            "maxDeliveryAttempts": spec.max_delivery_attempts,
            "keptBy": keep_subscription(spec.dead_letter_topic).name,
        }
    if spec.retry_backoff:
        settings["retryPolicy"] = {
            "minimumBackoff": f"{spec.retry_backoff.minimum_s:g}s",
            "maximumBackoff": f"{spec.retry_backoff.maximum_s:g}s",
        }
    settings["enableMessageOrdering"] = spec.enable_message_ordering
    settings["enableExactlyOnceDelivery"] = spec.enable_exactly_once_delivery
    if spec.filter:
        settings["filter"] = spec.filter
    return settings


def avro_schema_of(message: Mapping[str, Any]) -> str | None:
    """The relative path of the Avro schema of a message whose payload is one of our events."""
    reference = message.get("payload", {}).get("$ref", "")
    model = _MODELS_BY_SCHEMA_NAME.get(reference.rsplit("/", 1)[-1])
    if model is None:
        return None
    return f"{AVRO_DIR}/{schema_path(model.event_type).name}"


def _sorted(document: dict[str, Any]) -> dict[str, Any]:
    for (name,) in _SORTED_COLLECTIONS:
        if name in document:
            document[name] = dict(sorted(document[name].items()))
    components = document.get("components", {})
    for name in _SORTED_COMPONENTS:
        if name in components:
            components[name] = dict(sorted(components[name].items()))
    return document


def documentation_files(document: Mapping[str, Any]) -> dict[str, str]:
    """Every file of the ``asyncapi/`` directory, by relative path, as text."""
    files = {
        DOCUMENT_FILE: dump_yaml(document),
        PAGE_FILE: render_page(document),
        VIEWER_FILE: render_viewer(document),
    }
    for avsc in sorted(SCHEMA_DIR.glob("*.avsc")):
        files[f"{AVRO_DIR}/{avsc.name}"] = avsc.read_text(encoding="utf-8")
    return files


def write_files(files: Mapping[str, str], out_dir: Path) -> list[Path]:
    """Write ``files`` under ``out_dir``; returns the paths written."""
    written = []
    for name, text in files.items():
        path = out_dir / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise OutputNotWritableError(
                f"cannot write the AsyncAPI docs: {exc}", where=str(path)
            ) from exc
        written.append(path)
    return written


def stale_files(files: Mapping[str, str], out_dir: Path) -> list[str]:
    """The names among ``files`` whose copy under ``out_dir`` is missing or different."""
    stale = []
    for name, text in files.items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
