"""A self-contained HTML page for an AsyncAPI 3.0 document: no script, no CDN.

It shows what operators and consumers look for: servers, every channel with its Pub/Sub
settings (its ``googlepubsub`` binding), the operations on it and its messages, every message
schema as a field table plus the JSON Schema, and links to the Avro schemas
(``x-avro-schema``). The output depends on the document only, so it is deterministic.

:func:`render_viewer` writes the alternative: FastStream's page, which loads the AsyncAPI
React component from a CDN.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from worker.ops.yaml_text import dump_yaml

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;
line-height:1.5;background:#f7f8fa}
header,main,footer{max-width:72rem;margin:0 auto;padding:1rem 2rem}
header{border-bottom:1px solid #d9dee5}h1 .version{font-size:1rem;color:#52606d}
h2{border-bottom:2px solid #3e4c59;padding-bottom:.2rem;margin-top:2.5rem}
article{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:.5rem 1.25rem;
margin:1rem 0}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #d9dee5;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5}code{background:#eef1f5;padding:0 .2rem;border-radius:3px}
pre{background:#1f2933;color:#f5f7fa;padding:.75rem;overflow-x:auto;border-radius:4px}
.badge{display:inline-block;font-size:.75rem;padding:0 .5rem;border-radius:1rem;
color:#fff;margin-left:.5rem;vertical-align:middle}
.receive{background:#2f855a}.send{background:#2b6cb0}nav ul{columns:2}
"""


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def _prose(text: str | None) -> str:
    """Paragraphs of a description; `backticks` become code."""
    if not text:
        return ""
    paragraphs = [part.strip() for part in text.split("\n\n") if part.strip()]
    rendered = []
    for paragraph in paragraphs:
        escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", _text(paragraph))
        rendered.append(f"<p>{escaped}</p>")
    return "\n".join(rendered)


