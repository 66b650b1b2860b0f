"""Text cells to contract types: the strict fast path and the lenient re-pass.

A partition's data pass first runs *strictly*: the CSV reader parses numbers and booleans
itself and temporal text is parsed with ``strict=True``, so rows that parse cost nothing
extra. Only when that pass fails is it run again *leniently*: every typed column is read as
text and parsed with ``strict=False``; a cell that is not null as text but null once parsed
did not parse. Its text is kept in a hidden ``_unparsed:<column>`` column (null when the
cell parsed), from which validation names the failure ``<column>: parse (<type>)`` and
quarantines the row, and from which a strict dataset's error quotes the value.

Time zones (one rule for the scan and for casts, see :mod:`worker.core.validate`): text with
a UTC offset (``Z``, ``+02:00``, ``-0530``) is converted to the column's zone, or to UTC
for a naive column; text without an offset is wall-clock time in the column's zone (UTC
for a naive column, which stays naive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

UNPARSED_PREFIX = "_unparsed:"

ISO_8601_WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%.f%#z"
"""A ``datetime_format`` for ISO-8601 text with an offset: ``Z``, ``+02``, ``+02:00`` or
``-0530``, with or without fractional seconds."""


def unparsed_column(name: str) -> str:
    return f"{UNPARSED_PREFIX}{name}"


def unparsed_columns(schema: Sequence[str]) -> list[str]:
    """The hidden ``_unparsed:*`` columns among ``schema``'s names."""
    return [name for name in schema if name.startswith(UNPARSED_PREFIX)]


def parse_check_name(column: str, dtype: pl.DataType) -> str:
    return f"{column}: parse ({dtype})"


def parse_temporal(text: pl.Expr, dtype: pl.DataType, fmt: str | None, *, strict: bool) -> pl.Expr:
    """Text to a Date/Datetime/Time/Duration column of ``dtype`` (time zones: module doc).

    With no ``fmt`` Polars infers the format from the first value; Polars refuses to infer
    an offset-aware format inside a lazy plan unless a time zone is given, so one always is."""
    if isinstance(dtype, pl.Datetime):
        zone = dtype.time_zone or "UTC"
        parsed = text.str.to_datetime(fmt, time_unit=dtype.time_unit, time_zone=zone, strict=strict)
        return parsed if dtype.time_zone else parsed.dt.replace_time_zone(None)
    if dtype == pl.Date():
        return text.str.to_date(fmt, strict=strict)
    if dtype == pl.Time():
        return text.str.to_time(fmt, strict=strict)
    return text.cast(dtype, strict=strict)


def _parse_lenient(text: pl.Expr, dtype: pl.DataType, fmt: str | None) -> pl.Expr:
    if dtype.is_temporal():
        return parse_temporal(text, dtype, fmt, strict=False)
    if dtype == pl.Boolean():
        # As the CSV reader: true/false in any case, surrounding blanks ignored.
        lowered = text.str.strip_chars().str.to_lowercase()
        return pl.when(lowered == "true").then(True).when(lowered == "false").then(False)
    if dtype.is_numeric():
        # The CSV reader ignores blanks around numbers; a plain cast does not.
        return text.str.strip_chars().cast(dtype, strict=False)
    return text.cast(dtype, strict=False)


def parse_leniently(
    frame: pl.LazyFrame, columns: Mapping[str, pl.DataType], fmt: str | None
) -> pl.LazyFrame:
    """Parse the text ``columns`` of ``frame`` into their types; beside each, the hidden
    ``_unparsed:<column>`` holds the text of cells that did not parse (else null)."""
    exprs: list[pl.Expr] = []
    for name, dtype in columns.items():
        text = pl.col(name)
        parsed = _parse_lenient(text, dtype, fmt)
        exprs.append(parsed.alias(name))
        exprs.append(
            pl.when(text.is_not_null() & parsed.is_null())
            .then(text)
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias(unparsed_column(name))
        )
    return frame.with_columns(exprs)


def cast_leniently(name: str, cast: pl.Expr) -> list[pl.Expr]:
    """A non-strict ``cast`` of column ``name`` and its ``_unparsed:`` companion: the source
    value, as text, where the cast gave null."""
    source = pl.col(name)
    return [
        cast.alias(name),
        pl.when(source.is_not_null() & cast.is_null())
        .then(source.cast(pl.String))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(unparsed_column(name)),
    ]
