"""Verifiable Presentations: learners sign them as holder; verifiers check them throughout."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from microcred.credentials import service
from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.resolvers import verify
from microcred.credentials.verify import VerificationReport, verify_credential
from microcred.settings import Settings
from microcred.wallet.holders import holder_key, unseal_holder_key
from microcred.wallet.models import HolderKey
from microcred.wallet.presentations import (
    PresentationError,
    build_presentation,
    create_presentation,
    sign_presentation,
)
from tests.conftest import World
from tests.credentials.factories import method_for, unsigned_credential
from tests.credentials.service.conftest import definition_id, issue_input, principal_of

__all__ = ["definition_id"]

SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
CHALLENGE, DOMAIN = "b7f3c1d2-interview-42", "careers.acme.example"


def _verified(vp: dict[str, Any], **expected: str | None) -> VerificationReport:
    return verify_credential(vp, resolver=DidResolver(), **expected)  # type: ignore[arg-type]


# --- pure parts: built and checked without a database ---------------------------------------


ISSUER, HOLDER = Ed25519Key.from_seed(b"\x01" * 32), Ed25519Key.from_seed(b"\x02" * 32)
HOLDER_DID = did_key_from_public_key(HOLDER.public_key)


def _signed_vp(suite: str) -> dict[str, Any]:
    credentials = [
        add_proof(unsigned_credential(ISSUER, number=n), ISSUER, method_for(ISSUER), suite=suite)
        for n in (1, 2)
    ]
    return sign_presentation(
        build_presentation(HOLDER_DID, credentials),
        HOLDER,
        method_for(HOLDER),
        challenge=CHALLENGE,
        domain=DOMAIN,
        cryptosuite=suite,
    )


SIGNED = {suite: _signed_vp(suite) for suite in SUITES}


@pytest.mark.parametrize("suite", SUITES)
def test_a_signed_presentation_verifies_with_its_challenge_and_domain(suite: str) -> None:
    vp = SIGNED[suite]
    assert vp["holder"] == HOLDER_DID and vp["type"] == ["VerifiablePresentation"]
    assert vp["proof"]["proofPurpose"] == "authentication"
    report = _verified(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert report.valid, report.checks
    assert report.kind == "presentation" and len(report.embedded) == 2
    assert {c.name for c in report.checks} >= {
        "holder proof", "challenge", "domain", "freshness", "credential 1 · proof",
        "credential 2 · proof",
    }  # fmt: skip
    summary = report.as_dict()["credentials"]
    assert [item["valid"] for item in summary] == [True, True]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    ("expected", "failing"),
    [
        ({"challenge": "another-challenge", "domain": DOMAIN}, "challenge"),
        ({"challenge": CHALLENGE, "domain": "evil.example"}, "domain"),
    ],
)
def test_a_presentation_for_another_challenge_or_domain_fails(
    suite: str, expected: dict[str, str], failing: str
) -> None:
    report = _verified(SIGNED[suite], **expected)
    assert report.failed(failing) and not report.valid


def test_without_an_expected_challenge_the_report_warns_of_replay() -> None:
    report = _verified(SIGNED["eddsa-rdfc-2022"])
    assert report.valid
    assert [c.status for c in report.check("challenge")] == ["warning"]


def test_a_presentation_signed_by_someone_other_than_its_holder_fails() -> None:
    other = Ed25519Key.from_seed(b"\x03" * 32)
    vp = sign_presentation(
        build_presentation(HOLDER_DID, []), other, method_for(other),
        challenge=CHALLENGE, domain=DOMAIN, cryptosuite="eddsa-jcs-2022",
    )  # fmt: skip
    report = _verified(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("holder proof") and not report.valid


def test_an_old_presentation_gets_a_freshness_warning() -> None:
    from datetime import UTC, datetime

    vp = sign_presentation(
        build_presentation(HOLDER_DID, []), HOLDER, method_for(HOLDER), challenge=CHALLENGE,
        domain=None, cryptosuite="eddsa-rdfc-2022", created=datetime(2025, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    report = _verified(vp, challenge=CHALLENGE)
    assert [c.status for c in report.check("freshness")] == ["warning"]
    assert report.failed("domain") is False and report.valid


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, (*path, i))]
    return [path]


def _tampered(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    old = parent[path[-1]]
    parent[path[-1]] = old + 1 if isinstance(old, int | float) else f"{old}x"
    return changed


LEAVES = {suite: _leaves(SIGNED[suite]) for suite in SUITES}


@pytest.mark.parametrize("suite", SUITES)
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_tampering_with_any_field_of_the_presentation_or_its_credentials_fails(
    suite: str, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(LEAVES[suite]))
    report = _verified(_tampered(SIGNED[suite], path), challenge=CHALLENGE, domain=DOMAIN)
    assert not report.valid, path


# --- the service: holder keys and the learner's own credentials -----------------------------


def _issued(session: Session, settings: Settings, definition_id: str, **overrides: Any) -> str:
    row = service.issue_credential(
        session, None, settings=settings, **issue_input(definition_id, **overrides)
    )
    return row.id


@pytest.mark.both_databases
@pytest.mark.parametrize("suite", SUITES)
def test_a_learner_presents_own_credentials_and_the_server_verifies_them(
    db_backend: str,
    suite: str,
    session: Session,
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    learner = principal_of(session, world.learner)
    ids = [_issued(session, settings, definition_id), _issued(session, settings, definition_id)]
    vp = create_presentation(
        session, learner, ids, challenge=CHALLENGE, domain=DOMAIN, cryptosuite=suite,
        settings=settings,
    )  # fmt: skip
    key = session.query(HolderKey).filter_by(user_id=world.learner.id).one()
    assert vp["holder"] == key.did and key.did.startswith("did:key:z6Mk")
    assert did_key_from_public_key(unseal_holder_key(key, settings).public_key) == key.did
    assert key.sealed_private_key.startswith("v1")  # sealed, never the seed itself
    documents = [service.get_credential(session, i).document for i in ids]
    assert vp["verifiableCredential"] == documents  # embedded unchanged
    report = verify(session, vp, settings, allow_remote=False, challenge=CHALLENGE, domain=DOMAIN)
    assert report.valid, [c for c in report.checks if c.status == "fail"]
    assert any(c.name.startswith("credential 1 · ledger") for c in report.checks)
    again = create_presentation(
        session, learner, ids[:1], challenge="next", domain=None, settings=settings
    )
    assert again["holder"] == key.did  # one key per account


@pytest.mark.both_databases
def test_a_revoked_credential_makes_the_presentation_invalid(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    learner = principal_of(session, world.learner)
    credential_id = _issued(session, settings, definition_id)
    vp = create_presentation(
        session, learner, [credential_id], challenge=CHALLENGE, domain=DOMAIN, settings=settings
    )
    service.revoke_credential(session, None, credential_id, reason="Error", settings=settings)
    report = verify(session, vp, settings, allow_remote=False, challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("credential 1 · status") and not report.valid
    assert not report.failed("holder proof")
    with pytest.raises(PresentationError, match="revoked"):
        create_presentation(
            session, learner, [credential_id], challenge=CHALLENGE, domain=None, settings=settings
        )


@pytest.mark.both_databases
def test_a_credential_of_another_learner_is_refused_like_one_that_does_not_exist(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    theirs = _issued(session, settings, definition_id, recipient_email="hr@acme.example")
    employer = principal_of(session, world.employer)
    learner = principal_of(session, world.learner)
    messages = []
    for credential_id in (theirs, "0" * 32):
        with pytest.raises(PresentationError) as refused:
            create_presentation(
                session, learner, [credential_id], challenge=CHALLENGE, domain=None,
                settings=settings,
            )  # fmt: skip
        assert refused.value.status_code == 404
        messages.append(refused.value.message.replace(credential_id, "ID"))
    assert messages[0] == messages[1]
    assert (
        create_presentation(
            session, employer, [theirs], challenge=CHALLENGE, domain=None, settings=settings
        )["verifiableCredential"][0]["id"]
        == service.get_credential(session, theirs).document["id"]
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"credential_ids": []}, "credential_ids"),
        ({"challenge": "  "}, "challenge"),
        ({"domain": "d" * 501}, "domain"),
        ({"cryptosuite": "Ed25519Signature2020"}, "cryptosuite"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_signed(
    session: Session, settings: Settings, world: World, changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "credential_ids": ["x"], "challenge": CHALLENGE, "domain": DOMAIN,
        "cryptosuite": "eddsa-rdfc-2022",
    }  # fmt: skip
    arguments.update(changes)
    ids = arguments.pop("credential_ids")
    with pytest.raises(PresentationError) as refused:
        create_presentation(
            session, principal_of(session, world.learner), ids, settings=settings, **arguments
        )
    assert refused.value.field == field
    assert session.query(HolderKey).count() == 0


def test_the_holder_key_is_made_once(session: Session, settings: Settings, world: World) -> None:
    learner = principal_of(session, world.learner)
    first = holder_key(session, learner, settings)
    assert holder_key(session, learner, settings).id == first.id
