"""One posting from a raw row: field aliases, dates, salaries; a bad row becomes a RowError.

Dates accept ISO 8601 (with or without time), ``YYYY-MM``, ``DD.MM.YYYY``, ``DD/MM/YYYY`` and
English month names; ``MM/DD/YYYY`` is read only when the day cannot be the first number.
Salaries ("£30,000 - £35,000 a year", "$45/hour", "60k EUR") become an annual midpoint in the
stated currency (hour × 2080, day × 260, week × 52, month × 12); unreadable salaries are left
empty rather than failing the row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MAX_POSTING_CHARS = 200_000

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "posting_id", "job_id", "external_id"),
    "title": ("title", "job_title", "position", "jobtitle"),
    "text": ("text", "description", "body", "job_description", "content"),
    "employer": ("employer", "company", "company_name", "organisation", "organization"),
    "location": ("location", "job_location", "city", "place"),
    "posted": ("posted", "posted_date", "date", "date_posted", "created", "published"),
    "salary": ("salary", "salary_text", "pay", "compensation"),
    "salary_min": ("salary_min", "min_salary"),
    "salary_max": ("salary_max", "max_salary"),
    "currency": ("currency", "salary_currency"),
}

_CURRENCIES = {
    "£": "GBP",
    "$": "USD",
    "€": "EUR",
    "gbp": "GBP",
    "usd": "USD",
    "eur": "EUR",
    "cad": "CAD",
    "aud": "AUD",
    "chf": "CHF",
    "inr": "INR",
    "₹": "INR",
}
_PERIODS = [
    (re.compile(r"\b(?:per|an|a|/)\s*(?:hour|hr)\b|hourly|/h\b", re.I), 2080),
    (re.compile(r"\b(?:per|a|/)\s*day\b|daily", re.I), 260),
    (re.compile(r"\b(?:per|a|/)\s*week\b|weekly", re.I), 52),
    (re.compile(r"\b(?:per|a|/)\s*month\b|monthly|p\.?m\.?\b", re.I), 12),
]
_AMOUNT = re.compile(r"(\d+(?:[.,]\d{3})*(?:\.\d+)?)\s*([kK])?")
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%m/%d/%Y",
)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass(frozen=True)
class Salary:
    annual: float
    currency: str | None


@dataclass
class Posting:
    line: int
    source_id: str | None
    title: str
    text: str
    employer: str | None
    location: str | None
    posted: date
    salary: Salary | None
    truncated: bool = False


def _pick(row: Mapping[str, Any], field: str) -> Any:
    lowered = {str(key).strip().lower(): value for key, value in row.items()}
    for alias in FIELD_ALIASES[field]:
        value = lowered.get(alias)
        if value is not None and value != "":
            return value
    return None


def parse_date(value: Any) -> date:
    """A posting date; raises ValueError with a readable message when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = " ".join(str(value).strip().split())
    if not text:
        raise ValueError("the date is empty")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return date(int(text[:4]), int(text[5:]), 1)
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)")


def parse_salary(
    text: Any, low: Any = None, high: Any = None, currency: Any = None
) -> Salary | None:
    """Annual midpoint of a salary given as text or as min/max numbers; None when unreadable."""
    amounts: list[float] = []
    for bound in (low, high):
        try:
            if bound is not None and str(bound).strip():
                amounts.append(float(str(bound).replace(",", "")))
        except ValueError:
            return None
    raw = str(text or "")
    if not amounts:
        for number, thousands in _AMOUNT.findall(raw):
            if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", number):
                number = number.replace(".", "")
            value = float(number.replace(",", ""))
            amounts.append(value * (1000 if thousands else 1))
    amounts = [amount for amount in amounts if amount > 0]
    if not amounts:
        return None
    midpoint = sum(amounts[:2]) / len(amounts[:2])
    factor = next((f for pattern, f in _PERIODS if pattern.search(raw)), 1)
    if factor == 1 and midpoint < 300:
        factor = 2080
    code = str(currency).strip().upper() if currency else None
    if code is None:
        lowered = raw.lower()
        code = next((c for sign, c in _CURRENCIES.items() if sign in lowered), None)
    annual = round(midpoint * factor, 2)
    return Salary(annual, code) if 5_000 <= annual <= 5_000_000 else None


def parse_posting(row: Mapping[str, Any], line: int) -> Posting | RowError:
    """A clean posting, or the first problem found, naming the field."""
    title = _pick(row, "title")
    text = _pick(row, "text")
    if title is None or not str(title).strip():
        return RowError(line, "title", "the title is missing")
    if text is None or not str(text).strip():
        return RowError(line, "text", "the posting text is missing")
    text = str(text)
    if "\x00" in text[:4096]:
        return RowError(line, "text", "the posting text looks binary")
    posted_raw = _pick(row, "posted")
    if posted_raw is None:
        return RowError(line, "posted", "the posted date is missing")
    try:
        posted = parse_date(posted_raw)
    except ValueError as error:
        return RowError(line, "posted", str(error))
    if not 1990 <= posted.year <= 2100:
        return RowError(line, "posted", f"{posted.isoformat()} is out of range")
    salary = parse_salary(
        _pick(row, "salary"),
        _pick(row, "salary_min"),
        _pick(row, "salary_max"),
        _pick(row, "currency"),
    )
    source_id = _pick(row, "id")
    employer = _pick(row, "employer")
    location = _pick(row, "location")
    return Posting(
        line=line,
        source_id=str(source_id) if source_id is not None else None,
        title=" ".join(str(title).split())[:300],
        text=text[:MAX_POSTING_CHARS],
        employer=" ".join(str(employer).split())[:200] if employer else None,
        location=" ".join(str(location).split())[:200] if location else None,
        posted=posted,
        salary=salary,
        truncated=len(text) > MAX_POSTING_CHARS,
    )
