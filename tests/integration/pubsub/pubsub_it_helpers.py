"""Helpers for the Pub/Sub broker's emulator tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from google.cloud.pubsub_v1 import SubscriberClient

from faststream_gcp_pubsub import PubSubBroker

PROJECT = "it-project"


def make_broker(**kwargs: Any) -> PubSubBroker:
    kwargs.setdefault("graceful_timeout", 10.0)
    kwargs.setdefault("reconnect_backoff", (0.2, 2.0))
    return PubSubBroker(project=PROJECT, logger=None, **kwargs)


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``condition``; fail naming ``what`` when ``within`` seconds pass first."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            msg = f"timed out after {within:g}s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(0.05)


def pull_now(subscription: str, max_messages: int = 100) -> list[Any]:
    """Synchronously pull (and ack) what ``subscription`` holds right now."""
    client = SubscriberClient()
    try:
        path = client.subscription_path(PROJECT, subscription)
        response = client.pull(
            request={"subscription": path, "max_messages": max_messages}, timeout=10
        )
        received = list(response.received_messages)
        if received:
            client.acknowledge(
                request={"subscription": path, "ack_ids": [r.ack_id for r in received]}
            )
        return [r.message for r in received]
    finally:
        client.close()


async def pull_dead_letters(subscription: str, within: float) -> list[Any]:
    """Pull from ``subscription`` off the event loop until something arrives."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        messages = await asyncio.to_thread(pull_now, subscription)
        if messages:
            return messages
    msg = f"nothing arrived on {subscription} within {within:g}s"
    raise AssertionError(msg)
