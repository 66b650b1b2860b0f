"""Partition checks in process_partition: unique keys, row counts, nulls, freshness, custom.

Uniqueness is declared the way Pandera's polars models declare it: ``Field(unique=True)``
on a column and ``Config.unique = [...]`` for a composite key ("the combination of values
... must be unique", https://pandera.readthedocs.io/en/stable/dataframe_models.html and
https://pandera.readthedocs.io/en/stable/polars.html). Custom aggregates are Polars
expressions reducing a frame to one value (``Expr.sum``/``Expr.max`` are aggregations,
https://docs.pola.rs/user-guide/expressions/aggregation/).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from core_support import (
    DAY,
    OrdersIn,
    encode,
    make_ports,
    orders_dataset,
    orders_rows,
    partition_dir,
    write_input,
)

from worker.core import unique_keys
from worker.core.formats import Csv
from worker.core.load import partition_state, read_manifest
from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition
from worker.core.quality import Expect, Freshness
from worker.errors import ConfigurationError, QualityError

TASK = PartitionTask("orders", DAY)


class UniqueOrders(OrdersIn):
    order_id: int = pa.Field(ge=1, unique=True)


class UniqueAmount(OrdersIn):
    amount: float = pa.Field(ge=0, unique=True)  # the orders transform drops this column


class UniquePerStatus(OrdersIn):
    class Config:
        unique = ("status", "placed_at")


def land(tmp_path: Path, frame: pl.DataFrame) -> None:
    write_input(tmp_path / "landing", "a.csv", encode(frame, Csv()))


def with_duplicates(count: int, repeated: list[int]) -> pl.DataFrame:
    rows = orders_rows(count)
    return pl.concat([rows, rows.filter(pl.col("order_id").is_in(repeated))])


def run(tmp_path: Path, **dataset: object) -> object:
    ports = make_ports(tmp_path, orders_dataset(**dataset))
    return process_partition(TASK, ports)


def test_a_duplicated_key_fails_the_partition_naming_the_first_keys_and_counts(
    tmp_path: Path,
) -> None:
    land(tmp_path, with_duplicates(20, [7, 3]))
    with pytest.raises(QualityError) as failed:
        run(tmp_path, input_model=UniqueOrders)
    message = str(failed.value)
    assert failed.value.reason == "quality"
    assert "unique:order_id" in message
    assert "2 duplicate rows over 2 keys" in message
    assert message.index("order_id=3") < message.index("order_id=7")  # input order
    assert "x2" in message
    assert read_manifest(make_ports(tmp_path).storage, str(partition_dir(tmp_path))) is None
    state = partition_state(make_ports(tmp_path).storage, str(tmp_path / "output"), "orders", DAY)
    assert state.status == "failed"
    assert [(item.name, item.passed) for item in state.quality] == [("unique:order_id", False)]


def test_a_key_the_transform_drops_is_checked_inside_the_pass(tmp_path: Path) -> None:
    land(tmp_path, with_duplicates(20, [5]))
    with pytest.raises(QualityError, match=r"unique:amount: measured 1 duplicate rows over 1 keys"):
        run(tmp_path, input_model=UniqueAmount)


def test_a_composite_key_from_config_unique(tmp_path: Path) -> None:
    rows = orders_rows(6).with_columns(pl.lit("paid").alias("status"))
    rows = rows.with_columns(pl.lit(datetime(2024, 3, 5, 9)).alias("placed_at"))
    land(tmp_path, rows)
    with pytest.raises(QualityError, match=r"unique:status,placed_at: measured 5 duplicate rows"):
        run(tmp_path, input_model=UniquePerStatus)


def test_unique_keys_commit_and_report_when_they_hold(tmp_path: Path) -> None:
    land(tmp_path, orders_rows(30))
    result = run(tmp_path, input_model=UniqueOrders)
    manifest = read_manifest(make_ports(tmp_path).storage, str(partition_dir(tmp_path)))
    assert manifest is not None
    (check,) = manifest.quality
    assert (check.name, check.passed, check.measured) == (
        "unique:order_id",
        True,
        "0 duplicate rows",
    )
    assert result.quality == manifest.quality  # type: ignore[attr-defined]


def test_duplicates_spread_over_every_batch_are_all_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny batches force the read-back to span many batches of buckets.
    monkeypatch.setattr(unique_keys, "BATCH_ROWS", 5)
    land(tmp_path, with_duplicates(200, list(range(1, 201, 10))))
    with pytest.raises(QualityError, match="20 duplicate rows over 20 keys"):
        run(tmp_path, input_model=UniqueOrders)


def test_quarantine_keeps_the_first_occurrence_and_quarantines_the_rest(tmp_path: Path) -> None:
    rows = orders_rows(20)
    nine = rows.filter(pl.col("order_id") == 9)
    land(tmp_path, pl.concat([rows, nine, rows.filter(pl.col("order_id") == 4), nine]))
    result = run(tmp_path, input_model=UniqueOrders, expect=Expect(on_duplicate="quarantine"))
    counts = (result.rows_in, result.rows_out, result.rows_quarantined)  # type: ignore[attr-defined]
    assert counts == (23, 20, 3)
    quarantine = pl.read_parquet(next(partition_dir(tmp_path).rglob("_quarantine/*.parquet")))
    assert sorted(quarantine["order_id"].to_list()) == [4, 9, 9]
    assert set(quarantine["_failed_checks"]) == {"unique:order_id"}


def test_every_failed_error_check_is_named_with_its_measure_and_bound(tmp_path: Path) -> None:
    land(tmp_path, orders_rows(8))  # note is null for every 4th row: 2 of 8
    expect = Expect(
        min_rows=10,
        max_rows=100,
        max_null_fraction={"note": 0.1},
        freshness=Freshness(column="placed_at", within=timedelta(hours=1)),
        aggregates={"amount positive": pl.col("amount").sum() > 1_000_000},
    )
    with pytest.raises(QualityError) as failed:
        run(tmp_path, expect=expect)
    message = str(failed.value)
    assert "4 partition check(s) failed" in message
    assert "row_count: measured 8, bound 10..100 rows" in message
    assert "null_fraction:note: measured 0.2500, bound <= 0.1000" in message
    assert "freshness:placed_at: measured 2024-03-05T08:08:00+00:00" in message
    assert "bound >= 2024-03-05T23:00:00+00:00" in message
    assert "amount positive: measured false, bound true" in message


def test_warnings_commit_and_are_reported(tmp_path: Path) -> None:
    land(tmp_path, orders_rows(8))
    expect = Expect(
        min_rows=10,
        max_null_fraction={"note": 0.5},
        severity={"row_count": "warn"},
    )
    result = run(tmp_path, expect=expect)
    assert result.status == "committed"  # type: ignore[attr-defined]
    manifest = read_manifest(make_ports(tmp_path).storage, str(partition_dir(tmp_path)))
    assert manifest is not None
    report = {item.name: item for item in manifest.quality}
    assert report["row_count"].passed is False
    assert report["row_count"].severity == "warn"
    assert report["null_fraction:note"].passed is True
    assert report["null_fraction:note"].measured == "0.2500"


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        (Expect(max_null_fraction={"nope": 0.1}), "lacks: nope"),
        (Expect(min_rows=5, max_rows=1), "min_rows is above max_rows"),
        (Expect(freshness=Freshness(column="status", within=timedelta(1))), "Datetime or Date"),
        (Expect(aggregates={"rowwise": pl.col("amount") > 0}), "one boolean"),
        (Expect(aggregates={"sum": pl.col("amount").sum()}), "one boolean"),
        (Expect(min_rows=1, severity={"row_cont": "warn"}), "unknown checks: row_cont"),
    ],
)
def test_checks_that_cannot_be_evaluated_are_refused_at_registration(
    expect: Expect, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        orders_dataset(expect=expect)
