"""Notifications are written with what they tell of, and only their person reads them."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import bulk
from microcred.credentials import service as credentials
from microcred.credentials.models import JobState
from microcred.errors import NotFound, PermissionDenied
from microcred.notifications import service as notifications
from microcred.notifications.models import Notification
from microcred.pathways import service as pathways
from microcred.pathways.service import PathwayInput
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input, principal_of


def issue(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str, **kw: object
) -> str:
    with sessions.begin() as session:
        return credentials.issue_credential(
            session, None, **issue_input(definition_id, **kw), status_purpose="suspension",
            settings=settings,
        ).id  # fmt: skip


def kinds_of(sessions: sessionmaker[Session], user_id: str) -> list[str]:
    with sessions() as session:
        query = select(Notification.kind).where(Notification.user_id == user_id)
        return list(session.scalars(query.order_by(Notification.created_at, Notification.id)))


@pytest.mark.both_databases
def test_the_holder_hears_of_issuance_and_of_every_status_change(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = issue(sessions, settings, definition_id)
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        credentials.revoke_credential(
            session, staff, credential_id, reason="Under review", purpose="suspension",
            settings=settings,
        )  # fmt: skip
        credentials.reinstate_credential(
            session, staff, credential_id, reason="Cleared", settings=settings
        )

    assert kinds_of(sessions, world.learner.id) == [
        "credential.issued", "credential.suspended", "credential.reinstated",
    ]  # fmt: skip
    with sessions() as session:
        page = notifications.notifications_of(session, principal_of(session, world.learner))
    reinstated, suspended, issued = page.items
    assert issued.title.startswith("New credential: ") and "North College" in issued.body
    assert issued.link == f"/credentials/{credential_id}"
    # The reason is the issuer's internal note: the holder is sent to the issuer instead.
    assert "Under review" not in suspended.body and "North College" in suspended.body
    assert reinstated.title.startswith("Credential reinstated: ")
    assert page.unread == 3 and page.next_before is None
    assert kinds_of(sessions, world.staff.id) == []  # staff did it: nothing for them


def test_an_address_without_an_account_gets_nothing(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    issue(sessions, settings, definition_id, recipient_email="nobody@example.org")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


@pytest.mark.both_databases
def test_a_bulk_job_notifies_each_recipient_and_whoever_started_it(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["definition_id", "recipient_email", "result_level"])
    writer.writerow([definition_id, "learner@example.org", "Competent"])
    writer.writerow([definition_id, "someone@example.org", "Competent"])
    writer.writerow([definition_id, "not-an-email", "Competent"])
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        job_id = bulk.create_job(session, staff, "north-college", out.getvalue().encode()).id
    assert bulk.run_job(sessions, job_id, settings).state is JobState.completed

    assert kinds_of(sessions, world.learner.id) == ["credential.issued"]
    assert kinds_of(sessions, world.staff.id) == ["issuance_job.completed"]
    with sessions() as session:
        (done,) = notifications.notifications_of(session, principal_of(session, world.staff)).items
    assert done.body == "2 issued, 0 already issued, 1 with errors."
    assert done.link == f"/manage/credentials/jobs/{job_id}"


@pytest.mark.both_databases
def test_only_their_person_reads_and_marks_notifications(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    first = issue(sessions, settings, definition_id)
    issue(sessions, settings, definition_id)
    with sessions() as session:
        learner = principal_of(session, world.learner)
        mine = [n.id for n in notifications.notifications_of(session, learner).items]
        other = principal_of(session, world.employer)
        assert notifications.notifications_of(session, other).items == []
        with pytest.raises(NotFound):
            notifications.open_notification(session, other, mine[0])
        with pytest.raises(NotFound):
            notifications.notifications_of(session, other, before=mine[0])
    with sessions.begin() as session:
        assert notifications.mark_read(session, principal_of(session, world.employer), mine) == 0
        learner = principal_of(session, world.learner)
        assert notifications.open_notification(session, learner, mine[1]) == f"/credentials/{first}"
    with sessions.begin() as session:
        learner = principal_of(session, world.learner)
        assert notifications.unread_count(session, world.learner.id) == 1
        assert notifications.mark_read(session, learner) == 1
        assert notifications.mark_read(session, learner) == 0
        assert notifications.unread_count(session, world.learner.id) == 0

    with sessions() as session:  # a token without the scope is refused
        narrow = principal_of(session, world.learner, ["credentials:read"])
        with pytest.raises(PermissionDenied):
            notifications.notifications_of(session, narrow)


def test_pages_of_notifications_run_newest_first_without_gaps_or_repeats(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        notifications.notify(
            session,
            [
                notifications.NewNotification(world.learner.id, "test", f"n{i}")
                for i in range(7)  # one insert: all share the same created_at
            ],
        )
    seen: list[str] = []
    before = None
    with sessions() as session:
        learner = principal_of(session, world.learner)
        while True:
            page = notifications.notifications_of(session, learner, limit=3, before=before)
            seen += [n.title for n in page.items]
            if page.next_before is None:
                break
            before = page.next_before
    assert sorted(seen) == [f"n{i}" for i in range(7)] and len(seen) == 7


def test_a_completed_pathway_is_notified(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        data = PathwayInput(
            "Single step",
            "certificate",
            {"type": "credential", "definition_id": definition_id},
        )
        pathway = pathways.create_pathway(session, None, "north-college", data, publish=True)
    issue(sessions, settings, definition_id)
    assert kinds_of(sessions, world.learner.id) == ["credential.issued", "pathway.awarded"]
    with sessions() as session:
        newest = notifications.notifications_of(session, principal_of(session, world.learner))
    assert newest.items[0].title == "Pathway completed: Single step"
    assert newest.items[0].link == f"/pathways/{pathway.id}"
