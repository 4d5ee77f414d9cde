"""Real OB 3.0 credentials for tests, built and signed through the package's own functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from microcred.credentials.dids import did_key_from_public_key, did_key_verification_method_id
from microcred.credentials.documents import Recipient, build_openbadge_credential
from microcred.credentials.keys import Ed25519Key

VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)


def achievement() -> dict[str, Any]:
    return {
        "id": "https://north.example/achievements/data-literacy",
        "name": "Data Literacy",
        "description": "Reads, questions and presents data.",
        "criteria": {"narrative": "Completed the six-week course and a graded project."},
        "resultDescription": [
            {
                "id": "urn:uuid:7a1b0a39-6b9c-4f59-9b0e-2a3c7d61e7d1",
                "type": ["ResultDescription"],
                "name": "Project grade",
                "resultType": "RubricCriterionLevel",
                "rubricCriterionLevel": [
                    {
                        "id": "urn:uuid:1f6a5a9e-0d1c-4b9e-8f43-7c0e5b8a7d21",
                        "type": ["RubricCriterionLevel"],
                        "name": "Proficient",
                    }
                ],
            }
        ],
    }


def issuer_for(key: Ed25519Key) -> dict[str, Any]:
    return {"id": did_key_from_public_key(key.public_key), "name": "North College"}


def unsigned_credential(
    key: Ed25519Key, *, number: int = 1, valid_until: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    return build_openbadge_credential(
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        issuer=issuer_for(key),
        achievement=achievement(),
        recipient=Recipient(email="Learner@Example.org", salt="pepper"),
        valid_from=VALID_FROM,
        valid_until=valid_until,
        results=[
            {
                "resultDescription": "urn:uuid:7a1b0a39-6b9c-4f59-9b0e-2a3c7d61e7d1",
                "achievedLevel": "urn:uuid:1f6a5a9e-0d1c-4b9e-8f43-7c0e5b8a7d21",
            }
        ],
        evidence=[{"id": "https://north.example/evidence/42", "name": "Final project"}],
        **extra,
    )


def method_for(key: Ed25519Key) -> str:
    return did_key_verification_method_id(did_key_from_public_key(key.public_key))
