"""Presentations and an independent implementation: DIDKit (PyPI ``openedx-didkit``).

DIDKit speaks the VC 1.1 data model and knows neither eddsa-rdfc-2022 nor eddsa-jcs-2022 (it
refuses a VC 2.0 presentation and those cryptosuites), so the exchange uses a VC 1.1 presentation
of a VC 1.1 Open Badge, built by our presentation code and signed with Ed25519Signature2020 for
``authentication``. Both ways: DIDKit verifies ours; we verify what DIDKit signs
(Ed25519Signature2020 and the draft ``eddsa-2022``, whose proofs carry their own @context).
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
from microcred.credentials.verify import verify_credential
from microcred.wallet.presentations import build_presentation, sign_presentation
from tests.credentials.factories import method_for
from tests.credentials.interop.test_didkit import VC_V1, vc11_badge

pytest.importorskip("didkit")

PEER = Path(__file__).with_name("didkit_presentation_peer.py")
CHALLENGE, DOMAIN = "c-5521", "careers.acme.example"
EXPECTED = {"challenge": CHALLENGE, "domain": DOMAIN}
PRESENTATION_CONTEXTS = [VC_V1, "https://w3id.org/security/suites/ed25519-2020/v1"]


@pytest.fixture(scope="module")
def exchange() -> dict[str, Any]:
    issuer, holder = Ed25519Key.generate(), Ed25519Key.generate()
    credential = add_proof(
        vc11_badge(did_key_from_public_key(issuer.public_key)),
        issuer,
        method_for(issuer),
        suite="Ed25519Signature2020",
    )
    ours = sign_presentation(
        build_presentation(
            did_key_from_public_key(holder.public_key), [credential], context=PRESENTATION_CONTEXTS
        ),
        holder,
        method_for(holder),
        cryptosuite="Ed25519Signature2020",
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64url_encode(holder.public_key),
        "d": base64url_encode(holder.seed),
    }
    request = {
        "ours": ours,
        "expected": EXPECTED,
        "jwk": json.dumps(jwk),
        "unsigned": {
            "@context": [VC_V1],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [credential],
        },
        "proofs": {
            "ed25519_2020": {"type": "Ed25519Signature2020"},
            "eddsa_2022": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-2022"},
        },
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
    return answer


def test_didkit_verifies_our_presentation(exchange: dict[str, Any]) -> None:
    assert exchange["verified"]["errors"] == []
    assert "proof" in exchange["verified"]["checks"]


@pytest.mark.parametrize("issued", ["ed25519_2020", "eddsa_2022"])
def test_we_verify_a_presentation_didkit_signs(exchange: dict[str, Any], issued: str) -> None:
    vp = exchange["issued"][issued]
    report = verify_credential(vp, resolver=DidResolver(), challenge=CHALLENGE, domain=DOMAIN)
    assert report.valid, report.checks
    assert [c.status for c in report.check("holder proof")] == ["pass"]
    wrong = verify_credential(vp, resolver=DidResolver(), challenge="other")
    assert wrong.failed("challenge")
    vp["verifiableCredential"][0]["name"] = "Something Else"
    assert not verify_credential(
        vp, resolver=DidResolver(), challenge=CHALLENGE, domain=DOMAIN
    ).valid
