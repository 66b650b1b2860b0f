"""The shipped ``trips`` dataset and its sample generator."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from worker.core.datasets import DatasetRegistry, load_registry
from worker.core.model import PartitionTask, Ports
from worker.core.pipeline import process_partition
from worker.datasets import trips_sample
from worker.datasets.trips import TRIPS, PaymentType, generate_trips_csv, write_sample_data
from worker.storage.local import LocalStorage

DAY = date(2024, 1, 15)


def _ports(root: Path) -> Ports:
    return Ports(
        storage=LocalStorage(),
        registry=DatasetRegistry([TRIPS]),
        landing_uri=str(root / "landing"),
        output_uri=str(root / "output"),
        workdir=root / "work",
        code_version="test",
        clock=lambda: datetime(2024, 1, 16, tzinfo=UTC),
    )


def test_generator_is_deterministic_per_seed() -> None:
    assert generate_trips_csv(DAY, 200, 0.1, seed=3) == generate_trips_csv(DAY, 200, 0.1, seed=3)
    assert generate_trips_csv(DAY, 200, 0.1, seed=3) != generate_trips_csv(DAY, 200, 0.1, seed=4)


def test_generated_csv_has_the_contract_columns_and_realistic_values() -> None:
    frame = pl.read_csv(io.BytesIO(generate_trips_csv(DAY, 2000, 0.0)), try_parse_dates=True)
    assert frame.columns == list(TRIPS.input_contract.columns)
    assert frame.height == 2000
    assert frame["trip_id"].is_unique().all()
    assert frame["pickup_at"].dt.date().unique().to_list() == [DAY]
    assert set(frame["payment_type"].unique()) <= set(PaymentType.categories)
    assert frame["passenger_count"].null_count() > 0
    assert frame["store_and_forward"].null_count() > 0
    assert frame["tip_amount"].null_count() > 0


def test_write_sample_data_names_files_by_day_and_chunks_large_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trips_sample, "CHUNK_ROWS", 7)
    uris = write_sample_data(LocalStorage(), str(tmp_path), DAY, 2, 30, 0.0, seed=1)
    assert uris == [
        str(tmp_path / "trips" / "2024-01-15.csv"),
        str(tmp_path / "trips" / "2024-01-16.csv"),
    ]
    text = Path(uris[0]).read_text()
    assert text.count("trip_id") == 1
    ids = pl.read_csv(io.StringIO(text))["trip_id"].to_list()
    assert len(ids) == 30
    assert ids == sorted(set(ids))
    routed = DatasetRegistry([TRIPS]).match(uris[1], str(tmp_path))
    assert routed is not None
    assert routed[1] == date(2024, 1, 16)


def test_clean_sample_passes_every_check_and_transforms(tmp_path: Path) -> None:
    write_sample_data(LocalStorage(), str(tmp_path / "landing"), DAY, 1, 500, 0.0)
    result = process_partition(PartitionTask("trips", DAY), _ports(tmp_path))
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (500, 500, 0)
    out = pl.read_parquet(result.files[0])
    assert out.schema["payment_type"] == PaymentType
    tips = out["tip_amount"].fill_null(0.0)
    assert ((out["fare_amount"] + tips).round(2) == out["total_amount"]).all()
    durations = (out["dropoff_at"] - out["pickup_at"]).dt.total_seconds()
    assert (durations == out["duration_s"]).all()
    assert out["trip_id"].is_sorted() or out["pickup_at"].is_sorted()


def test_bad_rows_parse_but_fail_row_checks(tmp_path: Path) -> None:
    write_sample_data(LocalStorage(), str(tmp_path / "landing"), DAY, 1, 1000, 0.04, seed=9)
    result = process_partition(PartitionTask("trips", DAY), _ports(tmp_path))
    assert result.rows_in == 1000
    assert 20 <= result.rows_quarantined <= 60
    quarantine = pl.read_parquet(Path(result.partition_uri) / "_quarantine")
    failed = set(quarantine["_failed_checks"].unique())
    assert failed == {
        "fare_amount: greater_than_or_equal_to(0)",
        "dropoff_at >= pickup_at",
        "passenger_count: in_range(0, 9)",
        "payment_type: isin(['card', 'cash', 'no_charge', 'dispute', 'unknown'])",
        "trip_distance_km: greater_than_or_equal_to(0)",
        "pickup_zone: in_range(1, 265)",
    }


def test_too_many_bad_rows_exceed_the_trips_threshold(tmp_path: Path) -> None:
    from worker.errors import QuarantineThresholdError

    write_sample_data(LocalStorage(), str(tmp_path / "landing"), DAY, 1, 400, 0.5)
    with pytest.raises(QuarantineThresholdError):
        process_partition(PartitionTask("trips", DAY), _ports(tmp_path))


def test_trips_is_registered_by_default() -> None:
    described = load_registry().get("trips").describe()
    assert described["match"]["glob"] == "trips/{date}.csv"
    assert described["thresholds"]["max_quarantine_fraction"] == 0.05
    assert "dropoff_at >= pickup_at" in described["input"]["dataframe_checks"]
