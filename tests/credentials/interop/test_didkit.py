"""Interoperability with an independent implementation: DIDKit (PyPI ``openedx-didkit``).

DIDKit still speaks the VC 1.1 data model (``issuanceDate``) and ships the OB 3.0.0 context, so
the exchange uses OB 3.0 credentials in that form, secured with what both sides implement:
Ed25519Signature2020 (both ways), DataIntegrityProof ``eddsa-2022`` (DIDKit issues, we verify)
and VC-JWT with EdDSA (both ways). Everything stays offline: did:key on both sides.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.keys import Ed25519Key, base64url_encode
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.proofs.jwt import JoseKey, sign_jwt
from microcred.credentials.verify import PROOF, verify_credential
from tests.credentials.factories import method_for

pytest.importorskip("didkit")

VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V300 = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
ED25519_2020 = [VC_V1, OB_V300, "https://w3id.org/security/suites/ed25519-2020/v1"]
DATA_INTEGRITY = [VC_V1, OB_V300, "https://w3id.org/security/data-integrity/v1"]
PEER = Path(__file__).with_name("didkit_peer.py")


def vc11_badge(issuer: str) -> dict[str, Any]:
    return {
        "@context": ED25519_2020,
        "id": "urn:uuid:3f2a8f9e-4c1d-4b8a-9e57-1d2c3b4a5f60",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": "Profile", "name": "North College"},
        "issuanceDate": "2025-01-01T00:00:00Z",
        "name": "Data Literacy",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://north.example/achievements/data-literacy",
                "type": ["Achievement"],
                "name": "Data Literacy",
                "description": "Reads, questions and presents data.",
                "criteria": {"narrative": "Completed the course and its project."},
            },
        },
    }


@pytest.fixture(scope="module")
def exchange() -> dict[str, Any]:
    key = Ed25519Key.generate()
    did = did_key_from_public_key(key.public_key)
    unsigned = vc11_badge(did)
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64url_encode(key.public_key),
        "d": base64url_encode(key.seed),
    }
    request = {
        "jwk": json.dumps(jwk),
        "verification_method": method_for(key),
        "unsigned": unsigned,
        "ed25519_2020_contexts": ED25519_2020,
        "data_integrity_contexts": DATA_INTEGRITY,
        "ours_ed25519_2020": add_proof(
            unsigned, key, method_for(key), suite="Ed25519Signature2020"
        ),
        "ours_jwt": sign_jwt(unsigned, JoseKey.from_ed25519(key), kid=method_for(key)),
    }
    completed = subprocess.run(
        [sys.executable, str(PEER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, Any] = json.loads(completed.stdout)
    answer["our_did"] = did
    return answer


def test_didkit_derives_the_same_did_key(exchange: dict[str, Any]) -> None:
    assert exchange["did"] == exchange["our_did"]


def test_didkit_verifies_our_ed25519_signature_2020_credential(exchange: dict[str, Any]) -> None:
    assert exchange["verify_ed25519_2020"]["errors"] == []
    assert "proof" in exchange["verify_ed25519_2020"]["checks"]


def test_didkit_verifies_our_eddsa_vc_jwt(exchange: dict[str, Any]) -> None:
    assert exchange["verify_jwt"]["errors"] == []
    assert exchange["verify_jwt"]["checks"] == ["JWS"]


@pytest.mark.parametrize("issued", ["issued_ed25519_2020", "issued_eddsa_2022", "issued_jwt"])
def test_we_verify_what_didkit_issues(exchange: dict[str, Any], issued: str) -> None:
    report = verify_credential(exchange[issued], resolver=DidResolver())
    assert report.valid, report.checks
    assert any(check.name == PROOF and check.status == "pass" for check in report.checks)


def test_tampering_with_a_didkit_credential_is_detected(exchange: dict[str, Any]) -> None:
    credential = json.loads(exchange["issued_ed25519_2020"])
    credential["credentialSubject"]["achievement"]["name"] = "Something Else"
    report = verify_credential(credential, resolver=DidResolver())
    assert not report.valid
