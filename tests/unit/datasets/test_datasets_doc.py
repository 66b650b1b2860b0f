"""docs/datasets.md: the example module is imported, registered and run end to end."""

from __future__ import annotations

import gzip
import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from worker.core.datasets import load_registry
from worker.core.model import PartitionTask, Ports
from worker.core.pipeline import process_partition
from worker.errors import QualityError
from worker.storage.local import LocalStorage

DOC = Path(__file__).resolve().parents[3] / "docs" / "datasets.md"
DAY = date(2024, 3, 1)


def _example_module() -> str:
    found = re.search(
        r"<!-- example-module: acme_pipelines -->\s*```python\n(.*?)```", DOC.read_text(), re.S
    )
    assert found, "docs/datasets.md lost its example module"
    return found.group(1)


def _order(number: int, **changes: object) -> dict[str, object]:
    order = {
        "order_id": f"ORD-{number:06d}",
        "customer_id": 40 + number,
        "placed_at": f"2024-03-01T{number % 24:02d}:15:00Z",
        "quantity": 1 + number % 3,
        "unit_price": 9.99,
        "currency": "EUR",
        "coupon": "SPRING" if number % 2 else None,
    }
    order.update(changes)
    return order


def _write_hour(landing: Path, hour: int, orders: list[dict[str, object]]) -> None:
    path = landing / "shop" / "orders" / DAY.isoformat() / f"hour-{hour:02d}.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps(o) + "\n" for o in orders).encode()))


def test_doc_example_registers_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acme_pipelines.py").write_text(_example_module())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_pipelines", raising=False)
    registry = load_registry(["acme_pipelines"])
    assert registry.names() == ["trips", "shop_orders"]

    landing = tmp_path / "landing"
    _write_hour(landing, 9, [_order(n) for n in range(1, 30)])
    _write_hour(
        landing,
        10,
        [
            *(_order(n) for n in range(30, 80)),
            _order(81, currency="USD"),  # coupon outside EUR: a dataframe check fails
            _order(82, order_id="ORDER-82"),  # str_matches fails
            _order(83, quantity="two"),  # does not parse: the row is quarantined
            _order(84, placed_at="2024-03-01T12:15:00+01:00"),  # 11:15 UTC
        ],
    )
    ports = Ports(
        storage=LocalStorage(),
        registry=registry,
        landing_uri=str(landing),
        output_uri=str(tmp_path / "output"),
        workdir=tmp_path / "work",
        code_version="doc",
        clock=lambda: datetime(2024, 3, 2, tzinfo=UTC),
    )
    result = process_partition(PartitionTask("shop_orders", DAY), ports)
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (83, 80, 3)
    daily = pl.read_parquet(result.files[0])
    assert daily.columns == [
        "order_id",
        "customer_id",
        "placed_at",
        "currency",
        "amount",
        "has_coupon",
    ]
    assert daily["amount"][0] == pytest.approx(2 * 9.99)
    assert daily.schema["placed_at"] == pl.Datetime("us", "UTC")
    assert daily["placed_at"][0] == datetime(2024, 3, 1, 1, 15, tzinfo=UTC)
    assert daily["placed_at"][-1] == datetime(2024, 3, 1, 11, 15, tzinfo=UTC)
    assert [(check.name, check.passed) for check in result.quality] == [
        ("unique:order_id", True),
        ("row_count", True),
        ("null_fraction:coupon", True),
        ("freshness:placed_at", True),
        ("some orders in EUR", True),
    ]
    quarantine = pl.read_parquet(Path(result.partition_uri) / "_quarantine")
    assert sorted(quarantine["_failed_checks"].to_list()) == [
        "coupons are EUR only",
        "order_id: str_matches('^ORD-\\d{6}$')",
        "quantity: parse (Int32)",
    ]


def test_doc_example_fails_a_day_whose_order_ids_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_pipelines.py").write_text(_example_module())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_pipelines", raising=False)
    registry = load_registry(["acme_pipelines"])
    landing = tmp_path / "landing"
    _write_hour(landing, 9, [_order(n) for n in range(1, 30)])
    _write_hour(landing, 10, [_order(3), _order(7), _order(3)])
    ports = Ports(
        storage=LocalStorage(),
        registry=registry,
        landing_uri=str(landing),
        output_uri=str(tmp_path / "output"),
        workdir=tmp_path / "work",
        code_version="doc",
        clock=lambda: datetime(2024, 3, 2, tzinfo=UTC),
    )
    with pytest.raises(QualityError) as failed:
        process_partition(PartitionTask("shop_orders", DAY), ports)
    assert (
        "unique:order_id: measured 3 duplicate rows over 2 keys (first: "
        "(order_id='ORD-000003') x3, (order_id='ORD-000007') x2), bound 0 duplicate rows"
    ) in str(failed.value)
