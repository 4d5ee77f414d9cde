"""Assessment commands: ``import results FILE``, ``assessment list|dry-run|award|survey``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microcred.cli.common import EXIT_USAGE, console, err_console, exits_cleanly, unit_of_work
from microcred.settings import get_settings

assessment_app = typer.Typer(help="Assessments, award rules and surveys.", no_args_is_help=True)

DefinitionArg = Annotated[str, typer.Argument(help="The credential definition id")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


@exits_cleanly
def import_results_command(
    file: Annotated[Path, typer.Argument(help="Gradebook CSV: e-mail, assessment code, score")],
    definition: Annotated[str, typer.Option("--definition", help="Credential definition id")],
    partial: Annotated[
        bool, typer.Option(help="Import the valid rows and list the skipped ones")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import results; without --partial nothing is imported if any row is invalid."""
    from microcred.assessment.awards import CredentialAwarder
    from microcred.assessment.errors import AssessmentError
    from microcred.assessment.imports import ImportRejected, import_results
    from microcred.spreadsheet import NotText, decode_text

    try:
        text = decode_text(file.read_bytes())
    except (OSError, NotText) as exc:
        raise AssessmentError(f"Cannot read {file}: {exc}", field="file") from None
    try:
        with unit_of_work() as session:
            report = import_results(
                session, None, definition, text, partial=partial,
                awarder=CredentialAwarder(get_settings()),
            )  # fmt: skip
    except ImportRejected as exc:
        problems = [vars(p) for p in exc.report.problems]
        if as_json:
            typer.echo(json.dumps({"imported": [], "problems": problems}, indent=2))
        else:
            err_console.print(f"[red]Nothing imported:[/red] {len(problems)} problem(s).")
            for p in exc.report.problems:
                err_console.print(f"  line {p.line}, {p.field}: {p.message}", highlight=False)
            err_console.print("Fix them, or use --partial to import only the valid rows.")
        raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        payload = {
            "imported": report.imported, "unchanged": report.unchanged,
            "problems": [vars(p) for p in report.problems], "awarded": report.awarded,
            "summary": report.summary(),
        }  # fmt: skip
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(report.summary(), highlight=False)
    for p in report.problems:
        console.print(f"  skipped line {p.line}, {p.field}: {p.message}", highlight=False)


@assessment_app.command("list")
@exits_cleanly
def list_assessments(definition: DefinitionArg, as_json: JsonOption = False) -> None:
    """The assessments of a definition with their pass rules."""
    from microcred.assessment.service import assessments_for_definition, definition_for

    with unit_of_work() as session:
        definition_for(session, definition, None)
        rows = [
            {"id": a.id, "code": a.code, "title": a.title, "kind": a.kind.value,
             "min_total": a.min_total, "attempts_allowed": a.attempts_allowed,
             "questions": len([q for q in a.questions if q.archived_at is None])}
            for a in assessments_for_definition(session, definition)
        ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("Code", "Title", "Type", "Pass mark", "Attempts", "Questions")
    for row in rows:
        table.add_row(
            str(row["code"]), str(row["title"]), str(row["kind"]),
            "—" if row["min_total"] is None else f"{row['min_total']:g}",
            str(row["attempts_allowed"]), str(row["questions"]),
        )  # fmt: skip
    console.print(table)


@assessment_app.command("dry-run")
@exits_cleanly
def dry_run_command(definition: DefinitionArg, as_json: JsonOption = False) -> None:
    """Who would be awarded now; issues nothing (each evaluation is audited)."""
    from microcred.assessment.awards import dry_run

    with unit_of_work() as session:
        rows = [
            {"learner": r.learner.email, "met": r.evaluation.met, "would_award": r.would_award,
             "award": r.award.status.value if r.award else None, "reason": r.evaluation.reason}
            for r in dry_run(session, None, definition)
        ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("Learner", "Would be awarded", "Award", "Reason")
    for row in rows:
        table.add_row(
            str(row["learner"]), "yes" if row["would_award"] else "no", str(row["award"] or "—"),
            str(row["reason"]),
        )  # fmt: skip
    console.print(table)
    console.print(f"{sum(bool(r['would_award']) for r in rows)} would be awarded now.")


@assessment_app.command("award")
@exits_cleanly
def award_command(definition: DefinitionArg) -> None:
    """Evaluate everyone and issue to those who meet every requirement."""
    from microcred.assessment.awards import CredentialAwarder, run_awards

    with unit_of_work() as session:
        decisions = run_awards(session, None, definition, awarder=CredentialAwarder(get_settings()))
        issued = [d for d in decisions if d.awarded]
        failed = [d for d in decisions if d.award is not None and d.award.error]
    console.print(f"{len(decisions)} learner(s) evaluated; {len(issued)} hold the credential.")
    for decision in failed:
        assert decision.award is not None
        err_console.print(f"  {decision.learner_id}: {decision.award.error}", highlight=False)


@assessment_app.command("survey")
@exits_cleanly
def survey_command(definition: DefinitionArg, as_json: JsonOption = False) -> None:
    """Satisfaction survey summary (programme KPIs)."""
    from microcred.assessment.surveys import survey_summary

    with unit_of_work() as session:
        summary = survey_summary(session, definition)
    if as_json:
        typer.echo(json.dumps(vars(summary), indent=2))
        return
    console.print(
        f"{summary.responses} response(s); average rating {summary.average_rating or '—'}; "
        f"would recommend {summary.recommend_percent if summary.responses else '—'}%"
    )


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(assessment_app, name="assessment")
    import_app.command("results")(import_results_command)
