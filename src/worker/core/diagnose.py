"""Turn a failure of the data pass into an error that names the file, row and column.

The one streaming pass reads every input together, so when Polars fails mid-way its message
names at most a column. Only on this error path: a value that does not parse into its
column's type is located in the lenient frames (``locate_unparsed``: file, data row, column,
value, for every format and type); otherwise each input is probed alone to find the culprit,
and for a CSV value the CSV reader refused, the first offending row is located.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from worker.core.datasets import Dataset
from worker.core.extract import ScannedInput
from worker.core.formats import Csv
from worker.core.parsing import UNPARSED_PREFIX, parse_temporal, unparsed_columns
from worker.core.validate import SOURCE_ROW
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


def _where_in_file(row: int, dataset: Dataset) -> str:
    if isinstance(dataset.input_format, Csv):
        # Line = data row + 1 header line, unless quoted fields span lines.
        return f"data row {row} (line {row + 1})"
    return f"data row {row}"


def locate_unparsed(dataset: Dataset, lenient: Sequence[ScannedInput]) -> InputFormatError | None:
    """The error for the first value, in input order, that does not parse into its column's
    type, read from the lenient frames; None when every value parses."""
    for scanned in lenient:
        flags = unparsed_columns(scanned.frame.collect_schema().names())
        if not flags:
            continue
        first = (
            scanned.frame.select(SOURCE_ROW, *flags)
            .filter(pl.any_horizontal(pl.col(flag).is_not_null() for flag in flags))
            .head(1)
            .collect(engine="streaming")
        )
        if first.height == 0:
            continue
        row = first.row(0, named=True)
        flag = next(name for name in flags if row[name] is not None)
        column = flag.removeprefix(UNPARSED_PREFIX)
        dtype = dataset.input_contract.columns[column]
        return InputFormatError(
            f"column {column!r}, {_where_in_file(int(row[SOURCE_ROW]), dataset)}: "
            f"{row[flag]!r} is not a valid {dtype}",
            where=scanned.uri,
        )
    return None


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
            message = (
                f"column {column!r}, {_where_in_file(row, dataset)}: {value!r} is not a "
                f"valid {dtype}"
            )
    return InputFormatError(message, where=culprit.uri)
