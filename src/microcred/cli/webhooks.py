"""Webhook commands: ``microcred webhooks deliver [--once]`` (for cron, or beside the server)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from microcred.cli.common import console, exits_cleanly, session_factory
from microcred.settings import get_settings
from microcred.webhooks import dispatcher

webhooks_app = typer.Typer(help="Outgoing webhooks to issuers' systems.", no_args_is_help=True)


@webhooks_app.command("deliver")
@exits_cleanly
def deliver(
    once: Annotated[
        bool, typer.Option("--once", help="Send what is due now, then exit (for cron)")
    ] = False,
    every: Annotated[float, typer.Option(help="Seconds between rounds, without --once")] = 5.0,
) -> None:
    """Send due webhook deliveries (safe beside web workers and other runs: each delivery is
    claimed by one of them)."""
    settings = get_settings()
    sessions = session_factory()
    with dispatcher.client() as http:
        while True:
            sent = 0
            while made := dispatcher.run_once(sessions, settings, http=http):
                sent += made
            if once:
                console.print(f"{sent} webhook attempt{'s' if sent != 1 else ''} made")
                return
            time.sleep(every)


@webhooks_app.command("prune")
@exits_cleanly
def prune(
    days: Annotated[int, typer.Option(min=1, help="Keep finished deliveries this many days")] = 30,
) -> None:
    """Delete deliveries that finished (delivered or failed) more than DAYS ago, with their
    attempts (the server does this hourly with 30 days)."""
    from datetime import timedelta

    deleted = dispatcher.prune(session_factory(), keep=timedelta(days=days))
    console.print(f"{deleted} finished deliver{'ies' if deleted != 1 else 'y'} deleted")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")
