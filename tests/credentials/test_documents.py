from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials.documents import (
    Recipient,
    build_openbadge_credential,
    hashed_email_identity,
    identity_matches,
)
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.schemas import validate_schema
from microcred.credentials.status.bitstring import status_entry
from tests.credentials.factories import VALID_FROM, achievement, issuer_for, unsigned_credential
from tests.credentials.vectors import STANDARDS, load_json


def test_built_credential_matches_the_ob3_schema_and_carries_every_part() -> None:
    key = Ed25519Key.generate()
    credential = unsigned_credential(
        key,
        valid_until=datetime(2030, 1, 1, tzinfo=UTC),
        credential_status=status_entry("https://north.example/status/1", 7),
    )
    assert validate_schema(credential).valid, validate_schema(credential).errors
    subject = credential["credentialSubject"]
    assert subject["achievement"]["type"] == ["Achievement"]
    assert subject["result"][0]["type"] == ["Result"]
    assert credential["evidence"][0]["type"] == ["Evidence"]
    assert credential["validFrom"] == "2025-01-01T00:00:00Z"
    assert credential["validUntil"] == "2030-01-01T00:00:00Z"
    assert credential["credentialStatus"]["statusListIndex"] == "7"
    assert credential["credentialSchema"][0]["type"] == "1EdTechJsonSchemaValidator2019"


def test_hashed_email_identity_matches_the_address_case_insensitively() -> None:
    identity = hashed_email_identity("Learner@Example.org", salt="pepper")
    assert identity["identityHash"].startswith("sha256$")
    assert "learner" not in identity["identityHash"]
    assert identity_matches(identity, "learner@example.org")
    assert not identity_matches(identity, "someone@example.org")


def test_plain_identity_objects_match_their_value() -> None:
    plain = {"hashed": False, "identityHash": "student@example.edu"}
    assert identity_matches(plain, "Student@example.edu")
    assert not identity_matches(plain, "teacher@example.edu")


def test_did_recipient_becomes_the_subject_id() -> None:
    key = Ed25519Key.generate()
    credential = build_openbadge_credential(
        credential_id="urn:uuid:a7f1c1f4-4f4e-4e39-9d0c-7b4f6f0f1a11",
        issuer=issuer_for(key),
        achievement=achievement(),
        recipient=Recipient(did="did:example:learner"),
        valid_from=VALID_FROM,
    )
    assert credential["credentialSubject"]["id"] == "did:example:learner"
    assert "identifier" not in credential["credentialSubject"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"credential_id": "not a uri"}, "id"),
        ({"issuer": {"id": "north", "name": "North"}}, "issuer.id"),
        ({"issuer": {"id": "https://north.example"}}, "issuer.name"),
        ({"achievement": {**achievement(), "criteria": {}}}, "achievement.criteria"),
        ({"achievement": {**achievement(), "name": " "}}, "achievement.name"),
        ({"recipient": Recipient(email="nobody")}, "recipient.email"),
        ({"recipient": Recipient()}, "recipient"),
        ({"valid_until": VALID_FROM}, "validUntil"),
        ({"evidence": [{"id": "not a uri"}]}, "evidence[0].id"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, Any], field: str) -> None:
    key = Ed25519Key.generate()
    arguments: dict[str, Any] = {
        "credential_id": "urn:uuid:a7f1c1f4-4f4e-4e39-9d0c-7b4f6f0f1a11",
        "issuer": issuer_for(key),
        "achievement": achievement(),
        "recipient": Recipient(email="learner@example.org"),
        "valid_from": VALID_FROM,
    }
    arguments.update(change)
    with pytest.raises(CredentialError) as raised:
        build_openbadge_credential(**arguments)
    assert raised.value.field == field


def ob3_spec_examples() -> list[str]:
    folder = STANDARDS / "examples" / "ob3-spec"
    if not folder.is_dir():
        return []
    return sorted(
        path.name for path in folder.glob("*.json") if path.name != "upgraded-ob2-assertion.json"
    )


@pytest.mark.parametrize("name", ob3_spec_examples())
def test_ob3_spec_examples_validate_against_the_schema(name: str) -> None:
    document = load_json(f"../examples/ob3-spec/{name}")
    outcome = validate_schema(document)
    assert outcome.valid, outcome.errors


def test_schema_errors_name_the_path() -> None:
    document = load_json("ob3-validator/simple-err-issuer-type.json")
    outcome = validate_schema(document)
    assert not outcome.valid
    assert outcome.errors[0].startswith("issuer")
