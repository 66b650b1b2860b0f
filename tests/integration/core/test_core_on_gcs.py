"""process_partition against real Cloud Storage semantics (fake-gcs-server): downloads,
uploads, the conditional manifest commit, racing writers and stale-file cleanup."""

from __future__ import annotations

import io
import resource
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from worker.core.budget import ByteBudget
from worker.core.datasets import DatasetRegistry
from worker.core.load import partition_state, read_manifest
from worker.core.model import PartitionResult, PartitionTask, Ports
from worker.core.pipeline import process_partition
from worker.datasets.trips import TRIPS, generate_trips_csv
from worker.devenv.emulators import ManagedProcess
from worker.errors import ForbiddenPathError, InputFormatError
from worker.storage.gcs import GcsStorage

pytestmark = pytest.mark.integration
DAY = date(2024, 2, 29)


@pytest.fixture
def gcs(gcs_server: ManagedProcess) -> Iterator[GcsStorage]:
    with GcsStorage() as store:
        yield store


@pytest.fixture
def ports(gcs: GcsStorage, unique_name: str, tmp_path: Path) -> Ports:
    gcs.ensure_bucket(unique_name)
    return Ports(
        storage=gcs,
        registry=DatasetRegistry([TRIPS]),
        landing_uri=f"gs://{unique_name}/landing",
        output_uri=f"gs://{unique_name}/warehouse",
        workdir=tmp_path / "work",
        code_version="it",
        clock=lambda: datetime(2024, 3, 1, tzinfo=UTC),
    )


def _land(ports: Ports, name: str, rows: int, seed: int = 0) -> str:
    uri = f"{ports.landing_uri}/trips/{name}"
    ports.storage.write_bytes(uri, generate_trips_csv(DAY, rows, 0.02, seed=seed))
    return uri


def _read_data(ports: Ports, result: PartitionResult) -> pl.DataFrame:
    found = ports.storage.read_bytes(result.files[0])
    assert found is not None
    return pl.read_parquet(io.BytesIO(found[0]))


def test_commit_skip_and_recompute_on_gcs(ports: Ports) -> None:
    _land(ports, f"{DAY}.csv", 300)
    first = process_partition(PartitionTask("trips", DAY), ports)
    assert first.status == "committed"
    assert first.partition_uri.endswith("/warehouse/trips/year=2024/month=02/day=29")
    assert _read_data(ports, first).height == first.rows_out
    assert first.rows_in == 300
    again = process_partition(PartitionTask("trips", DAY), ports)
    assert (again.status, again.run_id) == ("skipped", first.run_id)

    # The same bytes uploaded again are a new generation with the same md5Hash/crc32c:
    # the same input, the same run id, nothing recomputed.
    old_generation = first.inputs[0].generation
    _land(ports, f"{DAY}.csv", 300)
    reuploaded = process_partition(PartitionTask("trips", DAY), ports)
    assert (reuploaded.status, reuploaded.run_id) == ("skipped", first.run_id)
    assert reuploaded.inputs[0].generation != old_generation
    manifest = read_manifest(ports.storage, first.partition_uri)
    assert manifest is not None
    assert [entry.generation for entry in manifest.inputs] == [old_generation]
    assert manifest.inputs[0].content is not None
    assert manifest.inputs[0].content.startswith("md5:")

    # A new version with other content has a new digest, hence a new run id; the old
    # data file is removed after the new manifest commits.
    _land(ports, f"{DAY}.csv", 200, seed=1)
    second = process_partition(PartitionTask("trips", DAY), ports)
    assert second.status == "committed"
    assert second.run_id != first.run_id
    names = [info.uri for info in ports.storage.list(second.partition_uri)]
    assert f"{second.partition_uri}/part-{first.run_id}-00000.parquet" not in names
    assert f"{second.partition_uri}/part-{second.run_id}-00000.parquet" in names
    state = partition_state(ports.storage, ports.output_uri, "trips", DAY)
    assert (state.status, state.run_id) == ("committed", second.run_id)


def test_racing_workers_commit_once_on_gcs(ports: Ports) -> None:
    _land(ports, f"{DAY}.csv", 300)
    start = threading.Barrier(3)

    def race() -> PartitionResult:
        start.wait()
        return process_partition(PartitionTask("trips", DAY), ports)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = [f.result() for f in [pool.submit(race) for _ in range(3)]]
    assert len({result.run_id for result in results}) == 1
    assert "committed" in {result.status for result in results}
    assert {result.status for result in results} <= {"committed", "skipped"}
    manifest = read_manifest(ports.storage, results[0].partition_uri)
    assert manifest is not None
    assert manifest.run_id == results[0].run_id
    stored = ports.storage.stat(f"{results[0].partition_uri}/{manifest.files[0].path}")
    assert stored is not None
    assert stored.size == manifest.files[0].size


def test_inputs_outside_the_landing_prefix_are_refused_on_gcs(ports: Ports) -> None:
    outside = ports.landing_uri.replace("/landing", "/elsewhere") + f"/trips/{DAY}.csv"
    with pytest.raises(ForbiddenPathError):
        process_partition(PartitionTask("trips", DAY, inputs=[outside]), ports)


def test_a_download_beyond_the_scratch_budget_is_refused_before_it_starts(ports: Ports) -> None:
    """The object's size comes from its resource (``size``,
    https://cloud.google.com/storage/docs/json_api/v1/objects#resource), so the download
    is refused without a byte of it in scratch: this thread's written blocks (getrusage(2)
    RUSAGE_THREAD ``ru_oublock``, counted when pages are dirtied) stay far below its size,
    and the same partition within budget writes them."""
    uri = _land(ports, f"{DAY.isoformat()}.csv", rows=20_000)
    size = ports.storage.stat(uri)
    assert size is not None
    budget = ByteBudget(scratch_bytes=size.size - 1)
    before = _written_by_this_thread()
    with pytest.raises(InputFormatError, match=f"the download needs {size.size} bytes"):
        process_partition(
            PartitionTask(dataset="trips", partition=DAY), replace(ports, budget=budget)
        )
    refused = _written_by_this_thread() - before
    committed = process_partition(PartitionTask(dataset="trips", partition=DAY), ports)
    assert committed.status == "committed"
    assert refused < size.size // 4
    assert _written_by_this_thread() - before >= size.size


def _written_by_this_thread() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_oublock * 512
