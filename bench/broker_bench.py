"""Pub/Sub broker overhead: FastStream on ``faststream_gcp_pubsub`` versus the raw Google client.

Rerun with ``python -m bench.broker_bench`` (``--help`` for flags). It starts its own
Pub/Sub emulator and, for each run, publishes one backlog per contender, then drains each
backlog in a fresh child process:

- ``raw``: ``SubscriberClient.subscribe`` with a callback that acks;
- ``broker-dict``: a ``FastStream`` app on :class:`faststream_gcp_pubsub.PubSubBroker` whose
  handler takes the JSON body as ``dict`` and does nothing (the cheapest honest handler:
  FastStream still parses, decodes, injects and acks);
- ``broker-model``: the same with the body validated into a pydantic model;
- ``broker-batch``: a batch subscriber (``batch=True``, ``max_batch`` 100) whose handler
  takes ``list[dict[str, Any]]``: FastStream's per-call work is paid once per batch.

Both sides are measured the same way: each child counts handled messages, skips the first
``--warmup`` (connection set-up, first leases, lazy imports), then reports wall time, its
own process CPU time (``time.process_time``: every thread, the gRPC ones included) and
the CPU per thread until ``--messages`` more were handled. Contenders run interleaved in
each of ``--runs`` runs; the medians go to a table on stdout and to
``bench/results/broker.json``. The target is broker CPU per message <= 1.25x the raw
client's.
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
CONTENDERS = ("raw", "broker-dict", "broker-model", "broker-batch")


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's over exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _threads_cpu_s() -> dict[str, float]:
    """CPU seconds of each live thread of this process, summed by thread name."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            continue  # the thread ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        name = names.get(int(tid), comm)
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


class _Window:
    """Counts handled messages; measures from the end of the warm-up to the last one."""

    def __init__(self, warmup: int, messages: int) -> None:
        self.warmup = warmup
        self.total = warmup + messages
        self.handled = 0
        self.done = threading.Event()
        self._start: tuple[float, float, dict[str, float]] = (0.0, 0.0, {})
        self._end: tuple[float, float, dict[str, float]] = (0.0, 0.0, {})

    def count(self) -> bool:
        """Record one handled message; True on the last one."""
        self.handled += 1
        if self.handled == self.warmup:
            self._start = (time.perf_counter(), time.process_time(), _threads_cpu_s())
        if self.handled != self.total:
            return False
        self._end = (time.perf_counter(), time.process_time(), _threads_cpu_s())
        self.done.set()
        return True

    def result(self) -> dict[str, Any]:
        wall0, cpu0, threads0 = self._start
        wall1, cpu1, threads1 = self._end
        threads = {
            name: round(cpu - threads0.get(name, 0.0), 3)
            for name, cpu in sorted(threads1.items())
            if cpu - threads0.get(name, 0.0) >= 0.005
        }
        return {
            "messages": self.total - self.warmup,
            "wall_s": wall1 - wall0,
            "cpu_s": cpu1 - cpu0,
            "threads_cpu_s": threads,
            "peak_rss_mb": _peak_rss_mb(),
        }


def _run_raw(subscription: str, window: _Window, max_messages: int) -> dict[str, Any]:
    from google.cloud.pubsub_v1 import SubscriberClient, types

    client = SubscriberClient()
    path = client.subscription_path(PROJECT, subscription)
    lock = threading.Lock()

    def callback(message: Any) -> None:
        message.ack()
        with lock:
            window.count()

    future = client.subscribe(
        path, callback, flow_control=types.FlowControl(max_messages=max_messages)
    )
    window.done.wait()
    future.cancel()
    future.result()
    client.close()
    return window.result()


def _run_broker(
    subscription: str, window: _Window, max_messages: int, handler: str
) -> dict[str, Any]:
    from faststream import FastStream
    from pydantic import BaseModel

    from faststream_gcp_pubsub import PubSubBroker

    class Body(BaseModel):
        n: int

    async def main() -> dict[str, Any]:
        broker = PubSubBroker(project=PROJECT, logger=None)
        app = FastStream(broker, logger=None)
        done = asyncio.Event()
        if handler == "batch":

            @broker.subscriber(subscription, max_messages=max_messages, batch=True)
            async def handle_batch(bodies: list[dict[str, Any]]) -> None:
                for _ in bodies:
                    if window.count():
                        done.set()

        elif handler == "dict":

            @broker.subscriber(subscription, max_messages=max_messages)
            async def handle_dict(body: dict[str, Any]) -> None:
                if window.count():
                    done.set()

        else:

            @broker.subscriber(subscription, max_messages=max_messages)
            async def handle_model(body: Body) -> None:
                if window.count():
                    done.set()

        await app.start()
        await done.wait()
        await app.stop()
        return window.result()

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
            publisher.publish(
                topic, json.dumps({"n": n}).encode(), **{"content-type": "application/json"}
            )
            for n in range(count)
        ]
        for future in futures:
            future.result()
    subscriber.close()
    publisher.stop()


