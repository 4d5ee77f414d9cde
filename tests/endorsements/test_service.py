"""Endorse, accept, decline, withdraw, replace — and what issuance and verification make of it,
on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, Role
from microcred.credentials import service as credentials
from microcred.credentials.resolvers import verify
from microcred.credentials.schemas import validate_schema
from microcred.credentials.verify import ENDORSEMENTS
from microcred.db.base import utcnow
from microcred.endorsements import service as endorsements
from microcred.endorsements.errors import EndorsementError, EndorsementForbidden
from microcred.endorsements.models import LIVE_STATES, Endorsement, EndorsementState
from microcred.errors import NotFound
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input
from tests.endorsements.conftest import endorse_definition, principal


def _issue(session: Session, settings: Settings, definition_id: str) -> dict[str, object]:
    row = credentials.issue_credential(
        session, None, **issue_input(definition_id), settings=settings
    )
    return row.document


def _achievement(document: dict[str, object]) -> dict[str, object]:
    return document["credentialSubject"]["achievement"]  # type: ignore[index,no-any-return]


def _line(session: Session, settings: Settings, document: object) -> list[tuple[str, str]]:
    report = verify(session, document, settings, allow_remote=False)  # type: ignore[arg-type]
    assert report.valid, [c for c in report.checks if c.status == "fail"]
    return [(c.status, c.reason) for c in report.check(ENDORSEMENTS)]


def _actions(session: Session) -> list[str]:
    return [
        event.action
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id))
        if event.action.startswith("endorsements.")
    ]


@pytest.mark.both_databases
def test_an_accepted_endorsement_is_embedded_in_new_badges_which_verify_with_it(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser = principal(session, endorser_admin)
    before = _issue(session, settings, definition_id)
    endorsement = endorse_definition(session, settings, endorser, definition_id)
    assert endorsement.state is EndorsementState.pending
    assert validate_schema(endorsement.document).valid
    standalone = verify(session, endorsement.document, settings, allow_remote=False)
    assert standalone.valid, standalone.checks
    assert "endorsement" not in _achievement(_issue(session, settings, definition_id))

    endorsements.decide(session, principal(session, world.admin.id), endorsement.id, accept=True)
    after = _issue(session, settings, definition_id)
    [embedded] = _achievement(after)["endorsement"]  # type: ignore[misc]
    assert embedded == endorsement.document
    assert embedded["credentialSubject"]["id"] == _achievement(after)["id"]
    [(status, reason)] = _line(session, settings, after)
    assert status == "pass" and "South Academy" in reason
    assert "endorsement" not in _achievement(before)
    assert _line(session, settings, before) == []
    assert _actions(session) == ["endorsements.create", "endorsements.accept"]


@pytest.mark.both_databases
def test_a_withdrawn_endorsement_warns_in_badges_that_carry_it_and_leaves_new_ones(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser = principal(session, endorser_admin)
    endorsement = endorse_definition(session, settings, endorser, definition_id)
    endorsements.decide(session, principal(session, world.admin.id), endorsement.id, accept=True)
    carrying = _issue(session, settings, definition_id)

    with pytest.raises(EndorsementError, match="reason"):
        endorsements.withdraw(session, endorser, settings, endorsement.id, "  ")
    endorsements.withdraw(session, endorser, settings, endorsement.id, "Programme under review")
    assert endorsement.state is EndorsementState.withdrawn
    [(status, reason)] = _line(session, settings, carrying)
    assert status == "warning"
    assert endorsement.document["id"] in reason and "status" in reason
    assert not verify(session, endorsement.document, settings, allow_remote=False).valid
    assert "endorsement" not in _achievement(_issue(session, settings, definition_id))
    assert _actions(session)[-1] == "endorsements.withdraw"
    with pytest.raises(EndorsementError, match="already withdrawn"):
        endorsements.withdraw(session, endorser, settings, endorsement.id, "again")


@pytest.mark.both_databases
def test_a_declined_endorsement_is_never_embedded_and_declining_later_stops_it(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser, endorsed = principal(session, endorser_admin), principal(session, world.admin.id)
    first = endorse_definition(session, settings, endorser, definition_id)
    endorsements.decide(session, endorsed, first.id, accept=False)
    assert first.state is EndorsementState.declined
    assert "endorsement" not in _achievement(_issue(session, settings, definition_id))
    with pytest.raises(EndorsementError, match="declined"):
        endorsements.decide(session, endorsed, first.id, accept=True)
    with pytest.raises(NotFound):
        endorsements.public_document(session, first.id)

    second = endorse_definition(session, settings, endorser, definition_id)
    endorsements.decide(session, endorsed, second.id, accept=True)
    assert "endorsement" in _achievement(_issue(session, settings, definition_id))
    endorsements.decide(session, endorsed, second.id, accept=False)
    assert "endorsement" not in _achievement(_issue(session, settings, definition_id))
    # the endorser's statement itself stays valid: only the endorser withdraws it
    assert verify(session, second.document, settings, allow_remote=False).valid


@pytest.mark.both_databases
def test_a_new_endorsement_of_the_same_subject_replaces_the_older(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser, endorsed = principal(session, endorser_admin), principal(session, world.admin.id)
    older = endorse_definition(session, settings, endorser, definition_id, comment="Good.")
    endorsements.decide(session, endorsed, older.id, accept=True)
    newer = endorse_definition(session, settings, endorser, definition_id, comment="Excellent.")
    assert older.state is EndorsementState.withdrawn
    assert older.withdrawn_reason == endorsements.REPLACED
    assert newer.state is EndorsementState.pending
    assert not verify(session, older.document, settings, allow_remote=False).valid
    assert "endorsement" not in _achievement(_issue(session, settings, definition_id))
    endorsements.decide(session, endorsed, newer.id, accept=True)
    [embedded] = _achievement(_issue(session, settings, definition_id))["endorsement"]  # type: ignore[misc]
    assert embedded["credentialSubject"]["endorsementComment"] == "Excellent."


@pytest.mark.both_databases
def test_an_issuer_endorsement_goes_in_the_issuer_profile_of_new_badges(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser = principal(session, endorser_admin)
    endorsement = endorsements.endorse(
        session, endorser, settings, "south-academy", issuer="north-college",
        comment="North College is in good standing.",
        valid_until=utcnow() + timedelta(days=365),
    )  # fmt: skip
    endorsements.decide(session, principal(session, world.admin.id), endorsement.id, accept=True)
    badge = _issue(session, settings, definition_id)
    issuer = badge["issuer"]
    assert issuer["endorsement"] == [endorsement.document]  # type: ignore[index]
    assert endorsement.document["credentialSubject"]["id"] == issuer["id"]  # type: ignore[index]
    assert "validUntil" in endorsement.document
    assert validate_schema(badge).valid
    [(status, _)] = _line(session, settings, badge)
    assert status == "pass"
    assert [e.id for e in endorsements.accepted_of_issuer(session, world.college.id)] == [
        endorsement.id
    ]


@pytest.mark.both_databases
def test_an_expired_endorsement_is_no_longer_embedded_nor_listed(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser = principal(session, endorser_admin)
    endorsement = endorse_definition(
        session, settings, endorser, definition_id, valid_until=utcnow() + timedelta(days=1)
    )
    endorsements.decide(session, principal(session, world.admin.id), endorsement.id, accept=True)
    assert endorsements.accepted_of_definition(session, definition_id)
    session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id)
        .values(valid_until=utcnow() - timedelta(seconds=1))
    )
    session.expire_all()
    assert "endorsement" not in _achievement(_issue(session, settings, definition_id))
    assert endorsements.accepted_of_definition(session, definition_id) == []


def test_bad_endorsements_are_refused_naming_the_field(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser = principal(session, endorser_admin)
    cases = [
        ({"definition_id": definition_id, "comment": ""}, "comment"),
        ({"definition_id": definition_id, "comment": "x" * 5001}, "comment"),
        ({"definition_id": "nope", "comment": "Good"}, "definition_id"),
        ({"issuer": "nobody-here", "comment": "Good"}, "issuer"),
        ({"comment": "Good"}, "definition_id"),
        (
            {"definition_id": definition_id, "issuer": "north-college", "comment": "G"},
            "definition_id",
        ),
        ({"definition_id": definition_id, "comment": "G", "suite": "vc-jwt-rs256"}, "format"),
        (
            {"definition_id": definition_id, "comment": "G", "valid_until": utcnow()},
            "valid_until",
        ),
        ({"issuer": "south-academy", "comment": "We are great"}, "endorser"),
    ]
    for arguments, field in cases:
        with pytest.raises(EndorsementError) as raised:
            endorsements.endorse(session, endorser, settings, "south-academy", **arguments)  # type: ignore[arg-type]
        assert raised.value.field == field, (arguments, raised.value.message)


@pytest.mark.both_databases
def test_only_admins_endorse_and_only_the_endorsed_answer(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorser = principal(session, endorser_admin)
    college_admin = principal(session, world.admin.id)
    for user in (world.other_staff, world.learner, world.employer):
        with pytest.raises(EndorsementForbidden):
            endorse_definition(session, settings, principal(session, user.id), definition_id)
    with pytest.raises(EndorsementForbidden):  # a token without the scope
        endorse_definition(
            session, settings, principal(session, endorser_admin, ["catalogue:read"]), definition_id
        )
    endorsement = endorse_definition(session, settings, endorser, definition_id)
    with pytest.raises(EndorsementForbidden):  # B cannot accept on A's behalf
        endorsements.decide(session, endorser, endorsement.id, accept=True)
    with pytest.raises(EndorsementForbidden):  # nor A withdraw B's statement
        endorsements.withdraw(session, college_admin, settings, endorsement.id, "no")
    for user in (world.staff, world.other_staff, world.learner, world.employer):
        with pytest.raises(NotFound):  # another organisation never sees a pending one
            endorsements.get_endorsement(session, principal(session, user.id), endorsement.id)
        with pytest.raises(EndorsementForbidden):
            endorsements.received(session, principal(session, user.id), "north-college")
    with pytest.raises(NotFound):
        endorsements.public_document(session, endorsement.id)
    assert [e.id for e in endorsements.received(session, college_admin, "north-college")] == [
        endorsement.id
    ]
    assert endorsements.given(session, college_admin, "north-college") == []
    assert [e.id for e in endorsements.given(session, endorser, "south-academy")] == [
        endorsement.id
    ]
    assert endorsements.received(session, college_admin, "north-college", ["accepted"]) == []
    with pytest.raises(EndorsementError, match="state"):
        endorsements.received(session, college_admin, "north-college", ["bogus"])


def test_issuance_reads_the_endorsements_once_per_definition_not_per_credential(
    session: Session, settings: Settings, world: World, endorser_admin: str, definition_id: str
) -> None:
    endorsement = endorse_definition(
        session, settings, principal(session, endorser_admin), definition_id
    )
    endorsements.decide(session, principal(session, world.admin.id), endorsement.id, accept=True)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM endorsements" in statement:
            statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        issuance = credentials.Issuance(session, settings)
        rows = [
            issuance.issue(None, **issue_input(definition_id, recipient_email=f"l{n}@example.org"))
            for n in range(3)
        ]
        issuance.finish()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    assert all(_achievement(row.document)["endorsement"] == [endorsement.document] for row in rows)


@pytest.mark.both_databases
def test_an_employer_organisation_can_endorse_an_issuer_and_its_endorsement_verifies(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    admin = accounts.create_user(
        session, email="admin@acme.example", name="Ama Acme", password="x" * 12, fast_hash=True
    )
    accounts.add_membership(session, admin, world.employer_org, Role.admin)
    endorsement = endorsements.endorse(
        session, principal(session, admin.id), settings, "acme", issuer="north-college",
        comment="We hire North College graduates.",
    )  # fmt: skip
    report = verify(session, endorsement.document, settings, allow_remote=False)
    assert report.valid, [c for c in report.checks if c.status == "fail"]
    assert endorsement.document["issuer"]["name"] == "Acme Ltd"


@pytest.mark.both_databases
def test_two_requests_racing_to_endorse_the_same_subject_cannot_both_succeed(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        endorse_definition(session, settings, principal(session, endorser_admin), definition_id)
    # The second request read "no live endorsement" before the first committed.
    monkeypatch.setattr(endorsements, "_live", lambda session, endorser, subject: [])
    with (
        pytest.raises(EndorsementError, match="another request") as refused,
        sessions.begin() as session,
    ):
        endorse_definition(session, settings, principal(session, endorser_admin), definition_id)
    assert refused.value.status_code == 409
    with sessions() as session:
        live = session.scalars(select(Endorsement).where(Endorsement.state.in_(LIVE_STATES))).all()
    assert len(live) == 1
