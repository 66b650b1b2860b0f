"""Extract: input objects → one lazy frame in contract shape, scanned once, later.

Each input is made local (read in place when the storage has a local path, downloaded to the
scratch directory otherwise), run through the byte-level guards (scratch budget, gzip,
longest record, Avro blocks, Parquet footer and row groups), and scanned lazily with
only the contract's columns projected. The frames of one partition's inputs are concatenated
in input order (inputs are sorted by URI), so the row order is stable.

Scans are strict by default (the fast path); :func:`rescan` builds the lenient frames of the
same, already prepared files for the re-pass (see :mod:`worker.core.parsing`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from worker.core.avro import avro_to_parquet
from worker.core.avro_blocks import check_avro_blocks
from worker.core.budget import ByteBudget, ScratchMeter
from worker.core.contract import Contract
from worker.core.datasets import Dataset
from worker.core.formats import Avro, Csv, JsonLines, Parquet, is_gzipped_name, name_fits_format
from worker.core.guards import gunzip, read_csv_header, require_content, transcode_to_utf8
from worker.core.parquet_footer import check_parquet_footer
from worker.core.parsing import parse_leniently, parse_temporal
from worker.core.record_limits import check_record_lengths
from worker.core.validate import SOURCE_ROW, SOURCE_URI, conform
from worker.errors import InputFormatError, InputNotFoundError
from worker.storage.base import Storage
from worker.storage.uris import parse_uri

_CONTENT_KIND = {"csv": "text", "jsonl": "text", "parquet": "parquet", "avro": "avro"}


@dataclass(frozen=True)
class ScannedInput:
    """One input, ready to be read: where it came from, the local file, its lazy frame."""

    uri: str
    local: Path
    """The file that is read (after download, gunzip and transcoding to UTF-8)."""
    frame: pl.LazyFrame
    batches: tuple[Path, ...] = ()
    """For Avro: the Parquet staging files the frame reads."""


def _lineage_schema(contract: Contract) -> pl.Schema:
    return pl.Schema({**contract.columns, SOURCE_ROW: pl.UInt32(), SOURCE_URI: pl.String()})


@dataclass(frozen=True)
class _Extraction:
    """What every input of one partition shares: its dataset, storage, scratch and budget."""

    dataset: Dataset
    storage: Storage
    scratch: Path
    budget: ByteBudget
    meter: ScratchMeter
    sizes: Mapping[str, int]


def _materialize(uri: str, run: _Extraction, index: int) -> Path:
    local = run.storage.local_path(uri)
    if local is not None:
        if not local.is_file():
            raise InputNotFoundError("input file does not exist", where=uri)
        return local
    name = posixpath.basename(parse_uri(uri).key) or "object"
    dest = run.scratch / f"{index:04d}-{name}"
    known = run.sizes.get(uri)
    if known is not None:
        run.meter.claim(known, what="the download", where=uri)
    info = run.storage.download(uri, dest)
    if known is None:
        run.meter.claim(info.size, what="the download", where=uri)
    return dest


def _text_read(columns: dict[str, pl.DataType], *, lenient: bool) -> dict[str, pl.DataType]:
    """The typed columns read as text and parsed after the scan: temporal ones always (several
    times faster than the readers' own datetime parsing), every non-text one when lenient."""
    return {
        name: dtype
        for name, dtype in columns.items()
        if dtype.is_temporal() or (lenient and dtype != pl.String())
    }


def _parsed(
    frame: pl.LazyFrame, text: dict[str, pl.DataType], fmt: str | None, *, lenient: bool
) -> pl.LazyFrame:
    if lenient:
        return parse_leniently(frame, text, fmt)
    return frame.with_columns(
        parse_temporal(pl.col(name), dtype, fmt, strict=True).alias(name)
        for name, dtype in text.items()
    )


def _scan_csv(
    path: Path, options: Csv, dataset: Dataset, where: str, *, lenient: bool
) -> pl.LazyFrame:
    header = read_csv_header(path, options, dataset.limits, where=where)
    contract = dataset.input_contract
    if not header:
        return pl.LazyFrame(schema=_lineage_schema(contract))
    typed = {name: contract.columns[name] for name in header if name in contract.columns}
    text = _text_read(typed, lenient=lenient)
    frame = pl.scan_csv(
        path,
        separator=options.separator,
        quote_char=options.quote_char,
        null_values=list(options.null_values),
        infer_schema=False,
        schema_overrides={name: dtype for name, dtype in typed.items() if name not in text},
        row_index_name=SOURCE_ROW,
        row_index_offset=1,
        glob=False,
    )
    return _parsed(frame, text, options.datetime_format, lenient=lenient)


def _scan_jsonl(path: Path, contract: Contract, where: str, *, lenient: bool) -> pl.LazyFrame:
    with path.open("rb") as handle:
        first = handle.read(4096).lstrip()
    if not first:
        return pl.LazyFrame(schema=_lineage_schema(contract))
    if not first.startswith(b"{"):
        raise InputFormatError(
            "content is not JSON lines (first line is not an object)", where=where
        )
    try:
        seen = pl.scan_ndjson(path, infer_schema_length=1000).collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise InputFormatError(f"unreadable jsonl: {_first_line(exc)}", where=where) from None
    # A line may leave out a nullable key (it reads as null); other keys must appear.
    wanted = {
        name: dtype
        for name, dtype in contract.columns.items()
        if name in seen or contract.nullable[name]
    }
    text = _text_read(wanted, lenient=lenient)
    frame = pl.scan_ndjson(
        path,
        schema={**seen, **wanted, **dict.fromkeys(text, pl.String())},
        row_index_name=SOURCE_ROW,
        row_index_offset=1,
    )
    return _parsed(frame, text, None, lenient=lenient)


def _scan_one(uri: str, run: _Extraction, index: int) -> ScannedInput:
    dataset, scratch = run.dataset, run.scratch
    fmt = dataset.input_format
    name = posixpath.basename(parse_uri(uri).key)
    if not name_fits_format(name, fmt):
        gz = " (optionally + .gz)" if fmt.compressible else ""
        raise InputFormatError(
            f"name does not fit the dataset's {fmt.kind} input: expected "
            f"{', '.join(fmt.extensions)}{gz}",
            where=uri,
        )
    local = _materialize(uri, run, index)
    if is_gzipped_name(name, fmt):
        inflated = scratch / f"{index:04d}-inflated"
        gunzip(local, inflated, dataset.limits, where=uri, scratch=run.meter)
        local = inflated
    found = require_content(local, _CONTENT_KIND[fmt.kind], where=uri, name_says=fmt.kind)
    contract = dataset.input_contract
    if found == "empty" and fmt.kind in ("parquet", "avro"):
        raise InputFormatError(f"empty file is not valid {fmt.kind}", where=uri)
    limits = dataset.limits
    batches: tuple[Path, ...] = ()
    if isinstance(fmt, Csv):
        if not fmt.is_utf8:
            utf8 = scratch / f"{local.name}.utf8"
            transcode_to_utf8(local, utf8, fmt.encoding, where=uri, scratch=run.meter)
            local = utf8
        check_record_lengths(
            local, limits.max_line_bytes, quote_char=fmt.quote_char, kind="CSV record", where=uri
        )
    elif isinstance(fmt, JsonLines):
        check_record_lengths(
            local, limits.max_line_bytes, quote_char=None, kind="JSON line", where=uri
        )
    elif isinstance(fmt, Parquet):
        check_parquet_footer(
            local,
            max_footer_bytes=limits.max_parquet_footer_bytes,
            max_row_group_bytes=limits.max_parquet_row_group_bytes or run.budget.row_group_bytes,
            where=uri,
        )
    elif isinstance(fmt, Avro):
        with local.open("rb") as handle:
            block_bytes = check_avro_blocks(
                handle,
                max_block_bytes=limits.max_avro_block_bytes,
                max_inflated_bytes=limits.max_avro_block_decompressed_bytes,
                where=uri,
            )
        batches = tuple(
            avro_to_parquet(
                local,
                scratch / f"{index:04d}-avro",
                contract.columns,
                fmt.batch_rows,
                where=uri,
                block_bytes=block_bytes,
                batch_bytes=fmt.batch_bytes,
            )
        )
    prepared = ScannedInput(uri=uri, local=local, frame=pl.LazyFrame(), batches=batches)
    return rescan(prepared, dataset, lenient=False)


def rescan(scanned: ScannedInput, dataset: Dataset, *, lenient: bool) -> ScannedInput:
    """The frame of an input whose file is already prepared, strict or lenient."""
    fmt, contract, uri, local = (
        dataset.input_format,
        dataset.input_contract,
        scanned.uri,
        scanned.local,
    )
    frame: pl.LazyFrame
    if isinstance(fmt, Csv):
        frame = _scan_csv(local, fmt, dataset, uri, lenient=lenient)
    elif isinstance(fmt, JsonLines):
        frame = _scan_jsonl(local, contract, uri, lenient=lenient)
    elif isinstance(fmt, Parquet):
        frame = pl.scan_parquet(local, row_index_name=SOURCE_ROW, row_index_offset=1, glob=False)
    elif isinstance(fmt, Avro):
        frame = pl.scan_parquet(
            list(scanned.batches), row_index_name=SOURCE_ROW, row_index_offset=1
        )
    try:
        if SOURCE_URI not in frame.collect_schema():
            frame = frame.with_columns(pl.lit(uri, dtype=pl.String).alias(SOURCE_URI))
        conformed = conform(frame, contract, where=uri, lenient=lenient)
    except pl.exceptions.PolarsError as exc:
        raise InputFormatError(f"unreadable {fmt.kind}: {_first_line(exc)}", where=uri) from None
    return replace(scanned, frame=conformed)


def scan_inputs(
    dataset: Dataset,
    uris: Sequence[str],
    storage: Storage,
    scratch: Path,
    *,
    budget: ByteBudget | None = None,
    sizes: Mapping[str, int] | None = None,
) -> list[ScannedInput]:
    """Prepare and lazily scan every input; nothing is parsed beyond headers and metadata,
    and no more than ``budget.scratch_bytes`` are written to ``scratch`` (``sizes``, the
    inputs' known sizes, let a download be refused before it starts)."""
    scratch.mkdir(parents=True, exist_ok=True)
    chosen = budget if budget is not None else ByteBudget()
    run = _Extraction(
        dataset, storage, scratch, chosen, ScratchMeter(chosen.scratch_bytes), sizes or {}
    )
    return [_scan_one(uri, run, index) for index, uri in enumerate(uris)]


def combined(inputs: Sequence[ScannedInput]) -> pl.LazyFrame:
    return pl.concat([scanned.frame for scanned in inputs], how="vertical")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
