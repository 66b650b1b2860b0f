"""Turn a failure of the data pass into an error that names the file, row and column.

The one streaming pass reads every input together, so when Polars fails mid-way its message
names at most a column. Only on this error path, each input is probed alone to find the
culprit, and for a CSV value that does not parse, the first offending row is located.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from worker.core.datasets import Dataset
from worker.core.extract import ScannedInput, parse_temporal
from worker.core.formats import Csv
from worker.errors import InputFormatError

_CSV_COLUMN = re.compile(r"(?:at|in) column '(?P<column>[^']+)'")


def _summary(exc: BaseException, limit: int = 300) -> str:
    """Polars' message without its generic hints, on one line, bounded in length."""
    text = str(exc).split("\n\nYou might want to try", 1)[0]
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parsed(column: str, dtype: pl.DataType, options: Csv) -> pl.Expr:
    raw = pl.col(column)
    if dtype.is_temporal():
        return parse_temporal(raw, dtype, options.datetime_format, strict=False)
    if dtype == pl.Boolean():
        return pl.when(raw.str.to_lowercase().is_in(["true", "false"])).then(True)
    return raw.cast(dtype, strict=False)


def _offending_csv_row(
    scanned: ScannedInput, options: Csv, column: str, dtype: pl.DataType
) -> tuple[int, str] | None:
    try:
        bad = (
            pl.scan_csv(
                scanned.local,
                separator=options.separator,
                quote_char=options.quote_char,
                null_values=list(options.null_values),
                infer_schema=False,
                row_index_name="row",
                row_index_offset=1,
                glob=False,
            )
            .select("row", column)
            .filter(pl.col(column).is_not_null() & _parsed(column, dtype, options).is_null())
            .head(1)
            .collect()
        )
    except pl.exceptions.PolarsError:
        return None
    if bad.height == 0:
        return None
    return int(bad["row"][0]), str(bad[column][0])


def _probe(scanned: ScannedInput) -> pl.exceptions.PolarsError | None:
    """Read every column of one input, keeping nothing: the error it raises, if any."""
    try:
        scanned.frame.select(pl.all().null_count()).collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        return exc
    return None


def explain_read_failure(
    exc: pl.exceptions.PolarsError, dataset: Dataset, inputs: Sequence[ScannedInput]
) -> InputFormatError:
    """The InputFormatError for a Polars failure of the data pass over ``inputs``."""
    culprit, cause = None, exc
    if len(inputs) == 1:
        culprit = inputs[0]
    else:
        for scanned in inputs:
            found = _probe(scanned)
            if found is not None:
                culprit, cause = scanned, found
                break
    if culprit is None:
        uris = ", ".join(scanned.uri for scanned in inputs)
        return InputFormatError(f"reading the inputs failed: {_summary(exc)}", where=uris)
    message = f"unreadable {dataset.input_format.kind}: {_summary(cause)}"
    column_match = _CSV_COLUMN.search(str(cause))
    options = dataset.input_format
    if isinstance(options, Csv) and column_match:
        column = column_match.group("column")
        dtype = dataset.input_contract.columns.get(column)
        located = _offending_csv_row(culprit, options, column, dtype) if dtype is not None else None
        if located is not None:
            row, value = located
            # Line = data row + 1 header line, unless quoted fields span lines.
            message = (
                f"column {column!r}, data row {row} (line {row + 1}): {value!r} is not a "
                f"valid {dtype}"
            )
    return InputFormatError(message, where=culprit.uri)
