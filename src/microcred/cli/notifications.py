"""Notification commands: ``microcred notifications remind`` (for cron)."""

from __future__ import annotations

import typer

from microcred.cli.common import console, exits_cleanly, session_factory
from microcred.notifications.reminders import KEEP_READ, NOTICE, prune_read, remind_expiring
from microcred.outcomes.prompts import AFTER, prompt_reports
from microcred.settings import get_settings

notifications_app = typer.Typer(help="People's notifications.", no_args_is_help=True)


@notifications_app.command("remind")
@exits_cleanly
def remind() -> None:
    """Remind holders of credentials ending within 30 days, once each, and delete notifications
    read more than a year ago (the server does both hourly unless
    MICROCRED_REMINDERS_IN_SERVER=false); ask holders, six months after a credential, what they
    did next (the employment report). When the server sends mail, these are e-mailed too (to
    those who have not muted them)."""
    with session_factory().begin() as session:
        made = remind_expiring(session, settings=get_settings())
        prompted = prompt_reports(session, settings=get_settings())
        pruned = prune_read(session)
    console.print(
        f"{made} reminder{'s' if made != 1 else ''} written (credentials ending within "
        f"{NOTICE.days} days); {prompted} employment report prompt{'s' if prompted != 1 else ''} "
        f"(credentials issued {AFTER.days} days ago); "
        f"{pruned} read notification{'s' if pruned != 1 else ''} older "
        f"than {KEEP_READ.days} days deleted"
    )


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(notifications_app, name="notifications")
