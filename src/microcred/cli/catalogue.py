"""Catalogue commands: ``import catalogue FILE``, ``catalogue list`` and ``catalogue show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from microcred.cli.common import EXIT_USAGE, console, err_console, exits_cleanly, unit_of_work
from microcred.settings import get_settings

if TYPE_CHECKING:
    from microcred.catalogue.importer import ImportReport

catalogue_app = typer.Typer(help="Credential definitions and issuers.", no_args_is_help=True)


def import_catalogue_command(
    file: Annotated[Path, typer.Argument(help="A .csv or .json file of definitions")],
    issuer: Annotated[str, typer.Option("--issuer", help="Slug of the issuing organisation")],
    partial: Annotated[
        bool, typer.Option(help="Import the valid rows and list the skipped ones")
    ] = False,
    publish: Annotated[bool, typer.Option(help="Publish the imported definitions")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import definitions; without --partial nothing is imported if any row is invalid."""
    from microcred.catalogue.importer import ImportRejected, import_catalogue

    try:
        with unit_of_work() as session:
            report = import_catalogue(session, file, issuer, partial=partial, publish=publish)
    except ImportRejected as exc:
        report = exc.report
        if as_json:
            typer.echo(json.dumps(_report_json(report, imported=False), indent=2))
        else:
            err_console.print(
                f"[red]Nothing imported:[/red] {len(report.skipped_lines)} of "
                f"{report.total_rows} rows are invalid.", highlight=False,
            )  # fmt: skip
            for problem in report.problems:
                err_console.print(
                    f"  line {problem.line}, {problem.field}: {problem.message}", highlight=False
                )
            err_console.print("Fix them, or use --partial to import only the valid rows.")
        raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        typer.echo(json.dumps(_report_json(report, imported=True), indent=2))
        return
    console.print(report.summary(), highlight=False)
    for problem in report.problems:
        console.print(
            f"  skipped line {problem.line}, {problem.field}: {problem.message}", highlight=False
        )


def _report_json(report: ImportReport, *, imported: bool) -> dict[str, object]:
    return {
        "imported": [vars(row) for row in report.imported] if imported else [],
        "problems": [vars(problem) for problem in report.problems],
        "total_rows": report.total_rows,
        "summary": report.summary() if imported else "Nothing imported.",
    }


@catalogue_app.command("list")
@exits_cleanly
def list_definitions(
    issuer: Annotated[str | None, typer.Option(help="Only this issuer (slug)")] = None,
    query: Annotated[str | None, typer.Option("--q", help="Words to search for")] = None,
    limit: Annotated[int, typer.Option(help="Most rows to show (1-100)")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """List published definitions."""
    from microcred.catalogue.service import SearchFilters, search_definitions

    with unit_of_work() as session:
        result = search_definitions(session, SearchFilters(q=query, issuer=issuer), 1, limit)
        rows = [
            {
                "id": d.definition_id, "version": d.version, "name": d.name,
                "issuer": d.issuer.slug, "code": d.human_code, "eqf_level": d.eqf_level,
                "workload_hours": d.workload_hours,
            }
            for d in result.items
        ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"total": result.total, "items": rows}, indent=2))
        return
    table = Table("Id", "Name", "Issuer", "Code", "EQF", "Hours", "Version")
    for row in rows:
        table.add_row(
            str(row["id"]), str(row["name"]), str(row["issuer"]), str(row["code"] or ""),
            str(row["eqf_level"] or ""), f"{row['workload_hours']:g}", str(row["version"]),
        )  # fmt: skip
    console.print(table)
    console.print(f"{result.total} published definition(s).")


@catalogue_app.command("show")
@exits_cleanly
def show_definition(
    definition_id: Annotated[str, typer.Argument(help="The definition id")],
    version: Annotated[int | None, typer.Option(help="A given version")] = None,
) -> None:
    """Print a published definition as its Open Badges 3.0 Achievement JSON."""
    from microcred.catalogue.service import achievement_document, get_definition

    with unit_of_work() as session:
        definition = get_definition(session, definition_id, version)
        document = achievement_document(session, definition, get_settings().base_url)
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this capability's commands to the main app and the import group."""
    app.add_typer(catalogue_app, name="catalogue")
    import_app.command("catalogue")(exits_cleanly(import_catalogue_command))
