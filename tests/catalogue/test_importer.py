"""Catalogue import: CSV and JSON, every bad row by line and field, all-or-nothing or partial."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.catalogue.errors import CatalogueError
from microcred.catalogue.importer import ImportRejected, import_catalogue, rows_from_objects
from microcred.catalogue.models import CredentialDefinition, DefinitionStatus
from tests.catalogue.factories import PYTHON, SQL, UNKNOWN, definition_input
from tests.conftest import World

HEADER = (
    "name,description,criteria_narrative,learning_outcomes,workload_hours,eqf_level,skills,"
    "human_code,price_amount,price_currency\n"
)


def csv_row(name: str, code: str, eqf: str = "5", workload: str = "40", skills: str = "") -> str:
    return (
        f'"{name}","About {name}","Pass the exam","Outcome one;Outcome two",{workload},{eqf},'
        f'"{skills or PYTHON}",{code},0,\n'
    )


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(CredentialDefinition.id))) or 0)


def test_csv_import_all_rows(
    tmp_path: Path, session: Session, world: World, skills: dict[str, str]
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        HEADER + csv_row("Alpha", "A1") + csv_row("Beta", "B1", skills=f"{PYTHON};{SQL}")
    )
    report = import_catalogue(session, path, "north-college", publish=True)
    assert [(r.line, r.name) for r in report.imported] == [(2, "Alpha"), (3, "Beta")]
    beta = session.scalar(select(CredentialDefinition).where(CredentialDefinition.name == "Beta"))
    assert beta is not None and beta.status is DefinitionStatus.published
    assert [s.skill_uri for s in beta.skills] == [PYTHON, SQL]
    assert beta.learning_outcomes == ["Outcome one", "Outcome two"]


def test_a_semicolon_csv_from_excel_imports_and_a_windows_1252_one_is_refused_clearly(
    tmp_path: Path, session: Session, world: World, skills: dict[str, str]
) -> None:
    semicolons = tmp_path / "excel.csv"
    header = HEADER.replace(",", ";")
    row = f'"Café Ops";"About it";"Pass";"One";40;5;"{PYTHON}";C1;0;\n'
    semicolons.write_bytes(("\ufeff" + header + row).encode("utf-8"))
    report = import_catalogue(session, semicolons, "north-college")
    assert [(r.line, r.name) for r in report.imported] == [(2, "Café Ops")]
    windows = tmp_path / "windows.csv"
    windows.write_bytes((header + row.replace("C1", "C2")).encode("cp1252"))
    with pytest.raises(CatalogueError) as refused:
        import_catalogue(session, windows, "north-college")
    assert "line 2 has the byte 0xe9" in refused.value.message and "UTF-8" in refused.value.message


def test_bad_csv_rows_are_all_reported_and_nothing_is_imported(
    tmp_path: Path, session: Session, world: World, skills: dict[str, str]
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        HEADER
        + csv_row("Good", "G1")
        + csv_row("Bad level", "B1", eqf="12")
        + csv_row("Negative", "N1", workload="-3")
        + csv_row("Unknown skill", "U1", skills=UNKNOWN)
        + csv_row("Duplicate", "G1")
    )
    with pytest.raises(ImportRejected) as caught:
        import_catalogue(session, path, "north-college")
    problems = {(p.line, p.field) for p in caught.value.report.problems}
    assert problems == {
        (3, "eqf_level"), (4, "workload_hours"), (5, "skills[0]"), (6, "human_code"),
    }  # fmt: skip
    assert "line 3, eqf_level" in caught.value.message
    assert count(session) == 0


def test_partial_import_takes_exactly_the_valid_rows(
    tmp_path: Path, session: Session, world: World, skills: dict[str, str]
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(HEADER + csv_row("Good", "G1") + csv_row("Bad", "B1", eqf="0"))
    report = import_catalogue(session, path, "north-college", partial=True)
    assert [r.name for r in report.imported] == ["Good"]
    assert report.skipped_lines == [3]
    assert "skipped 1 (lines 3)" in report.summary()
    assert count(session) == 1


def test_json_import_reports_the_line_each_object_starts_on(
    tmp_path: Path, session: Session, world: World, skills: dict[str, str]
) -> None:
    rows = [definition_input(human_code="J1"), definition_input(human_code="J2", eqf_level=42)]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(rows, indent=2))
    starts = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line == "  {"]
    second_line = starts[1]
    with pytest.raises(ImportRejected) as caught:
        import_catalogue(session, path, "north-college")
    assert [(p.line, p.field) for p in caught.value.report.problems] == [(second_line, "eqf_level")]


def test_existing_codes_and_malformed_files_are_refused(
    tmp_path: Path, session: Session, world: World, skills: dict[str, str]
) -> None:
    import_catalogue(session, rows_from_objects([definition_input()]), "north-college")
    with pytest.raises(ImportRejected) as caught:
        import_catalogue(session, rows_from_objects([definition_input()]), "north-college")
    assert caught.value.report.problems[0].field == "human_code"
    broken = tmp_path / "broken.json"
    broken.write_text('[{"name": "x",}]')
    with pytest.raises(CatalogueError, match="Malformed JSON at line 1"):
        import_catalogue(session, broken, "north-college")
    unknown_column = tmp_path / "bad.csv"
    unknown_column.write_text("name,colour\nx,red\n")
    with pytest.raises(CatalogueError) as header_error:
        import_catalogue(session, unknown_column, "north-college")
    assert header_error.value.field == "header"
