"""The standalone page of a small sample broker's document, and the YAML writer."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from faststream_gcp_pubsub import PubSubBroker
from worker.events import FileArrived
from worker.ops.asyncapi import describe_broker
from worker.ops.asyncapi_html import render_page, render_viewer
from worker.ops.yaml_text import dump_yaml


class Shipment(BaseModel):
    """A parcel left the warehouse."""

    parcel_id: str
    weight_kg: float = 1.0
    tags: list[str] = []


def sample_document() -> dict[str, Any]:
    broker = PubSubBroker(project="sample", in_memory=True)

    @broker.subscriber(
        "orders-worker",
        topic="orders",
        dead_letter_topic="orders-dlq",
        max_delivery_attempts=7,
        retry_backoff=(5, 300),
        description="Orders <script>alert(1)</script> to `ship`.",
    )
    @broker.publisher("shipments", description="Parcels that left.")
    async def on_order(event: FileArrived) -> Shipment:
        raise NotImplementedError

    return describe_broker(broker, title="sample", version="1.2.3", description="A & B.")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        self.scripts += tag in ("script", "link", "img")


def parsed(page: str) -> Links:
    links = Links()
    links.feed(page)
    return links


def test_page_shows_channels_settings_messages_and_schemas() -> None:
    page = render_page(sample_document())

    assert '<code>orders-worker</code><span class="badge receive">receive</span>' in page
    assert '<code>shipments</code><span class="badge send">send</span>' in page
    for row in (
        "<td><code>deadLetterPolicy.deadLetterTopic</code></td><td>orders-dlq</td>",
        "<td><code>deadLetterPolicy.maxDeliveryAttempts</code></td><td>7</td>",
        "<td><code>retryPolicy.minimumBackoff</code></td><td>5s</td>",
        "<td><code>retryPolicy.maximumBackoff</code></td><td>300s</td>",
    ):
        assert row in page
    assert '<a href="#schema-Shipment">Shipment</a>' in page
    assert '<a href="schemas/file_arrived.v1.avsc">' in page
    weight_row = "<td><code>weight_kg</code></td><td>number</td><td></td><td>default <code>1.0"
    assert weight_row in page
    assert "<p>A parcel left the warehouse.</p>" in page


def test_page_is_standalone_and_escapes_text() -> None:
    page = render_page(sample_document())
    links = parsed(page)

    assert links.scripts == 0
    assert not any(href.startswith(("http:", "https:", "//")) for href in links.hrefs)
    assert "<script>alert" not in page
    assert "Orders &lt;script&gt;alert(1)&lt;/script&gt; to <code>ship</code>." in page
    assert "<p>A &amp; B.</p>" in page


def test_every_anchor_on_the_page_exists() -> None:
    links = parsed(render_page(sample_document()))
    internal = [href[1:] for href in links.hrefs if href.startswith("#")]
    assert internal
    assert [anchor for anchor in internal if anchor not in links.ids] == []


def test_page_is_deterministic() -> None:
    assert render_page(sample_document()) == render_page(sample_document())


def test_viewer_embeds_the_document() -> None:
    document = sample_document()
    viewer = render_viewer(document)
    assert "AsyncApiStandalone.render" in viewer
    assert json.dumps(json.dumps(document))[1:-1] in viewer


json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


# Shared CI machines stall now and then; a per-example deadline would make this flaky.
@settings(deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_yaml_reads_back_as_the_data(data: dict[str, Any]) -> None:
    assert yaml.safe_load(dump_yaml(data)) == (data or None)


def test_yaml_quotes_what_yaml_would_misread() -> None:
    text = dump_yaml({"on": "yes", "version": "3.0.0", "ref": "#/x", "plain": "file-arrived"})
    assert text == '"on": "yes"\nversion: "3.0.0"\nref: "#/x"\nplain: file-arrived\n'
