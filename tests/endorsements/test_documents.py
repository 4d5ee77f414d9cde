"""Pure EndorsementCredential documents: built, schema-valid, signed, verified; any tampering
fails; the endorsements check of a badge that carries them (no database)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.schemas import validate_schema
from microcred.credentials.verify import (
    ENDORSEMENTS,
    PROOF,
    SCHEMA,
    VerificationReport,
    verify_credential,
)
from microcred.endorsements.documents import (
    build_endorsement,
    embedded_endorsements,
    endorsement_label,
)
from microcred.endorsements.errors import EndorsementError
from tests.credentials.factories import method_for, unsigned_credential
from tests.credentials.helpers import LocalFetcher, ValidatorKeyResolver
from tests.credentials.vectors import load_json, need_standards

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ENDORSER = Ed25519Key.from_seed(bytes(range(32)))
COLLEGE = Ed25519Key.from_seed(bytes(32))
ACHIEVEMENT_ID = "https://north.example/achievements/data-literacy"


def _resolver() -> DidResolver:
    return DidResolver(fetch_json=LocalFetcher())


def unsigned_endorsement(subject_id: str = ACHIEVEMENT_ID, **extra: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "credential_id": "https://association.example/endorsements/1",
        "issuer": {"id": did_key_from_public_key(ENDORSER.public_key), "name": "Welders Assoc."},
        "subject_id": subject_id,
        "comment": "Meets the **EWF** standard.",
        "name": "Endorsement of Data Literacy by Welders Assoc.",
        "valid_from": NOW - timedelta(days=30),
        "valid_until": NOW + timedelta(days=365),
    }
    return build_endorsement(**{**arguments, **extra})


def signed_endorsement(suite: str = "eddsa-rdfc-2022", **extra: Any) -> dict[str, Any]:
    document = unsigned_endorsement(**extra)
    return add_proof(document, ENDORSER, method_for(ENDORSER), suite=suite, created=NOW)


def _verify(document: Any) -> VerificationReport:
    return verify_credential(document, resolver=_resolver(), now=NOW)


def _badge_carrying(*endorsements: dict[str, Any]) -> dict[str, Any]:
    badge = unsigned_credential(COLLEGE)
    badge["credentialSubject"]["achievement"]["endorsement"] = list(endorsements)
    return add_proof(badge, COLLEGE, method_for(COLLEGE), created=NOW)


SIGNED = {suite: signed_endorsement(suite) for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022")}


def test_an_endorsement_is_schema_valid_and_verifies_in_both_suites() -> None:
    unsigned = unsigned_endorsement()
    assert unsigned["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert unsigned["credentialSubject"] == {
        "id": ACHIEVEMENT_ID,
        "type": ["EndorsementSubject"],
        "endorsementComment": "Meets the **EWF** standard.",
    }
    assert validate_schema(unsigned).valid
    for document in SIGNED.values():
        report = _verify(document)
        assert report.valid, report.checks
        [schema] = report.check(SCHEMA)
        assert schema.status == "pass" and "endorsementcredential" in schema.reason
        assert report.check(ENDORSEMENTS) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"comment": "   "}, "comment"),
        ({"comment": "x" * 5001}, "comment"),
        ({"subject_id": "not a uri"}, "credentialSubject.id"),
        ({"credential_id": "endorsement-1"}, "id"),
        ({"issuer": {"id": "did:key:z6Mk", "name": " "}}, "issuer.name"),
        ({"issuer": {"name": "No id"}}, "issuer.id"),
        ({"valid_until": NOW - timedelta(days=60)}, "valid_until"),
    ],
)
def test_a_bad_endorsement_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(EndorsementError) as raised:
        unsigned_endorsement(**changes)
    assert raised.value.field == field


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [path]


def _tampered(document: dict[str, Any], path: tuple[Any, ...], suffix: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    holder: Any = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = f"{holder[path[-1]]}{suffix}"
    return changed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suite=st.sampled_from(sorted(SIGNED)),
    pick=st.integers(min_value=0),
    suffix=st.text(min_size=1, max_size=5).filter(lambda text: text.strip() != ""),
)
def test_changing_any_field_of_a_signed_endorsement_makes_it_fail(
    suite: str, pick: int, suffix: str
) -> None:
    document = SIGNED[suite]
    fields = [path for path in _leaves(document) if path[0] != "proof"]
    path = fields[pick % len(fields)]
    report = _verify(_tampered(document, path, suffix))
    assert not report.valid, path


def test_a_badge_without_endorsements_gets_no_endorsements_line() -> None:
    report = _verify(add_proof(unsigned_credential(COLLEGE), COLLEGE, method_for(COLLEGE)))
    assert report.valid and report.check(ENDORSEMENTS) == []


def test_a_good_embedded_endorsement_passes_and_a_bad_one_only_warns() -> None:
    good = SIGNED["eddsa-rdfc-2022"]
    report = _verify(_badge_carrying(good))
    assert report.valid, report.checks
    [line] = report.check(ENDORSEMENTS)
    assert line.status == "pass" and "Welders Assoc." in line.reason

    forged = _tampered(good, ("credentialSubject", "endorsementComment"), " Not really.")
    other_subject = signed_endorsement(subject_id="https://elsewhere.example/achievements/9")
    expired = signed_endorsement(
        valid_from=NOW - timedelta(days=400), valid_until=NOW - timedelta(days=1)
    )
    report = _verify(_badge_carrying(good, forged, other_subject, expired))
    assert report.valid, [c for c in report.checks if c.status == "fail"]
    warnings = [c.reason for c in report.check(ENDORSEMENTS)]
    assert len(warnings) == 3 and all(c.status == "warning" for c in report.check(ENDORSEMENTS))
    assert "proof" in warnings[0] and good["id"] in warnings[0]
    assert "elsewhere.example" in warnings[1]
    assert "Expired" in warnings[2]


def test_a_carried_item_that_is_no_endorsement_warns() -> None:
    report = _verify(_badge_carrying({"id": "urn:x", "type": ["VerifiableCredential"]}))
    [line] = report.check(ENDORSEMENTS)
    assert line.status == "warning" and "not an EndorsementCredential" in line.reason


def test_endorsements_are_found_where_ob3_puts_them() -> None:
    one = {"id": "urn:uuid:1", "issuer": {"name": "A"}}
    credential = {
        "endorsement": one,
        "issuer": {"id": "did:web:x", "endorsement": [one, one]},
        "credentialSubject": {
            "achievement": {"id": "https://a", "endorsement": [one], "creator": {"endorsement": []}}
        },
    }
    found = [(e.where, e.expected_subject) for e in embedded_endorsements(credential)]
    assert found == [
        ("credential", None),
        ("issuer", "did:web:x"),
        ("issuer", "did:web:x"),
        ("achievement", "https://a"),
    ]
    assert embedded_endorsements({"credentialSubject": [{"achievement": "x"}]}) == []
    assert endorsement_label(one) == "urn:uuid:1 by A"
    assert endorsement_label("text") == "an endorsement that is not an object"


def test_the_validator_endorsement_vectors() -> None:
    need_standards()
    resolver = ValidatorKeyResolver()
    good = verify_credential(
        load_json("ob3-validator/endorsement-valid.json"), resolver=resolver, now=NOW
    )
    assert good.valid, good.checks
    assert [c.status for c in good.check(SCHEMA)] == ["pass"]
    bad = verify_credential(
        load_json("ob3-validator/endorsement-err-schema-status-refresh.json"),
        resolver=resolver,
        now=NOW,
    )
    assert not bad.valid
    assert any(c.name == PROOF and c.status == "fail" for c in bad.checks)
    carried = _badge_carrying(load_json("ob3-validator/endorsement-valid.json"))
    report = verify_credential(carried, resolver=resolver, now=NOW)
    assert report.valid
    [line] = report.check(ENDORSEMENTS)
    assert line.status == "warning"  # it endorses 1EdTech University, not this achievement
    assert "1edtech.edu/issuers/565049" in line.reason