def _ref_name(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


def _schema_link(reference: str) -> str:
    name = _ref_name(reference)
    return f'<a href="#schema-{_slug(name)}">{_text(name)}</a>'


def _type_of(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return _schema_link(schema["$ref"])
    if "anyOf" in schema:
        return " | ".join(_type_of(option) for option in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    shown = _text(kind)
    if "format" in schema:
        shown += f" ({_text(schema['format'])})"
    if "enum" in schema:
        shown += ": " + ", ".join(f"<code>{_text(value)}</code>" for value in schema["enum"])
    return shown


def _notes(schema: Mapping[str, Any]) -> str:
    notes = []
    if schema.get("description"):
        notes.append(_text(schema["description"]))
    for key in ("minLength", "maxLength", "minimum", "maximum"):
        if key in schema:
            notes.append(f"{key} {_text(schema[key])}")
    if "default" in schema:
        notes.append(f"default <code>{_text(json.dumps(schema['default']))}</code>")
    return "; ".join(notes)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_text(name)}</th>" for name in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pubsub_settings(channel: Mapping[str, Any]) -> dict[str, Any]:
    """The channel's ``googlepubsub`` binding as a settings table: topic, then the
    subscription's settings (see ``faststream_gcp_pubsub.asyncapi``)."""
    binding = channel.get("bindings", {}).get("googlepubsub", {})
    if not binding:
        return {}
    settings: dict[str, Any] = {"topic": binding.get("x-topic")}
    settings.update(binding.get("x-subscription", {}))
    return settings


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in settings.items():
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            shown = json.dumps(value) if isinstance(value, bool) else str(value)
            rows.append((f"<code>{_text(prefix + key)}</code>", _text(shown)))
    return rows


def _servers(document: Mapping[str, Any]) -> str:
    rows = [
        (
            _text(name),
            _text(server.get("protocol", "")),
            _text(server.get("protocolVersion", "")),
            _text(server.get("host", "")) + _text(server.get("pathname", "")),
        )
        for name, server in document.get("servers", {}).items()
    ]
    return _table(("server", "protocol", "version", "address"), rows)


def _channel(key: str, channel: Mapping[str, Any], document: Mapping[str, Any]) -> str:
    actions = sorted(
        {
            operation.get("action", "")
            for operation in document.get("operations", {}).values()
            if operation.get("channel", {}).get("$ref") == f"#/channels/{key}"
        }
    )
    badges = "".join(f'<span class="badge {_text(a)}">{_text(a)}</span>' for a in actions)
    parts = [
        f'<article id="channel-{_slug(key)}">',
        f"<h3><code>{_text(channel.get('address', key))}</code>{badges}</h3>",
        _prose(channel.get("description")),
    ]
    settings = _pubsub_settings(channel)
    if settings:
        parts.append("<h4>Pub/Sub settings</h4>")
        parts.append(_table(("setting", "value"), _flatten(settings)))
    components = document.get("components", {}).get("messages", {})
    rows = []
    for reference in channel.get("messages", {}).values():
        message = components.get(_ref_name(reference.get("$ref", "")), {})
        payload = message.get("payload", {})
        avro = message.get("x-avro-schema")
        rows.append(
            (
                _text(message.get("title", "")),
                _type_of(payload) if payload else "",
                f'<a href="{_text(avro)}">{_text(avro)}</a>' if avro else "",
            )
        )
    if rows:
        parts.append("<h4>Messages</h4>")
        parts.append(_table(("message", "payload (JSON)", "Avro schema"), rows))
    parts.append("</article>")
    return "\n".join(part for part in parts if part)


def _schema(name: str, schema: Mapping[str, Any]) -> str:
    required = set(schema.get("required", ()))
    rows = [
        (
            f"<code>{_text(field)}</code>",
            _type_of(field_schema),
            "yes" if field in required else "",
            _notes(field_schema),
        )
        for field, field_schema in schema.get("properties", {}).items()
    ]
    return "\n".join(
        part
        for part in (
            f'<article id="schema-{_slug(name)}">',
            f"<h3>{_text(name)}</h3>",
            _prose(schema.get("description")),
            _table(("field", "type", "required", "notes"), rows) if rows else "",
            "<details><summary>JSON Schema</summary>"
            f"<pre>{_text(json.dumps(schema, indent=2))}</pre></details>",
            "</article>",
        )
        if part
    )


def _avro_links(document: Mapping[str, Any]) -> str:
    messages = document.get("components", {}).get("messages", {}).values()
    paths = sorted({m["x-avro-schema"] for m in messages if m.get("x-avro-schema")})
    if not paths:
        return "<p>No message here has an Avro form.</p>"
    items = "".join(f'<li><a href="{_text(path)}">{_text(path)}</a></li>' for path in paths)
    return f"<ul>{items}</ul>"


def render_page(document: Mapping[str, Any]) -> str:
    """The standalone HTML page of ``document``."""
    info = document.get("info", {})
    title = str(info.get("title", "AsyncAPI"))
    channels = document.get("channels", {})
    schemas = document.get("components", {}).get("schemas", {})
    toc = "".join(
        f'<li><a href="#channel-{_slug(key)}">{_text(channel.get("address", key))}</a></li>'
        for key, channel in channels.items()
    )
    body = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)} {_text(info.get('version', ''))}: AsyncAPI</title>",
        f"<style>{_CSS}</style></head>",
        "<body><header>",
        f'<h1>{_text(title)} <span class="version">{_text(info.get("version", ""))}</span></h1>',
        f"<p>AsyncAPI {_text(document.get('asyncapi', ''))}; default content type "
        f"<code>{_text(document.get('defaultContentType', ''))}</code>.</p>",
        _prose(info.get("description")),
        '<p><a href="asyncapi.yaml">asyncapi.yaml</a> (the document) &middot; '
        '<a href="viewer.html">interactive viewer</a> (loads the AsyncAPI React component '
        "from a CDN)</p>",
        "</header><main>",
        f"<nav><h2>Channels</h2><ul>{toc}</ul></nav>",
        f'<section id="servers"><h2>Servers</h2>{_servers(document)}</section>',
        '<section id="channels"><h2>Channels and operations</h2>',
        *(_channel(key, channel, document) for key, channel in channels.items()),
        "</section>",
        '<section id="schemas"><h2>Message schemas (JSON)</h2>',
        *(_schema(name, schema) for name, schema in schemas.items()),
        "</section>",
        f'<section id="avro"><h2>Avro schemas</h2>{_avro_links(document)}</section>',
        "</main><footer><p>Generated by <code>worker docs gen</code> from the service code; "
        "do not edit by hand (run <code>make docs</code>).</p></footer>",
        "</body></html>",
    ]
    return "\n".join(part for part in body if part) + "\n"


class _Document:
    """The specification protocol FastStream's page renderer reads, over a plain document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document

    @property
    def title(self) -> str:
        return str(self._document.get("info", {}).get("title", "AsyncAPI"))

    def to_jsonable(self) -> Any:
        return self._document

    def to_json(self) -> str:
        return json.dumps(self._document)

    def to_yaml(self) -> str:
        return dump_yaml(self._document)


def render_viewer(document: Mapping[str, Any]) -> str:
    """FastStream's interactive page for ``document`` (needs the network for its script)."""
    from faststream.specification import get_asyncapi_html

    return get_asyncapi_html(_Document(document), try_it_out_path=None) + "\n"
