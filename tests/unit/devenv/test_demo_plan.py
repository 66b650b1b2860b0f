"""The demo's plan: which files it uploads, which are poisoned, what must come of each."""

from __future__ import annotations

import gzip
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from worker.core.datasets import load_registry
from worker.devenv import demo as demo_module
from worker.devenv.demo import (
    FORCED_IN_MEMORY_NOTE,
    MEMORY_BROKER_NOTE,
    NO_EMULATOR_NOTE,
    DemoOptions,
    choose_mode,
    prepare_workdir,
)
from worker.devenv.demo_plan import DEMO_START, build_plan
from worker.errors import ConfigurationError, InputFormatError, UnroutableError
from worker.settings import Settings


def test_a_week_of_daily_files_commits_and_two_poison_objects_are_dead_lettered() -> None:
    plan = build_plan()

    assert plan.committed_partitions == tuple(date(2024, 1, day) for day in range(1, 8))
    assert [(f.name, f.reason) for f in plan.dead_letters] == [
        ("trips/2024-01-08.csv", InputFormatError.reason),
        ("notes/vendor-contacts.txt", UnroutableError.reason),
    ]
    assert len(plan.files) == 9


def test_daily_files_route_to_their_day_and_the_unroutable_one_to_nothing() -> None:
    plan = build_plan(days=2)
    registry = load_registry(())
    landing = "gs://demo-landing"

    for planned in plan.files:
        match = registry.match(plan.uri(landing, planned), landing)
        if planned.role == "unroutable":
            assert match is None
        else:
            assert match is not None
            dataset, day = match
            assert (dataset.name, day) == ("trips", planned.partition)


def test_daily_content_is_a_csv_with_a_few_malformed_rows() -> None:
    plan = build_plan(days=1, rows_per_day=2000)
    [daily] = [f for f in plan.files if f.role == "daily"]

    frame = pl.read_csv(io.BytesIO(plan.content(daily)))

    assert frame.height == 2000
    negative_fares = frame.filter(pl.col("fare_amount") < 0).height
    assert 0 < negative_fares < 100


def test_the_corrupt_file_is_gzip_under_a_csv_name_and_content_is_reproducible() -> None:
    plan = build_plan(days=1, rows_per_day=50)
    [corrupt] = [f for f in plan.files if f.role == "corrupt"]

    content = plan.content(corrupt)

    assert corrupt.name.endswith(".csv")
    assert gzip.decompress(content).startswith(b"trip_id,")
    assert content == build_plan(days=1, rows_per_day=50).content(corrupt)


def test_a_plan_needs_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        build_plan(days=0, start=DEMO_START)


def test_the_in_memory_path_is_taken_when_asked_for_or_when_the_broker_is_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(demo_module, "find_pubsub_emulator", lambda: tmp_path / "emulator")
    pubsub = Settings(_env_file=None)  # type: ignore[call-arg]
    memory = pubsub.model_copy(update={"broker": "memory"})

    assert choose_mode(pubsub, DemoOptions()) == (True, None)
    assert choose_mode(pubsub, DemoOptions(use_emulators=False)) == (False, FORCED_IN_MEMORY_NOTE)
    assert choose_mode(memory, DemoOptions()) == (False, MEMORY_BROKER_NOTE)
    monkeypatch.setattr(demo_module, "find_pubsub_emulator", lambda: None)
    assert choose_mode(pubsub, DemoOptions()) == (False, NO_EMULATOR_NOTE)


def test_the_demo_refuses_to_empty_the_current_directory_or_a_parent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")

    with pytest.raises(ConfigurationError, match="refusing to clean"):
        prepare_workdir(Path())
    with pytest.raises(ConfigurationError, match="refusing to clean"):
        prepare_workdir(tmp_path)
    assert prepare_workdir(Path("data/demo")) == tmp_path / "project" / "data" / "demo"
    assert (tmp_path / "project" / "data" / "demo" / "logs").is_dir()
