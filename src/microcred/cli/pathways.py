"""Pathway commands: create and list pathways, a learner's progress, award review, revocation
and re-award, reissuing CLRs awarded without a status entry, wallet imports and transfer
evaluations with their CLR transcript."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.cli.common import console, err_console, exits_cleanly, unit_of_work
from microcred.errors import MicrocredError, NotFound
from microcred.settings import get_settings

pathways_app = typer.Typer(
    help="Stackable pathways, wallet imports, credit and articulation.", no_args_is_help=True
)


def _read_json(file: Path) -> dict[str, Any]:
    from microcred.pathways.errors import PathwayError

    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PathwayError(f"Cannot read {file}: {error}", field="file") from None
    if not isinstance(value, dict):
        raise PathwayError("The file must hold one JSON object.", field="file")
    return value


def _user_id(session: Session, email: str) -> str:
    from microcred.accounts.models import User

    user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if user_id is None:
        raise NotFound(f"No account for {email}.")
    return str(user_id)


@pathways_app.command("create")
@exits_cleanly
def create(
    file: Annotated[Path, typer.Argument(help="JSON: name, kind, requirements, …")],
    organisation: Annotated[str, typer.Option(help="Slug of the organisation offering it")],
    publish: Annotated[bool, typer.Option(help="Publish it at once")] = False,
) -> None:
    """Create a pathway from a JSON file; the tree is checked against the catalogue first."""
    from microcred.pathways import service
    from microcred.pathways.errors import PathwayError

    data = _read_json(file)
    try:
        pathway_input = service.PathwayInput(
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "certificate")),
            requirements=data.get("requirements") or {},
            description=str(data.get("description", "")),
            qualification_definition_id=data.get("qualification_definition_id"),
            revocation_policy=str(data.get("revocation_policy", "review")),
        )
    except TypeError as error:
        raise PathwayError(str(error), field="file") from None
    with unit_of_work() as session:
        pathway = service.create_pathway(
            session, None, organisation, pathway_input, publish=publish
        )
        console.print(f"Created pathway {pathway.id} ({pathway.status.value}): {pathway.name}")


@pathways_app.command("list")
@exits_cleanly
def list_pathways() -> None:
    """Every pathway with its status."""
    from microcred.pathways.models import Pathway

    with unit_of_work() as session:
        rows = session.scalars(select(Pathway).order_by(Pathway.name)).all()
        table = Table("id", "name", "kind", "status")
        for row in rows:
            table.add_row(row.id, row.name, row.kind.value, row.status.value)
    console.print(table)


@pathways_app.command("progress")
@exits_cleanly
def progress(
    email: Annotated[str, typer.Argument(help="The learner's e-mail address")],
    pathway: Annotated[str | None, typer.Option(help="Only this pathway (id)")] = None,
    award: Annotated[bool, typer.Option(help="Award pathways found complete")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """A learner's progress: done, left, and the shortest remaining route."""
    from microcred.pathways import service
    from microcred.pathways.schemas import ProgressOut

    with unit_of_work() as session:
        results = service.learner_progress(
            session, _user_id(session, email), get_settings(), pathway_id=pathway, award=award
        )
        outputs = [ProgressOut.of(result) for result in results]
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json") for item in outputs], indent=2))
        return
    for item in outputs:
        state = f"awarded ({item.award_state})" if item.award_id else f"{item.percent}% done"
        console.print(f"[bold]{item.pathway_name}[/bold]: {state}", highlight=False)
        for line in item.done:
            console.print(f"  [green]✓[/green] {line}", highlight=False)
        for line in item.left:
            console.print(f"  [yellow]·[/yellow] {line}", highlight=False)
        if not item.complete:
            route = ", ".join(step.name for step in item.route) or "none"
            if not item.route_reachable:
                route = "no route with today's catalogue"
            console.print(f"  next: {route}", highlight=False)


@pathways_app.command("review")
@exits_cleanly
def review() -> None:
    """Apply every pathway's revocation policy to awards whose components were revoked."""
    from microcred.pathways import service

    with unit_of_work() as session:
        changed = service.review_awards(session, get_settings())
        for award in changed:
            console.print(f"{award.id}: {award.state.value} — {award.state_reason}")
    console.print(f"{len(changed)} award(s) changed.")


