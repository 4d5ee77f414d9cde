"""Open Badges 3.0 API commands: the apps registered through dynamic client registration, and
removing one (``microcred obapi clients``, ``microcred obapi remove-client``)."""

from __future__ import annotations

from typing import Annotated

import typer

from microcred.cli.common import console, exits_cleanly, session_factory
from microcred.obapi import service as obapi

obapi_app = typer.Typer(
    help="Apps connected through the Open Badges 3.0 API.", no_args_is_help=True
)


@obapi_app.command("clients")
@exits_cleanly
def clients() -> None:
    """List the registered apps, newest first: client_id, name, web site, registered, from
    which address, learners' connections in force."""
    with session_factory()() as session:
        apps = obapi.registered_apps(session)
        for app in apps:  # one line each, tab-separated (for grep and cut)
            typer.echo(
                "\t".join([
                    app.client.id, app.client.client_name, app.client.client_uri,
                    app.client.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    app.client.registered_ip or "-", f"{app.connections} connected",
                ])
            )  # fmt: skip
    if not apps:
        console.print("No app is registered.")


@obapi_app.command("remove-client")
@exits_cleanly
def remove_client(
    client_id: Annotated[str, typer.Argument(help="The client_id to remove")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
) -> None:
    """Remove a registered app: every learner's connection to it and all its tokens end now."""
    with session_factory().begin() as session:
        ended = obapi.remove_client(session, client_id, reason=reason)
    console.print(f"Removed {client_id}; {ended} connection{'s' if ended != 1 else ''} ended.")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(obapi_app, name="obapi")
