"""The lenient re-pass, run only after the strict data pass failed.

The same prepared inputs are scanned again leniently (:mod:`worker.core.parsing`): values that
do not parse quarantine their rows and the pass runs again. A dataset with
``strict_parsing`` fails instead, naming the first such value. Whatever still cannot be read
is explained as an InputFormatError naming the file (:mod:`worker.core.diagnose`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from worker.core.datasets import Dataset
from worker.core.diagnose import explain_read_failure, locate_unparsed
from worker.core.extract import ScannedInput, combined, rescan
from worker.core.sink import StagedPartition
from worker.core.validate import Split, split
from worker.observability.logging import get_logger

Transform = Callable[[Dataset, pl.LazyFrame], pl.LazyFrame]
DataPass = Callable[[Split, pl.LazyFrame], StagedPartition]


def lenient_pass(
    dataset: Dataset,
    scanned: Sequence[ScannedInput],
    strict_failure: pl.exceptions.PolarsError,
    *,
    run_id: str,
    transform: Transform,
    data_pass: DataPass,
) -> StagedPartition:
    """Re-run the pass over lenient frames of ``scanned``; InputFormatError when it cannot."""
    get_logger("worker.core.reparse").info(
        "partition.reparsing",
        dataset=dataset.name,
        run_id=run_id,
        strict_failure=(str(strict_failure).strip().splitlines() or [""])[0][:300],
    )
    try:
        lenient = [rescan(one, dataset, lenient=True) for one in scanned]
        if dataset.strict_parsing:
            located = locate_unparsed(dataset, lenient)
            raise located or explain_read_failure(strict_failure, dataset, scanned)
        branches = split(combined(lenient), dataset.input_contract, dataset.quality.measures)
        transformed = transform(dataset, branches.clean)
        try:
            return data_pass(branches, transformed)
        except pl.exceptions.PolarsError as exc:
            raise explain_read_failure(exc, dataset, lenient) from exc
    except pl.exceptions.PolarsError as exc:
        raise explain_read_failure(exc, dataset, scanned) from exc
