"""The harness the ``worker serve`` SIGKILL test stands on: through ``HalfCloseProxy``, what
a SIGKILLed streaming-pull client held comes back to the next subscriber, and new messages
reach it, on the installed Pub/Sub emulator (which, reached directly, leaves a killed
client's stream registered and starves fresh subscribers; see RELIABILITY.md).

The proxy must not settle anything itself: the held messages come back as redeliveries
(the subscription counts delivery attempts), after the ack deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from support.halfclose_proxy import HalfCloseProxy
from support.reliability_results import record
from support.reliability_stack import pubsub_host, wait_for
from worker.devenv.emulators import ManagedProcess

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

HOLDER = """
import sys, time
from google.cloud import pubsub_v1
from google.cloud.pubsub_v1.types import FlowControl

def hold(message):
    print(message.data.decode(), flush=True)  # never acked: this process dies holding it

pubsub_v1.SubscriberClient().subscribe(sys.argv[1], hold, flow_control=FlowControl(max_messages=2))
time.sleep(600)
"""


def test_a_killed_subscribers_messages_come_back_through_the_proxy(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient
    from google.cloud.pubsub_v1.subscriber.message import Message
    from google.cloud.pubsub_v1.types import DeadLetterPolicy

    with pubsub_host(pubsub_emulator.host):
        publisher, subscriber = PublisherClient(), SubscriberClient()
    topic = publisher.topic_path(unique_name, "held")
    dead = publisher.topic_path(unique_name, "held-dlq")
    path = subscriber.subscription_path(unique_name, "held-sub")
    publisher.create_topic(name=topic)
    publisher.create_topic(name=dead)
    # A dead-letter policy makes the emulator count delivery attempts.
    policy = DeadLetterPolicy(dead_letter_topic=dead, max_delivery_attempts=10)
    subscriber.create_subscription(
        request={
            "name": path,
            "topic": topic,
            "ack_deadline_seconds": 10,
            "dead_letter_policy": policy,
        }
    )
    for n in range(3):
        publisher.publish(topic, f"old-{n}".encode()).result(timeout=30)

    with HalfCloseProxy(pubsub_emulator.host) as proxy:
        env = {**os.environ, "PUBSUB_EMULATOR_HOST": proxy.host}
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, path], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None
            held = {holder.stdout.readline().strip() for _ in range(2)}
        finally:
            holder.kill()
            holder.wait(timeout=10)
            if holder.stdout is not None:
                holder.stdout.close()
        wait_for(lambda: proxy.half_closed_streams > 0, 30, "the proxy to half-close the call")
        publisher.publish(topic, b"new").result(timeout=30)

        received: dict[str, int] = {}
        lock = threading.Lock()

        def take(message: Message) -> None:
            with lock:
                received[message.data.decode()] = message.delivery_attempt or 0
            message.ack()

        stream = subscriber.subscribe(path, take)
        try:

            def all_arrived() -> bool:
                with lock:
                    return set(received) >= {"old-0", "old-1", "old-2", "new"}

            wait_for(all_arrived, 60, "the held messages and the new one")
        finally:
            stream.cancel()
            stream.result(timeout=30)
        half_closed = proxy.half_closed_streams
    publisher.stop()
    subscriber.close()

    record(
        "halfclose-proxy-harness",
        held_by_killed_subscriber=len(held),
        held_redelivered=sum(1 for data in held if received.get(data, 0) >= 2),
        new_delivered=int("new" in received),
        calls_half_closed=half_closed,
    )
    assert held <= {"old-0", "old-1", "old-2"}
    assert all(received[data] >= 2 for data in held), f"held {held}, then got {received}"
    assert received["new"] == 1
