"""Notification commands: ``microcred notifications remind`` (for cron)."""

from __future__ import annotations

import typer

from microcred.cli.common import console, exits_cleanly, session_factory
from microcred.notifications.reminders import NOTICE, remind_expiring

notifications_app = typer.Typer(help="People's notifications.", no_args_is_help=True)


@notifications_app.command("remind")
@exits_cleanly
def remind() -> None:
    """Remind holders of credentials ending within 30 days, once each (the server does this
    hourly unless MICROCRED_REMINDERS_IN_SERVER=false)."""
    with session_factory().begin() as session:
        made = remind_expiring(session)
    console.print(
        f"{made} reminder{'s' if made != 1 else ''} written (credentials ending within "
        f"{NOTICE.days} days)"
    )


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(notifications_app, name="notifications")
