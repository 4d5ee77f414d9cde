"""Read an LMS gradebook export (Canvas, Moodle or a hand-made CSV) into checked rows.

Pure. Column names are matched loosely (``Email address``, ``Student e-mail`` …). Every bad cell
becomes a :class:`RowProblem` with its line number; good rows come back as :class:`GradeRow`.
The service resolves e-mails and assessment codes and applies the natural key.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from microcred.spreadsheet import sniff_delimiter

MAX_ROWS = 20_000
MAX_COMMENT = 2000

COLUMN_ALIASES = {
    "email": ("email", "e-mail", "email address", "e-mail address", "student email",
              "student e-mail", "sis login id", "login id", "username"),
    "assessment": ("assessment", "assessment code", "assignment", "assignment code",
                   "activity", "item", "code"),
    "score": ("score", "grade", "points", "mark", "result"),
    "date": ("date", "submitted", "submitted at", "completed", "completed at", "graded at",
             "date graded"),
    "comment": ("comment", "comments", "feedback"),
}  # fmt: skip
REQUIRED_COLUMNS = ("email", "assessment", "score")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class GradeRow:
    line: int
    email: str
    assessment_code: str
    score: float
    achieved_on: date | None
    comment: str


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    message: str


@dataclass
class ParsedGradebook:
    rows: list[GradeRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    total_rows: int = 0


def _header_key(name: str) -> str | None:
    cleaned = " ".join(name.strip().lstrip("\ufeff").lower().replace("_", " ").split())
    for key, aliases in COLUMN_ALIASES.items():
        if cleaned in aliases:
            return key
    return None


def _parse_date(text: str) -> date:
    text = text.strip()
    for form in ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            pass
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def parse_score(text: str) -> float:
    """``87``, ``87.5``, ``87,5`` or ``87%``; ``ValueError`` otherwise."""
    cleaned = text.strip().rstrip("%").strip().replace(",", ".")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_gradebook(text: str) -> ParsedGradebook:
    parsed = ParsedGradebook()
    delimiter = sniff_delimiter(text, lambda name: _header_key(name) is not None)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        parsed.problems.append(RowProblem(1, "file", "The file is empty."))
        return parsed
    except csv.Error as exc:
        parsed.problems.append(RowProblem(1, "file", f"Not a CSV file: {exc}."))
        return parsed
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _header_key(name)
        if key is not None and key not in columns:
            columns[key] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        parsed.problems.append(
            RowProblem(
                1,
                "header",
                f"Missing column(s): {', '.join(missing)} (found: {', '.join(header)}).",
            )
        )
        return parsed
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            parsed.total_rows += 1
            if parsed.total_rows > MAX_ROWS:
                parsed.problems.append(
                    RowProblem(line, "file", f"At most {MAX_ROWS} rows per import.")
                )
                break
            row = _row(line, cells, columns, parsed.problems)
            if row is not None:
                parsed.rows.append(row)
    except csv.Error as exc:
        parsed.problems.append(RowProblem(reader.line_num, "file", f"Not valid CSV: {exc}."))
    return parsed


def _row(
    line: int, cells: list[str], columns: dict[str, int], problems: list[RowProblem]
) -> GradeRow | None:
    def cell(key: str) -> str:
        index = columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    before = len(problems)
    email = cell("email").lower()
    if not EMAIL_RE.match(email):
        problems.append(RowProblem(line, "email", f"'{email}' is not an e-mail address."))
    code = cell("assessment")
    if not code:
        problems.append(RowProblem(line, "assessment", "The assessment code is empty."))
    score = 0.0
    try:
        score = parse_score(cell("score"))
        if score < 0:
            problems.append(RowProblem(line, "score", "The score cannot be negative."))
    except ValueError:
        problems.append(RowProblem(line, "score", f"'{cell('score')}' is not a number."))
    achieved_on = None
    if cell("date"):
        try:
            achieved_on = _parse_date(cell("date"))
        except ValueError:
            problems.append(
                RowProblem(line, "date", f"'{cell('date')}' is not a date (use YYYY-MM-DD).")
            )
    comment = cell("comment")
    if len(comment) > MAX_COMMENT:
        problems.append(RowProblem(line, "comment", f"At most {MAX_COMMENT} characters."))
    if len(problems) > before:
        return None
    return GradeRow(line, email, code, score, achieved_on, comment)
