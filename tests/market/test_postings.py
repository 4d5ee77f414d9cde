from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.market.postings import Posting, RowError, parse_date, parse_posting, parse_salary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2024-03", date(2024, 3, 1)),
        ("05.03.2024", date(2024, 3, 5)),
        ("March 5, 2024", date(2024, 3, 5)),
        ("13/03/2024", date(2024, 3, 13)),
        ("2024-03-05T10:00:00Z", date(2024, 3, 5)),
    ],
)
def test_dates_in_common_notations(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_iso_dates_round_trip(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d.%m.%Y")) == day


@pytest.mark.parametrize(
    ("text", "annual", "currency"),
    [
        ("£30,000 - £35,000 a year", 32_500, "GBP"),
        ("$45/hour", 93_600, "USD"),
        ("60k EUR", 60_000, "EUR"),
        ("3.500 € per month", 42_000, "EUR"),
        ("55000", 55_000, None),
    ],
)
def test_salaries_become_annual_midpoints(text: str, annual: float, currency: str | None) -> None:
    salary = parse_salary(text)
    assert salary is not None and salary.annual == annual and salary.currency == currency


@pytest.mark.parametrize("text", ["competitive", "", "DOE", "$1"])
def test_unreadable_salaries_are_left_empty(text: str) -> None:
    assert parse_salary(text) is None


def test_row_fields_by_alias_and_errors_name_line_and_field() -> None:
    good = parse_posting(
        {
            "Job_Title": " Nurse ",
            "Description": "Care.",
            "Date": "2024-01-02",
            "Company": "Acme",
            "salary_min": "30000",
            "salary_max": "40000",
            "currency": "gbp",
        },
        line=4,
    )
    assert isinstance(good, Posting)
    assert (good.title, good.employer, good.salary and good.salary.annual) == (
        "Nurse",
        "Acme",
        35_000,
    )
    assert good.salary is not None and good.salary.currency == "GBP"
    cases = [
        ({"text": "x", "posted": "2024-01-01"}, "title"),
        ({"title": "x", "posted": "2024-01-01"}, "text"),
        ({"title": "x", "text": "y", "posted": "yesterday"}, "posted"),
        ({"title": "x", "text": "y", "posted": "1850-01-01"}, "posted"),
        ({"title": "x", "text": "a\x00b", "posted": "2024-01-01"}, "text"),
    ]
    for row, field in cases:
        error = parse_posting(row, line=9)
        assert isinstance(error, RowError) and (error.line, error.field) == (9, field)


def test_a_ten_megabyte_posting_is_cut_and_flagged() -> None:
    posting = parse_posting(
        {"title": "x", "text": "python " * 1_500_000, "posted": "2024-01-01"}, 2
    )
    assert isinstance(posting, Posting) and posting.truncated and len(posting.text) == 200_000
