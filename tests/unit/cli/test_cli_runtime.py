"""``worker.runtime``: the Ports the CLI (and each backfill worker process) runs on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from worker import __version__
from worker.runtime import build_ports, state_dir
from worker.settings import load_settings


def test_ports_come_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        landing_uri="gs://landing/in", output_uri=str(tmp_path / "out"), workdir=str(tmp_path)
    )
    ports = build_ports(settings)
    assert (ports.landing_uri, ports.output_uri) == ("gs://landing/in", str(tmp_path / "out"))
    assert ports.registry.names()[0] == "trips"
    assert ports.code_version == __version__
    assert ports.clock().tzinfo is UTC
    assert ports.workdir.parent == tmp_path
    assert ports.workdir.is_dir()
    assert build_ports(settings).workdir != ports.workdir, "each process gets its own scratch"
    assert state_dir(settings) == tmp_path
    assert state_dir(load_settings()) == Path(".worker")


def test_stage_and_heartbeat_are_injected(tmp_path: Path) -> None:
    seen: list[str] = []

    @contextlib.contextmanager
    def stage(name: str) -> Iterator[None]:
        seen.append(name)
        yield

    ports = build_ports(
        load_settings(),
        workdir=tmp_path,
        stage=stage,
        heartbeat=lambda: seen.append("beat"),
    )
    with ports.stage("extract"):
        ports.heartbeat()
    assert seen == ["extract", "beat"]
    assert ports.workdir == tmp_path
