"""The other side hears of an endorsement: the endorsed admins when one arrives or is withdrawn,
the endorser's admins when it is answered — never the admin who acted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.endorsements import service as endorsements
from microcred.notifications.models import Notification
from microcred.settings import Settings
from microcred.webhooks.models import WebhookDelivery
from tests.conftest import World
from tests.endorsements.conftest import endorse_definition, principal
from tests.webhooks.conftest import subscribe


def told(sessions: sessionmaker[Session], user_id: str) -> list[tuple[str, str]]:
    with sessions() as session:
        query = select(Notification.kind, Notification.title).where(Notification.user_id == user_id)
        return list(session.execute(query.order_by(Notification.created_at, Notification.id)))


@pytest.mark.both_databases
def test_each_side_hears_what_the_other_did(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        endorsement = endorse_definition(
            session, settings, principal(session, endorser_admin), definition_id
        )
    (received,) = told(sessions, world.admin.id)
    assert received[0] == "endorsement.received" and received[1].startswith("South Academy")
    assert told(sessions, endorser_admin) == []  # the one who acted
    assert told(sessions, world.staff.id) == []  # staff are not admins

    with sessions.begin() as session:
        endorsements.decide(
            session, principal(session, world.admin.id), endorsement.id, accept=True
        )
    (answer,) = told(sessions, endorser_admin)
    assert answer[0] == "endorsement.accepted" and "accepted your endorsement" in answer[1]

    with sessions.begin() as session:
        endorsements.withdraw(
            session, principal(session, endorser_admin), settings, endorsement.id, "Rebranded"
        )
    kinds = [kind for kind, _ in told(sessions, world.admin.id)]
    assert kinds == ["endorsement.received", "endorsement.withdrawn"]
    with sessions() as session:
        withdrawn = session.scalars(
            select(Notification).where(Notification.kind == "endorsement.withdrawn")
        ).one()
    assert withdrawn.body.startswith("Reason given: Rebranded.")
    assert withdrawn.link == "/manage/endorsements?organisation=north-college"


def test_a_declined_endorsement_withdrawn_later_tells_nobody_again(
    sessions: sessionmaker[Session], world: World, settings: Settings, endorser_admin: str,
    definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        endorsement = endorse_definition(
            session, settings, principal(session, endorser_admin), definition_id
        )
        endorsements.decide(
            session, principal(session, world.admin.id), endorsement.id, accept=False
        )
        endorsements.withdraw(
            session, principal(session, endorser_admin), settings, endorsement.id, "Moot"
        )
    assert [kind for kind, _ in told(sessions, world.admin.id)] == ["endorsement.received"]
    assert [kind for kind, _ in told(sessions, endorser_admin)] == ["endorsement.declined"]


@pytest.mark.both_databases
def test_each_sides_systems_hear_it_by_webhook(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str,
) -> None:  # fmt: skip
    local = settings.model_copy(update={"webhooks_allow_private": True})
    kinds = [
        "endorsement.received", "endorsement.accepted", "endorsement.declined",
        "endorsement.withdrawn",
    ]  # fmt: skip
    subscribe(sessions, world, local, "https://127.0.0.1:9/north", kinds)
    subscribe(sessions, world, local, "https://127.0.0.1:9/south", kinds, "south-academy")
    with sessions.begin() as session:
        endorsement = endorse_definition(
            session, local, principal(session, endorser_admin), definition_id
        )
        endorsements.decide(
            session, principal(session, world.admin.id), endorsement.id, accept=True,
            settings=local,
        )  # fmt: skip
        endorsements.withdraw(
            session, principal(session, endorser_admin), local, endorsement.id, "Rebranded"
        )

    with sessions() as session:
        sent = session.execute(
            select(
                WebhookDelivery.organisation_id, WebhookDelivery.event_type, WebhookDelivery.body
            ).order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        ).all()
    assert [(org, kind) for org, kind, _ in sent] == [
        (world.college.id, "endorsement.received"),
        (world.academy.id, "endorsement.accepted"),
        (world.college.id, "endorsement.withdrawn"),
    ]
    withdrawn = json.loads(sent[-1][2])["data"]
    assert withdrawn["endorsement_id"] == endorsement.id and withdrawn["reason"] == "Rebranded"
    assert withdrawn["endorser"]["name"] == "South Academy"
    assert withdrawn["subject"]["kind"] == "definition"
