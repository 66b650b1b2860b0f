"""The dataset spec (the user's extension point) and the registry the worker routes with.

A dataset module is plain Python. It builds :class:`Dataset` objects and exposes them in one
of two ways, which :func:`load_registry` understands:

- a module-level ``DATASETS`` sequence of :class:`Dataset`, or
- a function ``register(registry: DatasetRegistry) -> None`` that calls ``registry.register``.

Modules are named by the ``WORKER_DATASETS`` setting; the shipped examples
(``worker.datasets``) are always registered first.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pandera.polars as pa
import polars as pl

from worker.core.contract import Contract, RowCheck, compile_contract
from worker.core.formats import Csv, InputFormat, InputLimits
from worker.core.matching import MatchRule
from worker.core.quality import Expect, QualityPlan, plan_quality, unique_check_name
from worker.errors import ConfigurationError, UnknownDatasetError
from worker.storage.uris import parse_uri, relative_to

SHIPPED_DATASETS_MODULE = "worker.datasets"
_NAME = re.compile(r"[a-z][a-z0-9_\-]{0,62}")

Transform = Callable[[pl.LazyFrame], pl.LazyFrame]


def identity(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """Everything the worker needs to turn one day's input objects into a partition."""

    name: str
    """Lower-case slug; the output directory under the output root."""
    match: MatchRule
    input_model: type[pa.DataFrameModel]
    """Pandera contract of the input: column types, nullability and row checks."""
    transform: Transform = identity
    """Pure LazyFrame -> LazyFrame over the clean rows (contract columns only)."""
    output_model: type[pa.DataFrameModel] | None = None
    """Contract of the transform's result, checked before commit (None: the input contract)."""
    input_format: InputFormat = field(default_factory=Csv)
    max_quarantine_fraction: float = 0.01
    """Fail the partition when more than this fraction of rows fails row checks."""
    strict_parsing: bool = False
    """A value that does not parse into its column's type fails the partition
    (InputFormatError naming file, row, column and value) instead of quarantining its row."""
    allow_empty: bool = True
    """A day whose inputs hold no rows is committed as an empty partition (else an error)."""
    version: str = "1"
    """Bump when the transform or contract changes meaning: it enters the run id."""
    description: str = ""
    limits: InputLimits = field(default_factory=InputLimits)
    expect: Expect = field(default_factory=Expect)
    """Partition checks (row count, null fractions, freshness, custom aggregates) and their
    severities; unique keys come from ``input_model``. See :mod:`worker.core.quality`."""
    input_contract: Contract = field(init=False, repr=False, compare=False)
    output_contract: Contract = field(init=False, repr=False, compare=False)
    quality: QualityPlan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"dataset {self.name!r}"
        if not _NAME.fullmatch(self.name):
            raise ConfigurationError(
                "dataset names are lower-case letters, digits, '_' or '-', starting with a "
                "letter, at most 63 characters",
                where=where,
            )
        if not 0.0 <= self.max_quarantine_fraction <= 1.0:
            raise ConfigurationError("max_quarantine_fraction must be within 0..1", where=where)
        if not self.version:
            raise ConfigurationError("version must not be empty", where=where)
        input_contract = compile_contract(self.input_model, where=f"{where} input_model")
        quality = plan_quality(input_contract, self.expect, where=f"{where} expect")
        output_contract = (
            compile_contract(self.output_model, where=f"{where} output_model")
            if self.output_model is not None
            else input_contract
        )
        if self.output_model is not None and output_contract.unique_keys:
            raise ConfigurationError(
                "unique keys are checked on the input model; declare them there",
                where=f"{where} output_model",
            )
        if self.expect.on_duplicate == "quarantine":
            input_contract = replace(
                input_contract,
                row_checks=(*input_contract.row_checks, *_first_occurrence_rules(input_contract)),
            )
        object.__setattr__(self, "input_contract", input_contract)
        object.__setattr__(self, "output_contract", output_contract)
        object.__setattr__(self, "quality", quality)

    def partition_date(self, uri: str, landing_uri: str) -> date | None:
        """The partition an object under the landing root feeds, or None if not this dataset's."""
        relative = relative_to(uri, landing_uri)
        return self.match.partition_date(relative, parse_uri(uri).bucket)

    def describe(self) -> dict[str, Any]:
        """What ``worker datasets`` shows: contracts, checks, thresholds, match rule, version."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "match": self.match.describe(),
            "input_format": self.input_format.describe(),
            "input": self.input_contract.describe(),
            "output": self.output_contract.describe(),
            "thresholds": {"max_quarantine_fraction": self.max_quarantine_fraction},
            "strict_parsing": self.strict_parsing,
            "expect": self.quality.describe(),
            "allow_empty": self.allow_empty,
            "limits": self.limits.describe(),
            "transform": getattr(self.transform, "__qualname__", repr(self.transform)),
        }


def _first_occurrence_rules(contract: Contract) -> list[RowCheck]:
    # Holds every key of the partition in memory (Polars' is_first_distinct): the price of
    # deciding per row, during the pass, which occurrence comes first.
    return [
        RowCheck(
            unique_check_name(keys),
            pl.struct(list(keys)).is_first_distinct(),
            whole_column=True,
        )
        for keys in contract.unique_keys
    ]


class DatasetRegistry:
    """Datasets by name, in registration order."""

    def __init__(self, datasets: Sequence[Dataset] = ()) -> None:
        self._datasets: dict[str, Dataset] = {}
        for dataset in datasets:
            self.register(dataset)

    def register(self, dataset: Dataset) -> Dataset:
        if not isinstance(dataset, Dataset):
            raise ConfigurationError(
                f"only Dataset objects can be registered, got {type(dataset).__name__}"
            )
        if dataset.name in self._datasets:
            raise ConfigurationError(
                "a dataset with this name is already registered", where=f"dataset {dataset.name!r}"
            )
        self._datasets[dataset.name] = dataset
        return dataset

    def get(self, name: str) -> Dataset:
        try:
            return self._datasets[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownDatasetError(
                f"unknown dataset {name!r} (known: {known})", where="dataset registry"
            ) from None

    def names(self) -> list[str]:
        return list(self._datasets)

    def all(self) -> list[Dataset]:
        return list(self._datasets.values())

    def match(self, uri: str, landing_uri: str) -> tuple[Dataset, date] | None:
        """Route an arriving object to its dataset and partition date.

        Returns None when no dataset claims it; raises ForbiddenPathError when the object lies
        outside the landing root and ConfigurationError when two datasets claim it."""
        found: list[tuple[Dataset, date]] = []
        for dataset in self._datasets.values():
            day = dataset.partition_date(uri, landing_uri)
            if day is not None:
                found.append((dataset, day))
        if len(found) > 1:
            claimants = ", ".join(dataset.name for dataset, _ in found)
            raise ConfigurationError(f"several datasets match this object: {claimants}", where=uri)
        return found[0] if found else None


def _register_module(registry: DatasetRegistry, module_name: str) -> None:
    where = f"dataset module {module_name!r}"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigurationError(
            f"cannot import: {type(exc).__name__}: {exc}", where=where
        ) from exc
    hook = getattr(module, "register", None)
    declared = getattr(module, "DATASETS", None)
    if hook is None and declared is None:
        raise ConfigurationError("defines neither DATASETS nor register(registry)", where=where)
    try:
        if declared is not None:
            for dataset in declared:
                registry.register(dataset)
        if callable(hook):
            hook(registry)
    except ConfigurationError as exc:
        raise ConfigurationError(exc.message, where=f"{where}: {exc.where}") from exc
    except Exception as exc:
        raise ConfigurationError(
            f"registering failed: {type(exc).__name__}: {exc}", where=where
        ) from exc


def load_registry(modules: Sequence[str] = ()) -> DatasetRegistry:
    """The shipped datasets plus those of each user module, in order."""
    registry = DatasetRegistry()
    for module_name in (SHIPPED_DATASETS_MODULE, *modules):
        _register_module(registry, module_name)
    return registry
