"""Import many definitions at once from CSV or JSON, reporting every bad row by line and field.

CSV: a header row of field names (see ``validation.FIELDS``); list fields hold ``;``-separated
items, rubric levels ``Name: description`` items. JSON: an array of objects with the same names
(lists as arrays). All-or-nothing unless ``partial``, which imports exactly the valid rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from microcred.accounts.service import Principal, get_organisation, record_audit
from microcred.catalogue import service
from microcred.catalogue.errors import CatalogueError, FieldProblem, InvalidFields
from microcred.catalogue.validation import FIELDS, DefinitionData, parse_definition
from microcred.spreadsheet import NotText, decode_text, sniff_delimiter

MAX_ROWS = 10_000


@dataclass(frozen=True)
class SourceRow:
    """One input record and the line it starts on (1-based; the header is line 1 in CSV)."""

    line: int
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    message: str


@dataclass
class ImportedRow:
    line: int
    definition_id: str
    name: str


@dataclass
class ImportReport:
    total_rows: int
    imported: list[ImportedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    partial: bool = False

    @property
    def skipped_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})

    def summary(self) -> str:
        skipped = len(self.skipped_lines)
        text = f"Imported {len(self.imported)} of {self.total_rows} rows"
        if skipped:
            text += f"; skipped {skipped} (lines {', '.join(map(str, self.skipped_lines))})"
        return text + "."


class ImportRejected(CatalogueError):
    """Nothing was imported because some rows are invalid (and ``partial`` was not asked for)."""

    status_code = 422

    def __init__(self, report: ImportReport):
        lines = "; ".join(f"line {p.line}, {p.field}: {p.message}" for p in report.problems)
        first = report.problems[0]
        super().__init__(
            f"Nothing imported: {len(report.skipped_lines)} of {report.total_rows} rows are "
            f"invalid. {lines}",
            field=first.field,
        )
        self.report = report

    def as_dict(self) -> dict[str, object]:
        detail = super().as_dict()
        detail["problems"] = [
            {"line": p.line, "field": p.field, "message": p.message} for p in self.report.problems
        ]
        return detail


def _csv_cell(value: str) -> str | None:
    return value.strip() or None


def read_csv(text: str) -> list[SourceRow]:
    delimiter = sniff_delimiter(text, lambda name: name in FIELDS)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise CatalogueError("The CSV file is empty; it needs a header row.", field="file")
    unknown = [name for name in reader.fieldnames if name.strip() not in FIELDS]
    if unknown:
        raise CatalogueError(
            f"Unknown column(s) {', '.join(unknown)}; columns are: {', '.join(FIELDS)}.",
            field="header",
        )
    rows: list[SourceRow] = []
    start = reader.line_num + 1
    for record in reader:
        if None in record:
            rows.append(SourceRow(start, {"__extra__": record[None]}))
        else:
            values = {k.strip(): _csv_cell(v or "") for k, v in record.items()}
            if any(v is not None for v in values.values()):
                rows.append(SourceRow(start, values))
        start = reader.line_num + 1
    return rows


def read_json(text: str) -> list[SourceRow]:
    """Objects of a top-level array, each with the line its ``{`` is on."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if position >= len(text) or text[position] != "[":
        raise CatalogueError("The JSON file must hold an array of objects.", field="file")
    position = _skip_space(text, position + 1)
    rows: list[SourceRow] = []
    if position < len(text) and text[position] == "]":
        return rows
    while True:
        line = text.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise CatalogueError(
                f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                field="file",
            ) from None
        rows.append(SourceRow(line, value if isinstance(value, dict) else {"__not_object__": 1}))
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip_space(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            if _skip_space(text, position + 1) != len(text):
                raise CatalogueError("Unexpected text after the JSON array.", field="file")
            return rows
        line = text.count("\n", 0, position) + 1
        raise CatalogueError(f"Malformed JSON at line {line}: expected ',' or ']'.", field="file")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def read_file(path: Path) -> list[SourceRow]:
    """Rows of a ``.csv`` or ``.json`` file (by extension, else by its first character)."""
    try:
        text = decode_text(path.read_bytes())
    except FileNotFoundError:
        raise CatalogueError(f"No file {path}.", field="file") from None
    except NotText as error:
        raise CatalogueError(f"{path}: {error}", field="file") from None
    is_json = path.suffix.lower() == ".json" or (
        path.suffix.lower() != ".csv" and text.lstrip().startswith("[")
    )
    return read_json(text) if is_json else read_csv(text)


def rows_from_objects(objects: Iterable[Any]) -> list[SourceRow]:
    """Rows given in memory (the API's JSON array): ``line`` is the 1-based position."""
    return [
        SourceRow(index, value if isinstance(value, dict) else {"__not_object__": 1})
        for index, value in enumerate(objects, start=1)
    ]


def _row_problems(row: SourceRow) -> list[FieldProblem] | DefinitionData:
    if "__extra__" in row.values:
        return [FieldProblem("row", "has more cells than the header has columns.")]
    if "__not_object__" in row.values:
        return [FieldProblem("row", "must be an object.")]
    try:
        return parse_definition(row.values)
    except InvalidFields as exc:
        return exc.problems


def import_catalogue(
    session: Session,
    source: Path | str | list[SourceRow],
    issuer_org_id: str,
    *,
    partial: bool = False,
    publish: bool = False,
    principal: Principal | None = None,
) -> ImportReport:
    """Validate every row, then import all of them, or with ``partial`` only the valid ones.

    Raises :class:`ImportRejected` (nothing written) when a row is invalid and not ``partial``.
    """
    organisation = get_organisation(session, issuer_org_id)
    service.require_writer(principal, organisation.id)
    rows = read_file(Path(source)) if isinstance(source, (str, Path)) else source
    if len(rows) > MAX_ROWS:
        raise CatalogueError(f"At most {MAX_ROWS} rows per import.", field="file")
    report = ImportReport(total_rows=len(rows), partial=partial)
    parsed: list[tuple[SourceRow, DefinitionData]] = []
    for row in rows:
        outcome = _row_problems(row)
        if isinstance(outcome, DefinitionData):
            parsed.append((row, outcome))
        else:
            report.problems += [RowProblem(row.line, p.field, p.message) for p in outcome]

    labels = service.skill_labels(session, sorted({uri for _, d in parsed for uri in d.skills}))
    seen_codes: dict[str, int] = {}
    valid: list[tuple[SourceRow, DefinitionData]] = []
    for row, data in parsed:
        problems = _reference_problems(session, data, organisation.id, labels)
        if data.human_code is not None:
            if data.human_code in seen_codes:
                problems.append(
                    FieldProblem(
                        "human_code",
                        f"'{data.human_code}' is also used on line {seen_codes[data.human_code]}.",
                    )
                )
            else:
                seen_codes[data.human_code] = row.line
        if problems:
            report.problems += [RowProblem(row.line, p.field, p.message) for p in problems]
        else:
            valid.append((row, data))

    report.problems.sort(key=lambda p: p.line)
    if report.problems and not partial:
        raise ImportRejected(report)
    for row, data in valid:
        definition = service.create_definition(
            session, principal, organisation.id, data, publish=publish,
            skill_label_cache=labels, audit=False,
        )  # fmt: skip
        report.imported.append(ImportedRow(row.line, definition.definition_id, definition.name))
    record_audit(
        session, principal, "catalogue.definition.import", organisation_id=organisation.id,
        object_type="organisation", object_id=organisation.id,
        details={
            "imported": len(report.imported), "skipped_lines": report.skipped_lines,
            "partial": partial, "published": publish,
        },
    )  # fmt: skip
    return report


def _reference_problems(
    session: Session, data: DefinitionData, issuer_id: str, labels: Mapping[str, str]
) -> list[FieldProblem]:
    try:
        service.check_references(session, data, issuer_id, None, labels)
    except InvalidFields as exc:
        return list(exc.problems)
    except CatalogueError as exc:
        return [FieldProblem(exc.field or "row", exc.message)]
    return []
