"""process_partition: run ids, manifest, skip/force/dry run, quarantine, cleanup, stages, logs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from core_support import (
    DAY,
    FIXED_NOW,
    encode,
    files_under,
    make_ports,
    orders_dataset,
    orders_rows,
    partition_dir,
    write_input,
)
from structlog.testing import capture_logs

from worker.core.formats import Csv
from worker.core.load import partition_state, read_manifest
from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition
from worker.errors import ContractError, QuarantineThresholdError, WorkerError

TASK = PartitionTask("orders", DAY)


def _land(tmp_path: Path, name: str = "a.csv", rows: pl.DataFrame | None = None) -> Path:
    frame = orders_rows(10) if rows is None else rows
    return write_input(tmp_path / "landing", name, encode(frame, Csv()))


def test_run_id_depends_on_inputs_contents_and_version_only(tmp_path: Path) -> None:
    first = _land(tmp_path, "a.csv")
    _land(tmp_path, "b.csv", orders_rows(5, start=100))
    ports = make_ports(tmp_path)
    dry = process_partition(PartitionTask("orders", DAY, dry_run=True), ports)
    explicit = PartitionTask(
        "orders", DAY, inputs=[str(first), str(first.with_name("b.csv"))][::-1]
    )
    assert (
        process_partition(PartitionTask(**{**_fields(explicit), "dry_run": True}), ports).run_id
        == dry.run_id
    )
    assert process_partition(PartitionTask("orders", DAY, dry_run=True), ports).run_id == dry.run_id
    bumped = make_ports(tmp_path, orders_dataset(version="2"))
    assert (
        process_partition(PartitionTask("orders", DAY, dry_run=True), bumped).run_id != dry.run_id
    )
    # A new generation (a local file's mtime) holding the same bytes is the same input.
    os.utime(first, ns=(1, 1))
    assert process_partition(PartitionTask("orders", DAY, dry_run=True), ports).run_id == dry.run_id
    content = bytearray(first.read_bytes())
    content[-2] = ord("9") if content[-2] != ord("9") else ord("8")
    first.write_bytes(bytes(content))
    assert process_partition(PartitionTask("orders", DAY, dry_run=True), ports).run_id != dry.run_id


def test_reuploading_identical_bytes_is_skipped_and_a_changed_byte_recomputes(
    tmp_path: Path,
) -> None:
    first_path = _land(tmp_path)
    ports = make_ports(tmp_path)
    first = process_partition(TASK, ports)
    original = first_path.read_bytes()
    # Re-upload: a new file (new inode, new mtime: a new generation) with the same bytes.
    first_path.unlink()
    first_path.write_bytes(original)
    os.utime(first_path, ns=(10**18, 10**18))
    again = process_partition(TASK, ports)
    assert (again.status, again.run_id) == ("skipped", first.run_id)
    manifest = read_manifest(ports.storage, first.partition_uri)
    assert manifest is not None
    (recorded,) = manifest.inputs
    assert recorded.content == "sha256:" + hashlib.sha256(original).hexdigest()
    assert recorded.generation != 10**18  # lineage: the generation that was read and committed
    first_path.write_bytes(original.replace(b"\n1,", b"\n7,", 1))
    changed = process_partition(TASK, ports)
    assert changed.status == "committed"
    assert changed.run_id != first.run_id


def _fields(task: PartitionTask) -> dict[str, object]:
    return {name: getattr(task, name) for name in task.__dataclass_fields__}


def test_manifest_records_files_checksums_inputs_and_timings(tmp_path: Path) -> None:
    _land(
        tmp_path,
        rows=orders_rows(10).with_columns(amount=pl.lit(-1.0).head(1).extend_constant(1.0, 9)),
    )
    result = process_partition(TASK, make_ports(tmp_path))
    manifest = read_manifest(make_ports(tmp_path).storage, result.partition_uri)
    assert manifest is not None
    assert manifest.run_id == result.run_id
    assert (manifest.rows_in, manifest.rows_out, manifest.rows_quarantined) == (10, 9, 1)
    assert manifest.code_version == "test"
    assert manifest.committed_at == FIXED_NOW
    assert manifest.dataset_version == "1"
    assert [entry.uri for entry in manifest.inputs] == [str(_land_path(tmp_path, "a.csv"))]
    assert {"extract", "validate", "transform", "data_pass"} <= set(manifest.timings_s)
    assert manifest.columns["amount_cents"] == "Int64"
    (data,) = manifest.files
    assert data.path == f"part-{result.run_id}-00000.parquet"
    local = partition_dir(tmp_path) / data.path
    assert data.sha256 == hashlib.sha256(local.read_bytes()).hexdigest()
    assert data.size == local.stat().st_size
    assert data.rows == pl.read_parquet(local).height == 9
    (quarantined,) = manifest.quarantine
    assert quarantined.path == f"_quarantine/part-{result.run_id}-00000.parquet"
    assert (
        json.loads((partition_dir(tmp_path) / "_manifest.json").read_text())["run_id"]
        == result.run_id
    )


def _land_path(tmp_path: Path, name: str) -> Path:
    return tmp_path / "landing" / "orders" / DAY.isoformat() / name


def test_second_run_is_skipped_without_writing(tmp_path: Path) -> None:
    _land(tmp_path)
    ports = make_ports(tmp_path)
    first = process_partition(TASK, ports)
    before = {p: p.stat().st_mtime_ns for p in partition_dir(tmp_path).rglob("*")}
    second = process_partition(TASK, ports)
    assert (second.status, second.run_id, second.rows_out) == ("skipped", first.run_id, 10)
    assert second.files == first.files
    assert {p: p.stat().st_mtime_ns for p in partition_dir(tmp_path).rglob("*")} == before


def test_force_recomputes_the_same_bytes(tmp_path: Path) -> None:
    _land(tmp_path)
    ports = make_ports(tmp_path)
    first = process_partition(TASK, ports)
    data_before = files_under(partition_dir(tmp_path))
    forced = process_partition(PartitionTask("orders", DAY, force=True), ports)
    assert (forced.status, forced.run_id) == ("committed", first.run_id)
    after = files_under(partition_dir(tmp_path))
    assert {k: v for k, v in after.items() if k.endswith(".parquet")} == {
        k: v for k, v in data_before.items() if k.endswith(".parquet")
    }


def test_dry_run_plans_without_writing(tmp_path: Path) -> None:
    _land(tmp_path)
    ports = make_ports(tmp_path)
    plan = process_partition(PartitionTask("orders", DAY, dry_run=True), ports)
    assert plan.status == "dry-run"
    assert plan.reason == "would run: no committed manifest"
    assert len(plan.inputs) == 1
    assert not (tmp_path / "output").exists()
    assert not (tmp_path / "work").exists()
    committed = process_partition(TASK, ports)
    again = process_partition(PartitionTask("orders", DAY, dry_run=True), ports)
    assert (again.run_id, again.reason) == (committed.run_id, "would skip: already committed")
    _land(tmp_path, "b.csv", orders_rows(2, start=50))
    changed = process_partition(PartitionTask("orders", DAY, dry_run=True), ports)
    assert changed.reason is not None
    assert committed.run_id in changed.reason
    assert "changed" in changed.reason


def test_an_arrival_recomputes_from_all_inputs_and_removes_stale_files(tmp_path: Path) -> None:
    _land(tmp_path, "b.csv", orders_rows(3, start=20))
    ports = make_ports(tmp_path)
    first = process_partition(TASK, ports)
    part = partition_dir(tmp_path)
    (part / "part-0123456789abcdef-00000.parquet").write_bytes(b"left by a crashed run")
    (part / ".part-x.parquet.abc.tmp").write_bytes(b"half an upload")
    os.utime(part / ".part-x.parquet.abc.tmp", ns=(1, 1))
    _land(tmp_path, "a.csv", orders_rows(2, start=1))
    second = process_partition(TASK, ports)
    assert second.run_id != first.run_id
    assert pl.read_parquet(second.files[0])["order_id"].to_list() == [1, 2, 20, 21, 22]
    assert sorted(files_under(part)) == ["_manifest.json", f"part-{second.run_id}-00000.parquet"]
    assert not (part / ".part-x.parquet.abc.tmp").exists()


def test_quarantine_threshold_fails_and_keeps_the_bad_rows_for_inspection(tmp_path: Path) -> None:
    rows = orders_rows(10).with_columns(
        status=pl.when(pl.col("order_id") <= 3).then(pl.lit("??")).otherwise(pl.col("status"))
    )
    _land(tmp_path, rows=rows)
    ports = make_ports(tmp_path, orders_dataset(max_quarantine_fraction=0.2))
    with pytest.raises(
        QuarantineThresholdError, match=r"3 of 10 rows \(30.00%\).*20.00%"
    ) as raised:
        process_partition(TASK, ports)
    assert raised.value.exit_code == 4
    assert read_manifest(ports.storage, str(partition_dir(tmp_path))) is None
    note = json.loads((partition_dir(tmp_path) / "_last_failure.json").read_text())
    assert note["error_type"] == "QuarantineThresholdError"
    assert note["stage"] == "load"
    kept = pl.read_parquet(note["quarantine_uri"])
    assert kept["order_id"].to_list() == [1, 2, 3]
    # Raising the threshold lets it commit, and the commit clears the note and old files.
    relaxed = make_ports(tmp_path, orders_dataset(max_quarantine_fraction=0.3))
    result = process_partition(TASK, relaxed)
    assert result.rows_quarantined == 3
    assert not (partition_dir(tmp_path) / "_last_failure.json").exists()
    state = partition_state(relaxed.storage, relaxed.output_uri, "orders", DAY)
    assert (state.status, state.run_id, state.rows) == ("committed", result.run_id, 7)


def test_output_contract_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    _land(tmp_path)
    broken = orders_dataset(
        transform=lambda frame: frame.with_columns(pl.col("order_id").cast(pl.String))
    )
    with pytest.raises(
        ContractError, match=r"OrdersOut contract.*order_id.*dataset 'orders' transform"
    ):
        process_partition(TASK, make_ports(tmp_path, broken))
    assert sorted(files_under(partition_dir(tmp_path))) == ["_last_failure.json"]


def test_unexpected_errors_become_worker_errors(tmp_path: Path) -> None:
    _land(tmp_path)

    def explode(frame: pl.LazyFrame) -> pl.LazyFrame:
        raise KeyError("bug in the transform")

    with pytest.raises(WorkerError, match="unexpected KeyError in stage transform"):
        process_partition(TASK, make_ports(tmp_path, orders_dataset(transform=explode)))


def test_stages_are_wrapped_and_heartbeats_sent(tmp_path: Path) -> None:
    _land(tmp_path)
    stages: list[str] = []
    beats: list[int] = []

    @contextlib.contextmanager
    def stage(name: str) -> Iterator[None]:
        stages.append(name)
        yield

    ports = make_ports(tmp_path, stage=stage, heartbeat=lambda: beats.append(1))
    process_partition(TASK, ports)
    assert stages == ["extract", "validate", "transform", "load"]
    assert len(beats) == 4
    assert list((tmp_path / "work").iterdir()) == []  # scratch space is cleaned up


def test_log_lines_carry_dataset_partition_run_id_and_counts(tmp_path: Path) -> None:
    _land(tmp_path)
    with capture_logs() as logs:
        result = process_partition(TASK, make_ports(tmp_path))
    events = {entry["event"]: entry for entry in logs}
    for name in ("partition.started", "partition.completed"):
        assert events[name]["dataset"] == "orders"
        assert events[name]["partition"] == "2024-03-05"
        assert events[name]["run_id"] == result.run_id
    completed = events["partition.completed"]
    assert (completed["rows_in"], completed["rows_out"], completed["rows_quarantined"]) == (
        10,
        10,
        0,
    )
    assert completed["output"] == result.partition_uri
    assert completed["duration_s"] >= 0
