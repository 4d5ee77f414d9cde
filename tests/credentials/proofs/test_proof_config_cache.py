"""The cached proof-configuration hash signs exactly what the specifications say to sign:
SHA-256(canonical proof configuration) || SHA-256(canonical document), the configuration being
the proof without its value plus the document's ``@context`` — computed here from scratch and
compared (Ed25519 is deterministic, so equal signatures mean equal signed bytes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.keys import Ed25519Key, multibase_encode
from microcred.credentials.proofs import jcs, rdfc
from microcred.credentials.proofs.dataintegrity import add_proof, verify_proofs
from microcred.credentials.proofs.ed25519_2020 import (
    ED25519_SIGNATURE_2020,
    with_ed25519_2020_context,
)
from tests.credentials.factories import unsigned_credential

KEY = Ed25519Key.generate()
METHOD = "did:key:z6Mk#z6Mk"
CREATED = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
OB3 = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CONTEXTS = [
    None,
    "https://www.w3.org/ns/credentials/v2",
    OB3,
    ["https://www.w3.org/ns/credentials/v2", {"ex": "https://example.org/#"}],
]


def _canonical(suite: str, document: dict[str, Any]) -> bytes:
    if suite == "eddsa-jcs-2022":
        return jcs.canonicalize(document)
    return rdfc.canonicalize(document).encode()


def _expected_signature(suite: str, document: dict[str, Any]) -> str:
    config: dict[str, Any] = {"type": "DataIntegrityProof", "cryptosuite": suite}
    if suite == ED25519_SIGNATURE_2020:
        config = {"type": ED25519_SIGNATURE_2020}
    config.update(
        created="2026-11-23T10:00:00Z", verificationMethod=METHOD, proofPurpose="assertionMethod"
    )
    if "@context" in document:
        config["@context"] = document["@context"]
    signed = (
        hashlib.sha256(_canonical(suite, config)).digest()
        + hashlib.sha256(_canonical(suite, document)).digest()
    )
    return multibase_encode(KEY.sign(signed))


def _document(context: Any) -> dict[str, Any]:
    document = unsigned_credential(KEY)
    if context is None:
        del document["@context"]
    else:
        document["@context"] = context
    return document


@pytest.mark.parametrize("context", CONTEXTS)
def test_jcs_with_and_without_the_precomputed_digest(context: Any) -> None:
    document = _document(context)
    digest = hashlib.sha256(jcs.canonicalize(document)).digest()
    fast = add_proof(
        document, KEY, METHOD, suite="eddsa-jcs-2022", created=CREATED, jcs_digest=digest
    )
    plain = add_proof(document, KEY, METHOD, suite="eddsa-jcs-2022", created=CREATED)
    assert fast == plain
    assert fast["proof"]["proofValue"] == _expected_signature("eddsa-jcs-2022", document)


@pytest.mark.parametrize("context", CONTEXTS[1:])  # RDF needs a context
@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", ED25519_SIGNATURE_2020])
def test_rdfc_suites_sign_the_specified_bytes(suite: str, context: Any) -> None:
    document = _document(context)
    if suite == ED25519_SIGNATURE_2020:
        document = with_ed25519_2020_context(document)
    for _ in range(2):  # the second time from the cache
        proof = add_proof(document, KEY, METHOD, suite=suite, created=CREATED)["proof"]
        assert proof["proofValue"] == _expected_signature(suite, document)


def test_a_different_context_is_not_answered_from_the_cache() -> None:
    first = _document(OB3)
    second = _document(["https://www.w3.org/ns/credentials/v2"])
    for document in (first, second, first):
        proof = add_proof(document, KEY, METHOD, suite="eddsa-rdfc-2022", created=CREATED)
        assert proof["proof"]["proofValue"] == _expected_signature("eddsa-rdfc-2022", document)


def _issued(suite: str, **extra: Any) -> dict[str, Any]:
    key = Ed25519Key.generate()
    did = did_key_from_public_key(key.public_key)
    document = unsigned_credential(key)
    document["issuer"]["id"] = did
    if suite == ED25519_SIGNATURE_2020:
        document = with_ed25519_2020_context(document)
    method = f"{did}#{did.removeprefix('did:key:')}"
    return add_proof(document, key, method, suite=suite, created=CREATED, extra=extra or None)


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", ED25519_SIGNATURE_2020])
@pytest.mark.parametrize("extra", [{}, {"id": "urn:uuid:5e9f1c1a-2d43-4c39-9d5e-1f7c8b2a3d4e"}])
def test_verification_checks_every_field_of_the_proof_configuration(
    suite: str, extra: dict[str, Any]
) -> None:
    signed = _issued(suite, **extra)
    for _ in range(2):  # the second time the configuration's hash comes from the cache
        [result] = verify_proofs(signed, DidResolver())
        assert result.verified, result.reason
    changes = {"created": "2026-11-23T10:00:01Z"}
    if extra:
        changes["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    for field, value in changes.items():
        tampered = {**signed, "proof": {**signed["proof"], field: value}}
        [result] = verify_proofs(tampered, DidResolver())
        assert not result.verified, field
    added = {**signed, "proof": {**signed["proof"], "domain": "example.org"}}
    [result] = verify_proofs(added, DidResolver())
    assert not result.verified


def test_long_proof_fields_are_hashed_afresh_not_kept() -> None:
    from microcred.credentials.proofs.dataintegrity import _config_digest

    document = _document(OB3)
    method = "did:example:" + "a" * 4_000 + "#key-1"
    before = _config_digest.cache_info()
    proof = add_proof(document, KEY, method, suite="eddsa-jcs-2022", created=CREATED)["proof"]
    after = _config_digest.cache_info()
    assert after.currsize == before.currsize and after.misses == before.misses
    config = {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-11-23T10:00:00Z", "verificationMethod": method,
        "proofPurpose": "assertionMethod", "@context": document["@context"],
    }  # fmt: skip
    signed = (
        hashlib.sha256(jcs.canonicalize(config)).digest()
        + hashlib.sha256(jcs.canonicalize(document)).digest()
    )
    assert proof["proofValue"] == multibase_encode(KEY.sign(signed))
