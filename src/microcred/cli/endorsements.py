"""Endorsement commands for the operator: ``microcred endorsements list|endorse|accept|decline|
withdraw`` (the same service as the pages and the API, acting as a trusted system caller)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from microcred.accounts.service import get_organisation
from microcred.cli.common import console, exits_cleanly, unit_of_work
from microcred.endorsements import service as endorsements
from microcred.endorsements.errors import EndorsementError
from microcred.endorsements.models import Endorsement
from microcred.settings import get_settings

endorsements_app = typer.Typer(
    help="Endorsements between organisations (OB 3.0 EndorsementCredential).",
    no_args_is_help=True,
)


def _line(endorsement: Endorsement, names: dict[str, str]) -> str:
    return (
        f"{endorsement.id}  {endorsement.state.value:<9} {names[endorsement.endorser_id]} → "
        f"{endorsement.subject_name} ({endorsement.subject_kind.value})"
    )


def _valid_until(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise EndorsementError(
            f"'{text}' is not an ISO 8601 date or date-time.", field="valid_until"
        ) from error


@endorsements_app.command("list")
@exits_cleanly
def list_endorsements(
    organisation: Annotated[str, typer.Argument(help="Organisation slug")],
    given: Annotated[bool, typer.Option("--given", help="Those it made (default: received)")] = (
        False
    ),
) -> None:
    """The organisation's received (or given) endorsements, newest first."""
    with unit_of_work() as session:
        org = get_organisation(session, organisation)
        column = Endorsement.endorser_id if given else Endorsement.endorsed_id
        found = endorsements.listing(session, column, org.id, None)
        names = {k: v.name for k, v in endorsements.organisations_by_id(session, found).items()}
        for endorsement in found:
            console.print(_line(endorsement, names), highlight=False)
        if not found:
            console.print("No endorsements.")


@endorsements_app.command("endorse")
@exits_cleanly
def endorse(
    endorser: Annotated[str, typer.Argument(help="Slug of the endorsing organisation")],
    comment: Annotated[str, typer.Option(help="What it vouches for (Markdown)")],
    definition: Annotated[str | None, typer.Option(help="A published definition's id")] = None,
    issuer: Annotated[str | None, typer.Option(help="An issuer's slug")] = None,
    valid_until: Annotated[str | None, typer.Option(help="ISO 8601 end (UTC if no zone)")] = None,
) -> None:
    """Sign a pending endorsement by ENDORSER of a definition or an issuer."""
    with unit_of_work() as session:
        made = endorsements.endorse(
            session, None, get_settings(), endorser, comment=comment, definition_id=definition,
            issuer=issuer, valid_until=_valid_until(valid_until),
        )  # fmt: skip
        console.print(f"Endorsement {made.id} signed, pending: {made.document['id']}")


def _decide(endorsement_id: str, accept: bool) -> None:
    with unit_of_work() as session:
        done = endorsements.decide(session, None, endorsement_id, accept=accept)
        console.print(f"Endorsement {done.id} {done.state.value}")


@endorsements_app.command("accept")
@exits_cleanly
def accept(endorsement_id: str) -> None:
    """Accept a pending endorsement on the endorsed organisation's behalf."""
    _decide(endorsement_id, True)


@endorsements_app.command("decline")
@exits_cleanly
def decline(endorsement_id: str) -> None:
    """Decline an endorsement on the endorsed organisation's behalf."""
    _decide(endorsement_id, False)


@endorsements_app.command("withdraw")
@exits_cleanly
def withdraw(
    endorsement_id: str,
    reason: Annotated[str, typer.Option(help="Kept and audited, not published")],
) -> None:
    """Withdraw an endorsement: its status entry is revoked."""
    with unit_of_work() as session:
        done = endorsements.withdraw(session, None, get_settings(), endorsement_id, reason)
        console.print(f"Endorsement {done.id} withdrawn")


@endorsements_app.command("show")
@exits_cleanly
def show(endorsement_id: str) -> None:
    """Print the signed EndorsementCredential (JSON)."""
    with unit_of_work() as session:
        document = endorsements.get_endorsement(session, None, endorsement_id).document
        console.print_json(json.dumps(document))


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(endorsements_app, name="endorsements")
