"""Rows of a postings file (CSV, JSON Lines, Parquet) with their line numbers, from any row on.

Line numbers are what a person sees: the CSV line where the record starts (header = 1), the
JSONL line, the Parquet row + 1. A line that cannot be decoded is yielded as an error, so one
bad line never stops the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from microcred.market.errors import PostingFileError
from microcred.market.postings import RowError

FORMATS = ("csv", "jsonl", "parquet")
Row = tuple[int, dict[str, Any] | RowError]

csv.field_size_limit(64 * 1024 * 1024)


def detect_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    for suffix, kind in (
        (".csv", "csv"),
        (".tsv", "csv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
        (".parquet", "parquet"),
    ):
        if name.endswith(suffix):
            return kind
    raise PostingFileError(
        f"Cannot tell the format of {path.name}: use .csv, .jsonl or .parquet.", field="file"
    )


def _text(path: Path) -> io.TextIOWrapper:
    """A text stream over the (possibly gzipped) file; closing it closes the file."""
    gzipped = path.name.endswith(".gz")
    raw = cast(IO[bytes], gzip.open(path, "rb")) if gzipped else path.open("rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def read_rows(path: Path, start_line: int = 0) -> Iterator[Row]:
    """Rows after ``start_line`` (the checkpoint of an earlier run)."""
    if not path.is_file():
        raise PostingFileError(f"No such file: {path}", field="file")
    kind = detect_format(path)
    if kind == "csv":
        yield from _csv_rows(path, start_line)
    elif kind == "jsonl":
        yield from _jsonl_rows(path, start_line)
    else:
        yield from _parquet_rows(path, start_line)


def _csv_rows(path: Path, start_line: int) -> Iterator[Row]:
    with _text(path) as handle:
        delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = [column.strip().lower() for column in next(reader)]
        except StopIteration:
            return
        except csv.Error as error:
            raise PostingFileError(
                f"The CSV header cannot be read: {error}", field="file"
            ) from None
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield line, RowError(line, "row", f"unreadable CSV: {error}")
                continue
            if line <= start_line or not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                yield (
                    line,
                    RowError(
                        line, "row", f"{len(values)} columns where the header has {len(header)}"
                    ),
                )
                continue
            yield line, dict(zip(header, values, strict=True))


def _jsonl_rows(path: Path, start_line: int) -> Iterator[Row]:
    with _text(path) as handle:
        for line, content in enumerate(handle, start=1):
            if line <= start_line or not content.strip():
                continue
            try:
                value = json.loads(content)
            except json.JSONDecodeError as error:
                yield line, RowError(line, "row", f"invalid JSON: {error.msg}")
                continue
            if not isinstance(value, dict):
                yield line, RowError(line, "row", "each line must be a JSON object")
                continue
            yield line, value


def _parquet_rows(path: Path, start_line: int) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise PostingFileError(f"Not a readable Parquet file: {error}", field="file") from None
    line = 0
    for batch in parquet.iter_batches(batch_size=10_000):
        if line + batch.num_rows <= start_line:
            line += batch.num_rows
            continue
        for row in batch.to_pylist():
            line += 1
            if line > start_line:
                yield line, row