def _child(
    contender: str, subscription: str, host: str, args: argparse.Namespace
) -> dict[str, Any]:
    env = {**os.environ, "PUBSUB_EMULATOR_HOST": host}
    argv = [sys.executable, "-m", "bench.broker_bench", "--child", contender]
    argv += ["--subscription", subscription, "--messages", str(args.messages)]
    argv += ["--warmup", str(args.warmup), "--max-messages", str(args.max_messages)]
    out = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["messages_per_s"] = result["messages"] / result["wall_s"]
    result["cpu_us_per_message"] = result["cpu_s"] / result["messages"] * 1e6
    return result


def _faststream_floor(runs: int) -> dict[str, float]:
    """Medians of ``bench.faststream_floor`` over ``runs`` fresh processes."""
    argv = [sys.executable, "-m", "bench.faststream_floor"]
    outs = [
        json.loads(
            subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(runs)
    ]
    return {key: sorted(o[key] for o in outs)[len(outs) // 2] for key in outs[0]}


def _median_paired_ratio(runs: list[dict[str, Any]], raw: list[dict[str, Any]]) -> float:
    """Median over runs of contender / raw of the same run (neighbours in time)."""
    ratios: list[float] = sorted(
        r["cpu_us_per_message"] / base["cpu_us_per_message"]
        for r, base in zip(runs, raw, strict=True)
    )
    return ratios[len(ratios) // 2]


def _median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median CPU per message (its own figures, not a blend)."""
    ordered = sorted(runs, key=lambda r: r["cpu_us_per_message"])
    return ordered[len(ordered) // 2]


def _table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"{'contender':<13} {'messages':>9} {'wall s':>8} {'msg/s':>9} {'CPU s':>8} "
        f"{'CPU µs/msg':>11} {'peak RSS MB':>12}"
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<13} {r['messages']:>9} {r['wall_s']:>8.2f} {r['messages_per_s']:>9.0f} "
            f"{r['cpu_s']:>8.2f} {r['cpu_us_per_message']:>11.1f} {r['peak_rss_mb']:>12.0f}"
        )
    return "\n".join(lines)


def _run_child(args: argparse.Namespace) -> None:
    window = _Window(args.warmup, args.messages)
    if args.child == "raw":
        result = _run_raw(args.subscription, window, args.max_messages)
    else:
        handler = args.child.removeprefix("broker-")
        result = _run_broker(args.subscription, window, args.max_messages, handler)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="measured per contender")
    parser.add_argument("--warmup", type=int, default=1_000, help="handled before measuring")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-messages", type=int, default=1000, help="flow control")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--subscription", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        _run_child(args)
        return

    from worker.devenv.emulators import start_pubsub_emulator

    contenders = args.contenders.split(",")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as logs:
        emulator = start_pubsub_emulator(Path(logs))
        try:
            for run in range(args.runs):
                names = {c: f"bench-{c}-{run}" for c in contenders}
                _prepare(emulator.host, args.warmup + args.messages, list(names.values()))
                for contender, name in names.items():
                    runs[contender].append(_child(contender, name, emulator.host, args))
        finally:
            emulator.stop()

    rows = {name: _median_row(results) for name, results in runs.items()}
    print(_table(rows))
    floor = _faststream_floor(args.runs)
    print(
        f"FastStream's pipeline alone, no transport (bench.faststream_floor): "
        f"{floor['single']:.1f} µs/msg per message, {floor['batch_100']:.1f} µs/msg in batches"
    )
    ratios: dict[str, float] = {}
    paired: dict[str, float] = {}
    if "raw" in rows:
        raw = rows["raw"]["cpu_us_per_message"]
        for name, row in rows.items():
            if name != "raw":
                ratios[name] = row["cpu_us_per_message"] / raw
                paired[name] = _median_paired_ratio(runs[name], runs["raw"])
                verdict = "meets" if ratios[name] <= TARGET_RATIO else "misses"
                print(
                    f"{name}/raw CPU per message: {ratios[name]:.2f}x ({verdict} {TARGET_RATIO}x);"
                    f" median of the per-run ratios {paired[name]:.2f}x"
                )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "pubsub broker vs raw SubscriberClient, no-op handler",
                "messages": args.messages,
                "warmup_messages": args.warmup,
                "runs": args.runs,
                "flow_control_max_messages": args.max_messages,
                "results": rows,
                "cpu_us_per_message_each_run": {
                    name: [round(r["cpu_us_per_message"], 1) for r in results]
                    for name, results in runs.items()
                },
                "cpu_ratio_over_raw": ratios,
                "cpu_ratio_over_raw_median_of_runs": paired,
                "faststream_pipeline_only_cpu_us_per_message": floor,
                "cpu_ratio_broker_over_raw": ratios.get("broker-dict"),
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
    print(f"medians of {args.runs} runs written to {args.output}")


if __name__ == "__main__":
    main()
