"""Idempotency and crash safety of the commit protocol (properties over small inputs)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from core_support import (
    DAY,
    encode,
    files_under,
    make_ports,
    orders_dataset,
    orders_rows,
    partition_dir,
    write_input,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.core import load
from worker.core.formats import Csv
from worker.core.load import read_manifest
from worker.core.model import PartitionResult, PartitionTask
from worker.core.pipeline import process_partition
from worker.errors import CommitConflictError
from worker.storage.local import LocalStorage

TASK = PartitionTask("orders", DAY)
PROPERTY = settings(
    max_examples=6,
    deadline=None,
    # An explicit list replaces the suite profile's: too_slow (a wall-clock check) stays off.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

input_files = st.lists(
    st.tuples(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=3)),
    min_size=1,
    max_size=3,
)
"""Per input file: (row count, number of rows made bad)."""


def _land_files(root: Path, spec: list[tuple[int, int]]) -> None:
    for index, (count, bad) in enumerate(spec):
        rows = orders_rows(count, start=1 + index * 100).with_columns(
            amount=pl.when(pl.int_range(pl.len()) < bad).then(-5.0).otherwise(pl.col("amount"))
        )
        write_input(root / "landing", f"f{index}.csv", encode(rows, Csv()))


def _data_files(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in files_under(partition_dir(root)).items() if k != "_manifest.json"}


@PROPERTY
@given(spec=input_files)
def test_running_twice_commits_once_with_identical_bytes(spec: list[tuple[int, int]]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        _land_files(root, spec)
        ports = make_ports(root, orders_dataset(max_quarantine_fraction=1.0))
        first = process_partition(TASK, ports)
        data = _data_files(root)
        manifest = (partition_dir(root) / "_manifest.json").read_bytes()
        second = process_partition(TASK, ports)
        assert (first.status, second.status) == ("committed", "skipped")
        assert second.run_id == first.run_id
        assert _data_files(root) == data
        assert (partition_dir(root) / "_manifest.json").read_bytes() == manifest
        # A fresh output computed from the same inputs is byte-identical too.
        shutil.rmtree(root / "output")
        third = process_partition(TASK, ports)
        assert third.run_id == first.run_id
        assert _data_files(root) == data


@PROPERTY
@given(spec=input_files)
def test_racing_runs_leave_one_manifest_and_identical_data(spec: list[tuple[int, int]]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        _land_files(root, spec)
        ports = make_ports(root, orders_dataset(max_quarantine_fraction=1.0))
        start = threading.Barrier(2)

        def race() -> PartitionResult:
            start.wait()
            return process_partition(TASK, ports)

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = [future.result() for future in [pool.submit(race) for _ in range(2)]]
        statuses = sorted(result.status for result in results)
        assert statuses in (["committed", "skipped"], ["committed", "committed"])
        assert len({result.run_id for result in results}) == 1
        manifest = read_manifest(LocalStorage(), str(partition_dir(root)))
        assert manifest is not None
        named = {entry.path for entry in (*manifest.files, *manifest.quarantine)}
        data = _data_files(root)
        assert set(data) == named
        for entry in manifest.files:
            assert len(data[entry.path]) == entry.size


def test_exactly_one_of_two_racing_commits_wins(tmp_path: Path) -> None:
    """Both racers compute fully before either commits: one commits, the other sees its own
    run id in the manifest and reports skipped."""
    _land_files(tmp_path, [(5, 0)])
    ports = make_ports(tmp_path)
    both_computed = threading.Barrier(2)
    real_commit = load.commit_manifest

    def commit_after_both(*args: object, **kwargs: object) -> object:
        both_computed.wait(timeout=30)
        return real_commit(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "commit_manifest", commit_after_both)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(process_partition, TASK, ports) for _ in range(2)]
            results = [future.result() for future in futures]
    assert sorted(result.status for result in results) == ["committed", "skipped"]


class InjectedCrash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the worker handles it."""


def test_crash_between_data_write_and_commit_keeps_the_previous_state(tmp_path: Path) -> None:
    _land_files(tmp_path, [(6, 1)])
    ports = make_ports(tmp_path)
    committed = process_partition(TASK, ports)
    before = files_under(partition_dir(tmp_path))

    _land_files(tmp_path, [(6, 1), (4, 0)])
    with pytest.MonkeyPatch.context() as patch:

        def crash(*args: object, **kwargs: object) -> None:
            raise InjectedCrash

        patch.setattr(load, "commit_manifest", crash)
        with pytest.raises(InjectedCrash):
            process_partition(TASK, ports)

    # The new run's data file was uploaded, but the manifest still names the old one...
    after_crash = files_under(partition_dir(tmp_path))
    assert len([name for name in after_crash if name.startswith("part-")]) == 2
    manifest = read_manifest(ports.storage, str(partition_dir(tmp_path)))
    assert manifest is not None
    assert manifest.run_id == committed.run_id
    assert after_crash["_manifest.json"] == before["_manifest.json"]
    readable = pl.read_parquet(partition_dir(tmp_path) / manifest.files[0].path)
    assert readable.height == committed.rows_out

    # ... and the next run completes and removes the orphan.
    recovered = process_partition(TASK, ports)
    assert recovered.status == "committed"
    assert recovered.run_id != committed.run_id
    assert recovered.rows_out == 5 + 4
    assert sorted(
        name for name in files_under(partition_dir(tmp_path)) if name.startswith("part-")
    ) == [f"part-{recovered.run_id}-00000.parquet"]


def test_a_run_superseded_by_a_newer_commit_fails_without_a_failure_note(tmp_path: Path) -> None:
    _land_files(tmp_path, [(4, 0)])
    ports = make_ports(tmp_path)
    real_commit = load.commit_manifest

    def newer_run_commits_first(*args: object, **kwargs: object) -> object:
        # While this run computed, a new file arrived and another worker committed it.
        patch.setattr(load, "commit_manifest", real_commit)
        _land_files(tmp_path, [(4, 0), (2, 0)])
        process_partition(TASK, ports)
        return real_commit(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "commit_manifest", newer_run_commits_first)
        with pytest.raises(CommitConflictError, match="another run committed first"):
            process_partition(TASK, ports)
    manifest = read_manifest(ports.storage, str(partition_dir(tmp_path)))
    assert manifest is not None
    assert manifest.rows_out == 6
    assert not (partition_dir(tmp_path) / "_last_failure.json").exists()
