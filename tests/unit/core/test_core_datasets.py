"""Dataset spec, match rules and the registry."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from core_support import OrdersIn, orders_dataset
from pandera.api.polars.types import PolarsData

from worker.core.datasets import Dataset, DatasetRegistry, load_registry
from worker.core.formats import Csv, JsonLines
from worker.core.matching import MatchRule
from worker.errors import ConfigurationError, ForbiddenPathError, UnknownDatasetError


@pytest.mark.parametrize(
    ("rule", "name", "expected"),
    [
        (MatchRule(glob="trips/{date}.csv"), "trips/2024-01-31.csv", date(2024, 1, 31)),
        (MatchRule(glob="trips/{date}.csv"), "trips/2024-01-31.csv.gz", None),
        (MatchRule(glob="trips/{date}.csv"), "trips/sub/2024-01-31.csv", None),
        (MatchRule(glob="trips/{date}.csv"), "trips/2024-02-30.csv", None),
        (
            MatchRule(glob="e/{year}/{month}/{day}/*.jsonl"),
            "e/2023/12/01/a.jsonl",
            date(2023, 12, 1),
        ),
        (
            MatchRule(glob="e/**/{date}.csv", date_format="%Y%m%d"),
            "e/x/y/20240105.csv",
            date(2024, 1, 5),
        ),
        (MatchRule(glob="e/?{date}.csv"), "e/a2024-01-05.csv", date(2024, 1, 5)),
        (
            MatchRule(regex=r"raw/(?P<date>\d{4}-\d{2}-\d{2})_.*\.parquet"),
            "raw/2024-06-01_x.parquet",
            date(2024, 6, 1),
        ),
        (
            MatchRule(regex=r"raw/(?P<date>\d{4}-\d{2}-\d{2})_.*\.parquet"),
            "raw/2024-06-01.csv",
            None,
        ),
    ],
)
def test_match_rule_routes_names_to_partition_dates(
    rule: MatchRule, name: str, expected: date | None
) -> None:
    assert rule.partition_date(name) == expected


@pytest.mark.parametrize(
    ("rule", "ascii_name", "digits"),
    [
        (MatchRule(glob="trips/{date}.csv"), "trips/2024-01-21.csv", "\uff10\uff11\uff12\uff14"),
        (
            MatchRule(glob="e/{year}/{month}/{day}/*.jsonl"),
            "e/2024/01/21/a.jsonl",
            "\uff10\uff11\uff12\uff14",
        ),
        (
            MatchRule(glob="trips/{date}.csv", date_format="%Y%m%d"),
            "trips/20240121.csv",
            "\u0660\u0661\u0662\u0664",
        ),
        # A user's regex may use \d, which Python matches against every Unicode digit.
        (
            MatchRule(regex=r"raw/(?P<date>\d{4}-\d{2}-\d{2})\.csv"),
            "raw/2024-01-21.csv",
            "\uff10\uff11\uff12\uff14",
        ),
        (
            MatchRule(regex=r"raw/(?P<year>\d{4})/(?P<month>\d\d)/(?P<day>\d\d)\.csv"),
            "raw/2024/01/21.csv",
            "\uff10\uff11\uff12\uff14",
        ),
    ],
)
def test_dates_in_names_are_ascii_digits_only(
    rule: MatchRule, ascii_name: str, digits: str
) -> None:
    """Python's ``re`` matches ``\\d`` against any Unicode decimal digit, and ``int()`` reads
    them (https://docs.python.org/3/library/re.html, ``\\d``); a name's date is ASCII only:
    full-width ``2024-01-21.csv`` is no match."""
    unicode_name = ascii_name.translate(str.maketrans("0124", digits))
    assert unicode_name != ascii_name
    assert rule.partition_date(ascii_name) == date(2024, 1, 21)
    assert rule.partition_date(unicode_name) is None


def test_match_rule_bucket_restricts_objects() -> None:
    rule = MatchRule(glob="t/{date}.csv", bucket="landing-a")
    assert rule.partition_date("t/2024-01-01.csv", bucket="landing-a") == date(2024, 1, 1)
    assert rule.partition_date("t/2024-01-01.csv", bucket="landing-b") is None


def test_match_rule_static_prefix_is_where_listing_starts() -> None:
    assert MatchRule(glob="a/b/{date}/*.csv").static_prefix == "a/b"
    assert MatchRule(glob="{date}.csv").static_prefix == ""


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"glob": "a/{date}.csv", "regex": "x"},
        {"glob": "a/*.csv"},
        {"regex": "a/(?P<year>\\d{4}).csv"},
        {"regex": "a/(unclosed"},
        {"glob": "/abs/{date}.csv"},
        {"glob": "a/{date}.csv", "date_format": "%Y-%j"},
    ],
)
def test_match_rule_refuses_rules_without_a_date_or_ill_formed(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        MatchRule(**kwargs)


def test_registry_get_names_all_and_unknown() -> None:
    orders = orders_dataset()
    registry = DatasetRegistry([orders])
    assert registry.get("orders") is orders
    assert registry.names() == ["orders"]
    assert registry.all() == [orders]
    with pytest.raises(UnknownDatasetError, match="known: orders"):
        registry.get("nope")
    with pytest.raises(ConfigurationError, match="already registered"):
        registry.register(orders)


def test_registry_match_routes_under_the_landing_root(tmp_path: Path) -> None:
    registry = DatasetRegistry([orders_dataset()])
    landing = str(tmp_path / "landing")
    found = registry.match(f"{landing}/orders/2024-03-05/a.csv", landing)
    assert found is not None
    assert found[0].name == "orders"
    assert found[1] == date(2024, 3, 5)
    assert registry.match(f"{landing}/other/2024-03-05/a.csv", landing) is None
    with pytest.raises(ForbiddenPathError):
        registry.match(str(tmp_path / "elsewhere" / "orders" / "2024-03-05" / "a.csv"), landing)


def test_registry_match_refuses_ambiguous_routes(tmp_path: Path) -> None:
    registry = DatasetRegistry(
        [orders_dataset(), orders_dataset(name="orders2", input_format=Csv(separator=";"))]
    )
    landing = str(tmp_path)
    with pytest.raises(ConfigurationError, match="orders, orders2"):
        registry.match(f"{landing}/orders/2024-03-05/a.csv", landing)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Bad Name"}, "lower-case"),
        ({"max_quarantine_fraction": 1.5}, "within 0..1"),
        ({"version": ""}, "version"),
    ],
)
def test_dataset_refuses_bad_settings(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        orders_dataset(**overrides)


def test_dataset_refuses_checks_that_cannot_run_in_the_stream() -> None:
    class ElementWise(pa.DataFrameModel):
        a: int = pa.Field(ge=0)

        @pa.check("a", element_wise=True)
        def small(cls, value: int) -> bool:
            return value < 10

    class Collecting(pa.DataFrameModel):
        a: int

        @pa.dataframe_check
        def total(cls, data: PolarsData) -> bool:
            return bool(data.lazyframe.select(pl.col("a").sum()).collect().item() > 0)

    for model in (ElementWise, Collecting):
        with pytest.raises(ConfigurationError, match=r"check"):
            orders_dataset(input_model=model, output_model=None, transform=lambda f: f)


def test_describe_lists_contract_checks_thresholds_and_rule() -> None:
    described = orders_dataset(version="7").describe()
    assert json.loads(json.dumps(described)) == described  # `worker datasets --json` prints it
    assert described["name"] == "orders"
    assert described["version"] == "7"
    assert described["match"]["glob"] == "orders/{date}/*.csv*"
    assert described["thresholds"] == {"max_quarantine_fraction": 0.5}
    assert described["input_format"]["kind"] == "csv"
    columns = {column["name"]: column for column in described["input"]["columns"]}
    assert columns["amount"]["dtype"] == "Float64"
    assert "greater_than_or_equal_to(0)" in columns["amount"]["checks"]
    assert "below_1e9" in columns["order_id"]["checks"]
    assert columns["note"]["nullable"] is True
    assert [c["name"] for c in described["output"]["columns"]] == [
        "order_id",
        "amount_cents",
        "status",
        "placed_at",
        "note",
    ]
    assert described["allow_empty"] is True


def test_load_registry_registers_shipped_and_user_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_declared.py").write_text(
        textwrap.dedent(
            """
            from core_support import orders_dataset
            DATASETS = [orders_dataset(name="declared")]
            """
        )
    )
    (tmp_path / "acme_hooked.py").write_text(
        textwrap.dedent(
            """
            from core_support import orders_dataset
            def register(registry):
                registry.register(orders_dataset(name="hooked"))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = load_registry(["acme_declared", "acme_hooked"])
    assert registry.names() == ["trips", "declared", "hooked"]


def test_load_registry_names_the_module_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_broken.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "acme_empty.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="acme_missing") as missing:
        load_registry(["acme_missing"])
    assert missing.value.exit_code == 3
    with pytest.raises(ConfigurationError, match=r"acme_broken.*|boom"):
        load_registry(["acme_broken"])
    with pytest.raises(ConfigurationError, match="neither DATASETS nor register"):
        load_registry(["acme_empty"])
    for name in ("acme_broken", "acme_empty"):
        sys.modules.pop(name, None)


def test_input_format_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="separator"):
        Csv(separator=";;")
    assert JsonLines().describe() == {"kind": "jsonl"}


def test_default_output_contract_is_the_input_contract() -> None:
    dataset = Dataset(name="plain", match=MatchRule(glob="p/{date}.csv"), input_model=OrdersIn)
    assert dataset.output_contract is dataset.input_contract
