"""A credential about to expire is announced to its holder once, 30 days ahead."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.cli.main import app as cli
from microcred.credentials import service as credentials
from microcred.db.base import utcnow
from microcred.notifications.models import Notification
from microcred.notifications.reminders import Reminders, prune_read, remind_expiring
from microcred.notifications.service import NewNotification, notify
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input, principal_of


def issue_ending(
    sessions: sessionmaker[Session],
    settings: Settings,
    definition_id: str,
    days: float,
    **kw: object,
) -> str:
    with sessions.begin() as session:
        return credentials.issue_credential(
            session, None, **issue_input(definition_id, **kw),
            valid_until=utcnow() + timedelta(days=days), settings=settings,
        ).id  # fmt: skip


def reminders(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        query = select(Notification.user_id, Notification.link).where(
            Notification.kind == "credential.expiring"
        )
        return sorted((user, link) for user, link in session.execute(query))


@pytest.mark.both_databases
def test_holders_are_reminded_once_of_credentials_ending_within_30_days(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    soon = issue_ending(sessions, settings, definition_id, 10)
    issue_ending(sessions, settings, definition_id, 45)  # not yet
    issue_ending(sessions, settings, definition_id, 5, recipient_email="nobody@example.org")
    revoked = issue_ending(sessions, settings, definition_id, 3)
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        credentials.revoke_credential(session, staff, revoked, reason="x", settings=settings)

    with sessions.begin() as session:
        assert remind_expiring(session) == 1
    assert reminders(sessions) == [(world.learner.id, f"/credentials/{soon}")]
    with sessions() as session:
        held = credentials.get_credential(session, soon)
        (row,) = session.scalars(
            select(Notification).where(Notification.kind == "credential.expiring")
        )
    assert held.valid_until is not None
    assert row.title == f"Expires {held.valid_until:%d %B %Y}: {held.achievement_name}"

    with sessions.begin() as session:  # swept again (another hour, another worker): no repeat
        assert remind_expiring(session) == 0
    with sessions.begin() as session:  # three weeks on, the 45-day one is due too
        assert remind_expiring(session, now=utcnow() + timedelta(days=21)) == 1
    assert len(reminders(sessions)) == 2


def test_the_cli_and_the_servers_thread_remind(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str,
    runner: CliRunner,
) -> None:  # fmt: skip
    issue_ending(sessions, settings, definition_id, 2)
    done = runner.invoke(cli, ["notifications", "remind"])
    assert done.exit_code == 0 and "1 reminder written" in done.output

    issue_ending(sessions, settings, definition_id, 3)
    thread = Reminders(sessions)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(reminders(sessions)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        thread.stop()
    assert len(reminders(sessions)) == 2


def test_read_notifications_are_deleted_after_a_year_unread_ones_kept(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        notify(
            session,
            [NewNotification(world.learner.id, "test", t) for t in ("old read", "old unread")],
        )
        notify(session, [NewNotification(world.learner.id, "test", "new read")])
        for row in session.scalars(select(Notification)):
            if row.title.startswith("old"):
                row.created_at = utcnow() - timedelta(days=400)
            if row.title.endswith(" read"):
                row.read_at = utcnow()
    with sessions.begin() as session:
        assert prune_read(session) == 1
    with sessions() as session:
        left = sorted(session.scalars(select(Notification.title)))
    assert left == ["new read", "old unread"]


def test_the_server_thread_runs_the_other_capabilities_sweeps_with_its_settings(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The web app's sweeps (six-month questions, old batch verification results) ride on the
    reminders thread: each gets a session and the server's settings, every round."""
    from microcred.web.app import SWEEPS

    seen: list[tuple[bool, Settings | None]] = []

    def sweep(session: Session, now: object, given: Settings | None) -> int:
        seen.append((session.is_active, given))
        return 0

    assert len(SWEEPS) == 2
    thread = Reminders(sessions, timedelta(milliseconds=50), settings=settings, sweeps=(sweep,))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
    assert len(seen) >= 2 and all(active and given is settings for active, given in seen)