@pathways_app.command("revoke-award")
@exits_cleanly
def revoke_award(
    award_id: Annotated[str, typer.Argument(help="Award id")],
    reason: Annotated[str, typer.Option(help="Why (kept, never published)")],
) -> None:
    """Revoke an award for good, with its CLR and its qualification credential."""
    from microcred.pathways import service

    with unit_of_work() as session:
        award = service.revoke_award(
            session, None, award_id, reason=reason, settings=get_settings()
        )
        console.print(f"{award.id} is now {award.state.value}.", highlight=False)


@pathways_app.command("reaward")
@exits_cleanly
def reaward(award_id: Annotated[str, typer.Argument(help="Award id")]) -> None:
    """Lift an award's final revocation; the pathway is awarded again at once if still met."""
    from microcred.pathways import service

    with unit_of_work() as session:
        again = service.reaward(session, None, award_id, get_settings())
        if again is None:
            console.print(f"{award_id} reopened; the learner does not meet the pathway now.")
        else:
            console.print(f"Awarded again: {again.id} ({again.state.value}).", highlight=False)


@pathways_app.command("reissue-clrs")
@exits_cleanly
def reissue_clrs(
    dry_run: Annotated[bool, typer.Option(help="Only list the awards; change nothing")] = False,
) -> None:
    """Give the CLRs of awards made before migration 0005 a status entry (all or nothing)."""
    from microcred.pathways import service

    with (
        unit_of_work() as session,
        Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=err_console, transient=True,
        ) as progress,
    ):  # fmt: skip
        task = progress.add_task("Checking CLRs" if dry_run else "Reissuing CLRs", total=None)
        result = service.reissue_clrs_without_status(
            session, get_settings(), dry_run=dry_run,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    verb = "would get" if dry_run else "now has"
    for item in result.awards:
        marked = f", {item.marked}" if item.marked else ""
        console.print(
            f"{item.award_id} ({item.pathway_name}, {item.state.value}): {verb} a CLR with a "
            f"{item.purpose} status entry{marked}",
            highlight=False,
            soft_wrap=True,
        )
    count = len(result.awards)
    if dry_run:
        console.print(f"{count} award(s) would get a new CLR; nothing was changed.")
    else:
        console.print(f"{count} award(s) got a new CLR with a status entry.")


@pathways_app.command("import-credential")
@exits_cleanly
def import_credential(
    email: Annotated[str, typer.Argument(help="The learner's e-mail address")],
    file: Annotated[Path, typer.Argument(help="JSON, JWT/JWS text, or a baked PNG/SVG")],
) -> None:
    """Verify a credential and add it to a learner's wallet (refused if it does not verify)."""
    from microcred.accounts.models import User
    from microcred.accounts.service import principal_for
    from microcred.wallet import service as wallet

    try:
        data = file.read_bytes()
    except OSError as error:
        raise wallet.WalletError(f"Cannot read {file}: {error}", field="file") from None
    with unit_of_work() as session:
        user = session.get(User, _user_id(session, email))
        assert user is not None
        row = wallet.import_credential(session, principal_for(session, user), data, get_settings())
        console.print(
            f"Imported {row.achievement_name} from {row.issuer_name} ({row.source_format})"
        )


@pathways_app.command("transfer")
@exits_cleanly
def transfer(
    agreement: Annotated[str, typer.Argument(help="Articulation agreement id")],
    email: Annotated[str, typer.Argument(help="The learner's e-mail address")],
    transcript: Annotated[
        Path | None, typer.Option(help="Also write the CLR 2.0 transcript to this file")
    ] = None,
) -> None:
    """Transfer evaluation of a learner against an agreement, with the reason for each item."""
    from microcred.accounts.models import User
    from microcred.accounts.service import principal_for
    from microcred.pathways import service

    settings = get_settings()
    with unit_of_work() as session:
        user = session.get(User, _user_id(session, email))
        assert user is not None
        evaluation = service.evaluate_transfer_for(
            session, principal_for(session, user), agreement, settings
        )
        table = Table("credential", "issuer", "credit", "reason")
        for item in evaluation.result.items:
            credit = f"{item.credits:g}" if item.credited else "—"
            table.add_row(item.holding.name, item.holding.issuer_name, credit, item.reason)
        console.print(table)
        console.print(f"Total: {evaluation.result.total:g} credits")
        if transcript is not None:
            document = service.transfer_transcript(session, evaluation, settings)
            try:
                transcript.write_text(json.dumps(document, indent=2), encoding="utf-8")
            except OSError as error:
                raise MicrocredError(f"Cannot write {transcript}: {error}") from None
            console.print(f"CLR transcript written to {transcript}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(pathways_app, name="pathways")
