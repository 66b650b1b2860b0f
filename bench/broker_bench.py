"""Pub/Sub broker overhead: FastStream on ``worker.pubsub`` versus the raw Google client.

Rerun with ``python -m bench.broker_bench`` (``--help`` for flags). It starts its own
Pub/Sub emulator, publishes the same backlog of messages to two subscriptions, then
drains each in a fresh child process:

- ``raw``: ``SubscriberClient.subscribe`` with a callback that acks;
- ``broker``: a ``FastStream`` app on :class:`worker.pubsub.PubSubBroker` whose handler
  does nothing (the broker validates the JSON body as ``int`` and acks).

Each child reports wall time and its own CPU time (``time.process_time``: every thread
of the process, the gRPC ones included) from just before subscribing until the last
message was handled. Results: a table on stdout and ``bench/results/broker.json``.
The target is broker CPU per message <= 1.25x the raw client's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "broker.json"
PROJECT = "bench-project"
TARGET_RATIO = 1.25


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's over exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _run_raw(subscription: str, count: int, max_messages: int) -> dict[str, Any]:
    from google.cloud.pubsub_v1 import SubscriberClient, types

    client = SubscriberClient()
    path = client.subscription_path(PROJECT, subscription)
    done = threading.Event()
    lock = threading.Lock()
    handled = 0

    def callback(message: Any) -> None:
        nonlocal handled
        message.ack()
        with lock:
            handled += 1
            if handled == count:
                done.set()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    future = client.subscribe(
        path, callback, flow_control=types.FlowControl(max_messages=max_messages)
    )
    done.wait()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    future.cancel()
    future.result()
    client.close()
    return {"messages": handled, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _peak_rss_mb()}


def _run_broker(subscription: str, count: int, max_messages: int) -> dict[str, Any]:
    from faststream import FastStream

    from worker.pubsub import PubSubBroker

    async def main() -> dict[str, Any]:
        broker = PubSubBroker(project=PROJECT, logger=None)
        app = FastStream(broker, logger=None)
        done = asyncio.Event()
        handled = 0

        @broker.subscriber(subscription, max_messages=max_messages)
        async def handle(body: int) -> None:
            nonlocal handled
            handled += 1
            if handled == count:
                done.set()

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await app.start()
        await done.wait()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        await app.stop()
        return {"messages": handled, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _peak_rss_mb()}

    return asyncio.run(main())


def _prepare(host: str, count: int, names: list[str]) -> None:
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient, types

    os.environ["PUBSUB_EMULATOR_HOST"] = host
    publisher = PublisherClient(batch_settings=types.BatchSettings(max_messages=500))
    subscriber = SubscriberClient()
    for name in names:
        topic = publisher.topic_path(PROJECT, name)
        publisher.create_topic(name=topic)
        subscriber.create_subscription(
            name=subscriber.subscription_path(PROJECT, name), topic=topic, ack_deadline_seconds=60
        )
        futures = [
            publisher.publish(topic, json.dumps(n).encode(), **{"content-type": "application/json"})
            for n in range(count)
        ]
        for future in futures:
            future.result()
    subscriber.close()
    publisher.stop()


def _child(
    contender: str, subscription: str, host: str, count: int, max_messages: int
) -> dict[str, Any]:
    env = {**os.environ, "PUBSUB_EMULATOR_HOST": host}
    argv = [sys.executable, "-m", "bench.broker_bench", "--child", contender]
    argv += ["--subscription", subscription, "--messages", str(count)]
    argv += ["--max-messages", str(max_messages)]
    out = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"{'contender':<10} {'messages':>9} {'wall s':>8} {'msg/s':>9} {'CPU s':>8} "
        f"{'CPU µs/msg':>11} {'peak RSS MB':>12}"
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<10} {r['messages']:>9} {r['wall_s']:>8.2f} {r['messages_per_s']:>9.0f} "
            f"{r['cpu_s']:>8.2f} {r['cpu_us_per_message']:>11.1f} {r['peak_rss_mb']:>12.0f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--max-messages", type=int, default=1000, help="flow control")
    parser.add_argument("--child", choices=["raw", "broker"], help=argparse.SUPPRESS)
    parser.add_argument("--subscription", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run = _run_raw if args.child == "raw" else _run_broker
        print(json.dumps(run(args.subscription, args.messages, args.max_messages)))
        return

    from worker.devenv.emulators import start_pubsub_emulator

    with tempfile.TemporaryDirectory() as logs:
        emulator = start_pubsub_emulator(Path(logs))
        try:
            names = {"raw": "bench-raw", "broker": "bench-broker"}
            _prepare(emulator.host, args.messages, list(names.values()))
            rows: dict[str, dict[str, Any]] = {}
            for contender, name in names.items():
                r = _child(contender, name, emulator.host, args.messages, args.max_messages)
                r["messages_per_s"] = r["messages"] / r["wall_s"]
                r["cpu_us_per_message"] = r["cpu_s"] / r["messages"] * 1e6
                rows[contender] = r
        finally:
            emulator.stop()

    ratio = rows["broker"]["cpu_us_per_message"] / rows["raw"]["cpu_us_per_message"]
    print(_table(rows))
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"broker/raw CPU per message: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "pubsub broker vs raw SubscriberClient, no-op handler",
                "messages": args.messages,
                "flow_control_max_messages": args.max_messages,
                "results": rows,
                "cpu_ratio_broker_over_raw": ratio,
                "target_ratio": TARGET_RATIO,
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                },
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
