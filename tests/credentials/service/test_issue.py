"""Issuing through the service: the stored credential verifies, idempotency, isolation, input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from microcred.accounts.models import AuditEvent
from microcred.credentials import service
from microcred.credentials.errors import CredentialError
from microcred.credentials.models import IssuedCredential
from microcred.credentials.resolvers import verify
from microcred.errors import PermissionDenied
from microcred.ledger.service import leaves_for_credential
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input, principal_of


@pytest.mark.both_databases
def test_staff_issue_a_credential_that_verifies_and_is_in_the_ledger(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    staff = principal_of(session, world.staff)
    row = service.issue_credential(session, staff, settings=settings, **issue_input(definition_id))
    document = row.document
    assert document["issuer"]["id"] == "did:web:127.0.0.1%3A8000:issuers:north-college"
    assert document["proof"]["verificationMethod"].startswith(document["issuer"]["id"] + "#")
    assert document["credentialSubject"]["result"][0]["achievedLevel"].endswith("#level-2")
    assert row.recipient_user_id == world.learner.id  # the e-mail address links the account
    report = verify(session, document, settings, allow_remote=False)
    assert report.valid, report.checks
    assert {check.name for check in report.checks} >= {"schema", "proof", "status", "issuer"}
    leaves = leaves_for_credential(session, bytes.fromhex(row.credential_hash))
    assert [leaf.event.value for _, leaf in leaves] == ["issued"]
    assert session.scalar(select(AuditEvent).where(AuditEvent.object_id == row.id)) is not None


def test_every_format_verifies(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    row = service.issue_credential(
        session, None, settings=settings, **issue_input(definition_id, formats=service.FORMATS)
    )
    suites = {
        proof["cryptosuite"] if "cryptosuite" in proof else proof["type"]
        for proof in row.document["proof"]
    }
    assert suites == {"eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"}
    assert set(row.jwts) == {"vc-jwt-rs256", "vc-jwt-es256", "vc-jose-eddsa"}
    for source in (row.document, *row.jwts.values()):
        report = verify(session, source, settings, allow_remote=False)
        assert report.valid, report.checks
    # every form commits to the same credential hash, the one in the ledger
    assert service.credential_hash(row.document).hex() == row.credential_hash


@pytest.mark.both_databases
def test_the_same_idempotency_key_returns_the_first_credential(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    first = service.issue_credential(
        session, None, settings=settings, **issue_input(definition_id, idempotency_key="enrol-1")
    )
    again = service.issue_credential(
        session, None, settings=settings, **issue_input(definition_id, idempotency_key="enrol-1")
    )
    assert again.id == first.id
    assert len(session.scalars(select(IssuedCredential)).all()) == 1


@pytest.mark.both_databases
def test_staff_of_another_issuer_cannot_issue_and_tokens_need_the_scope(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    for principal in (
        principal_of(session, world.other_staff),
        principal_of(session, world.learner),
        principal_of(session, world.staff, scopes=["credentials:read"]),
    ):
        with pytest.raises(PermissionDenied):
            service.issue_credential(
                session, principal, settings=settings, **issue_input(definition_id)
            )
    assert session.scalars(select(IssuedCredential)).all() == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipient_email": "not-an-email"}, "recipient_email"),
        ({"recipient_email": None, "recipient_name": "Nobody"}, "recipient_email"),
        ({"results": [{"level": "Wizard"}]}, "results[0].level"),
        ({"formats": ["rsa-sha1"]}, "formats"),
        ({"recipient_did": "not a did"}, "recipient_did"),
        (
            {
                "valid_from": datetime(2030, 1, 1, tzinfo=UTC),
                "valid_until": datetime(2029, 1, 1, tzinfo=UTC),
            },
            "valid_until",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    session: Session,
    settings: Settings,
    world: World,
    definition_id: str,
    overrides: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(CredentialError) as raised:
        service.issue_credential(
            session, None, settings=settings, **issue_input(definition_id, **overrides)
        )
    assert raised.value.field == field
    assert session.scalars(select(IssuedCredential)).all() == []


def test_an_expired_credential_fails_the_validity_check(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    row = service.issue_credential(
        session, None, settings=settings,
        **issue_input(definition_id, valid_from=start, valid_until=start + timedelta(days=1)),
    )  # fmt: skip
    report = verify(session, row.document, settings, allow_remote=False)
    assert report.failed("validity")
    assert not report.valid


def test_a_learner_lists_only_their_own_credentials(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    mine = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    service.issue_credential(
        session, None, settings=settings,
        **issue_input(definition_id, recipient_email="someone@else.example"),
    )  # fmt: skip
    learner = principal_of(session, world.learner)
    assert [c.id for c in service.credentials_of_learner(session, world.learner.id, learner)] == [
        mine.id
    ]
    with pytest.raises(PermissionDenied):
        service.credentials_of_learner(
            session, world.learner.id, principal_of(session, world.staff)
        )


def test_issuer_listing_is_limited_to_its_staff(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    page = service.credentials_of_issuer(
        session, principal_of(session, world.staff), "north-college", query="learner@"
    )
    assert page.total == 1
    with pytest.raises(PermissionDenied):
        service.credentials_of_issuer(
            session, principal_of(session, world.other_staff), "north-college"
        )


def _issue_several(
    session: Session, settings: Settings, definition_id: str, count: int
) -> list[IssuedCredential]:
    return [
        service.issue_credential(
            session,
            None,
            settings=settings,
            **issue_input(definition_id, recipient_email=f"learner{number}@example.org"),
        )
        for number in range(count)
    ]


def test_issuer_listing_pages_come_newest_first_from_an_index(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    """The list is read in order from an index, not sorted whole for every page (1 s for an
    issuer with 100,000 credentials before the index)."""
    issued = _issue_several(session, settings, definition_id, 3)
    staff = principal_of(session, world.staff)
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "LIMIT" in statement.upper():
            statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        newest = service.credentials_of_issuer(session, staff, "north-college", per_page=2)
        revoked = service.credentials_of_issuer(session, staff, "north-college", state="revoked")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    expected = sorted(issued, key=lambda row: (row.issued_at, row.id), reverse=True)
    assert [row.id for row in newest.items] == [row.id for row in expected[:2]]
    assert (newest.total, revoked.total) == (3, 0)
    listings = [(text, args) for text, args in statements if "issued_credentials" in text]
    assert len(listings) == 2
    for text, args in listings:
        plan = " ".join(
            str(row[-1])
            for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {text}", args)
        )
        assert "ix_issued_credentials_organisation_" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # only the id tie-break is sorted


@pytest.mark.both_databases
def test_walking_an_issuers_list_by_cursor_sees_every_credential_once_in_order(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    issued = _issue_several(session, settings, definition_id, 7)
    tie = issued[2].issued_at  # a batch shares its moment: the id breaks the tie
    for row in issued[3:6]:
        row.issued_at = tie
    session.flush()
    staff = principal_of(session, world.staff)
    by_number = service.credentials_of_issuer(session, staff, "north-college", per_page=7)
    assert by_number.next_cursor is None  # one page holds them all
    walked, after, pages = [], None, 0
    while True:
        page = service.credentials_of_issuer(
            session, staff, "north-college", per_page=2, after=after
        )
        walked += [row.id for row in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert walked == [row.id for row in by_number.items]
    assert sorted(walked) == sorted(row.id for row in issued) and pages == 4
    numbered = service.credentials_of_issuer(session, staff, "north-college", per_page=2, page=2)
    assert [row.id for row in numbered.items] == walked[2:4]
    for bad in ("not-a-cursor", "bm9waXBl", "%%%"):
        with pytest.raises(CredentialError) as raised:
            service.credentials_of_issuer(session, staff, "north-college", after=bad)
        assert raised.value.field == "after"


def test_issuer_default_formats_apply_when_a_call_names_none(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    service.set_default_formats(
        session,
        principal_of(session, world.admin),
        "north-college",
        ["eddsa-jcs-2022", "vc-jwt-es256"],
    )
    row = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    assert row.document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert set(row.jwts) == {"vc-jwt-es256"}
    with pytest.raises(PermissionDenied):
        service.set_default_formats(
            session, principal_of(session, world.staff), "north-college", ["eddsa-jcs-2022"]
        )


@pytest.mark.both_databases
def test_an_address_links_an_account_from_an_organisations_invitation_only_for_that_one(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str,
    academy_definition_id: str,
) -> None:  # fmt: skip
    """Nothing proves who accepted an organisation's invitation, so the account it made
    collects what that organisation issues to its address, and nothing another issues; an
    account the platform made (the operator, tests' fixtures) collects from every issuer."""
    from microcred.accounts import admin

    invited = admin.invite(session, principal_of(session, world.admin), "north-college",
                           email="roamer@example.org", role="learner")  # fmt: skip
    roamer = admin.accept_invitation(session, invited.secret or "", name="Roamer",
                                     password="roamer-password")  # fmt: skip
    assert roamer.email_trusted is False  # North College's admin vouched, not the platform
    ours = service.issue_credential(
        session, None, settings=settings,
        **issue_input(definition_id, recipient_email="roamer@example.org"),
    )  # fmt: skip
    theirs = service.issue_credential(
        session, None, settings=settings,
        **issue_input(academy_definition_id, recipient_email="roamer@example.org"),
    )  # fmt: skip
    assert ours.recipient_user_id == roamer.id  # North College's own member
    assert theirs.recipient_user_id is None  # South Academy does not know the account
    trusted = service.issue_credential(
        session, None, settings=settings, **issue_input(academy_definition_id)
    )
    assert trusted.recipient_user_id == world.learner.id  # made by the platform: any issuer
