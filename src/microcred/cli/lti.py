"""LTI commands: ``microcred lti platforms|links ORG`` and ``microcred lti sync ORG LINK`` (for
cron: import a course's grades from its LMS, as *Sync grades from the LMS* does)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from microcred.assessment.awards import CredentialAwarder
from microcred.cli.common import console, exits_cleanly, unit_of_work
from microcred.lti import ags, registrations
from microcred.settings import get_settings

lti_app = typer.Typer(
    help="LTI 1.3: LMS registrations, course links, grade sync.", no_args_is_help=True
)


@lti_app.command("platforms")
@exits_cleanly
def platforms(organisation: Annotated[str, typer.Argument(help="Organisation slug")]) -> None:
    """The organisation's LMS registrations and the URLs to paste into an LMS."""
    settings = get_settings()
    with unit_of_work() as session:
        urls = registrations.tool_urls(settings.base_url, organisation)
        rows = registrations.platforms_of(session, None, organisation)
        console.print(
            f"login {urls.login}\nlaunch {urls.launch}\ndeep linking "
            f"{urls.deep_linking}\njwks {urls.jwks}",
            highlight=False,
        )
        for row in rows:
            console.print(
                f"{row.id}  {row.name}  iss={row.issuer}  client_id={row.client_id}  "
                f"deployments={','.join(row.deployment_ids)}",
                highlight=False,
            )


@lti_app.command("links")
@exits_cleanly
def links(organisation: Annotated[str, typer.Argument(help="Organisation slug")]) -> None:
    """The course links that launched microcred, with their credential and grade services."""
    with unit_of_work() as session:
        for link in registrations.links_of(session, None, organisation):
            grades = "AGS" if link.ags_lineitems_url or link.ags_lineitem_url else "no AGS"
            console.print(
                f"{link.id}  {link.context_title or '-'} / {link.title or link.resource_link_id}"
                f"  definition={link.definition_id or '-'}  {grades}",
                highlight=False,
            )


@lti_app.command("sync")
@exits_cleanly
def sync(
    organisation: Annotated[str, typer.Argument(help="Organisation slug")],
    link_id: Annotated[str, typer.Argument(help="Course link id (microcred lti links ORG)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import the course link's grades from its LMS (all or nothing; exit 2 when refused)."""
    settings = get_settings()
    with unit_of_work() as session:
        report = ags.sync_grades(
            session, None, settings, organisation, link_id, awarder=CredentialAwarder(settings)
        )
    if as_json:
        from microcred.lti.schemas import SyncOut

        console.print_json(json.dumps(SyncOut.of(report).model_dump()))
    else:
        console.print(report.summary(), highlight=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(lti_app, name="lti")
