"""The service's AsyncAPI 3.0 document and the files ``worker docs gen`` writes.

The document is the service app's own specification (``worker.service.specification``):
the same one ``faststream docs gen worker.service.app:app`` writes and the app serves on
``/docs/asyncapi``. Pub/Sub settings are the channels' ``googlepubsub`` bindings, Avro
schemas are linked by ``x-avro-schema`` on each event message.

The output is deterministic (collections sorted by name, no timestamps), so a test can
compare the committed files with a fresh generation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faststream_gcp_pubsub import PubSubBroker
from worker.errors import ConfigurationError, OutputNotWritableError
from worker.events.schemas import SCHEMA_DIR
from worker.ops.asyncapi_html import render_page, render_viewer
from worker.ops.yaml_text import dump_yaml
from worker.service.specification import AVRO_DIR, ServiceAsyncAPI
from worker.settings import Settings, TopicNames

DOCUMENT_FILE = "asyncapi.yaml"
PAGE_FILE = "index.html"
VIEWER_FILE = "viewer.html"


def documented_settings() -> Settings:
    """The default settings, ignoring the environment and ``.env``: the committed
    document must not depend on who generates it or where."""
    return Settings.model_construct(topics=TopicNames.model_construct())


def service_document(settings: Settings | None = None) -> dict[str, Any]:
    """The AsyncAPI document of ``worker.service`` built with ``settings`` (default names
    unless given)."""
    from worker.service.app import create_app

    app = create_app(settings or documented_settings())
    if not isinstance(app.broker, PubSubBroker):
        raise ConfigurationError(
            f"the service app has no PubSubBroker (got {type(app.broker).__name__})",
            where="worker.service.app.create_app",
        )
    document: dict[str, Any] = app.schema.to_specification().to_jsonable()
    return document


def describe_broker(
    broker: PubSubBroker, *, title: str, version: str, description: str | None = None
) -> dict[str, Any]:
    """AsyncAPI 3.0 for any ``broker``, as the service's own (bindings, Avro links, order)."""
    factory = ServiceAsyncAPI()
    factory.title, factory.version, factory.description = title, version, description
    factory.add_broker(broker)
    document: dict[str, Any] = factory.to_specification().to_jsonable()
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
