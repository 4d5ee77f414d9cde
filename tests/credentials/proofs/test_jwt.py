from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519Key, base64url_encode
from microcred.credentials.proofs.jwt import (
    JoseKey,
    decode_jwt,
    public_jwk,
    sign_jwt,
    verify_jwt,
)
from tests.credentials.helpers import LocalFetcher
from tests.credentials.vectors import load_text

ISSUER_DID = "did:web:badges.example:issuers:north"


def credential(issuer: str = ISSUER_DID) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:6a3b2f0e-1111-4222-8333-944445555666",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "North College"},
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
    }


def resolver_for(key: JoseKey) -> DidResolver:
    document = {
        "id": ISSUER_DID,
        "verificationMethod": [
            {
                "id": f"{ISSUER_DID}#jwt-1",
                "type": "JsonWebKey",
                "controller": ISSUER_DID,
                "publicKeyJwk": key.public_jwk,
            }
        ],
        "assertionMethod": [f"{ISSUER_DID}#jwt-1"],
    }
    return DidResolver(LocalFetcher({"https://badges.example/issuers/north/did.json": document}))


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
@pytest.mark.parametrize("form", ["vc-jwt", "vc-jose"])
def test_each_algorithm_and_form_round_trips(algorithm: Any, form: Any) -> None:
    key = JoseKey.generate(algorithm)
    token = sign_jwt(credential(), key, kid=f"{ISSUER_DID}#jwt-1", form=form)
    decoded = decode_jwt(token)
    assert decoded.credential == credential()
    result = verify_jwt(decoded, resolver_for(key))
    assert result.verified, result.reason
    assert result.method is not None and result.method.controller == ISSUER_DID
    if form == "vc-jwt":
        assert decoded.header["typ"] == "JWT"
        assert decoded.payload["iss"] == ISSUER_DID
        assert decoded.payload["sub"] == "did:example:learner"
        assert decoded.payload["jti"] == credential()["id"]
        assert decoded.payload["nbf"] == 1735689600
        assert decoded.payload["exp"] == 1893456000
    else:
        assert decoded.header["typ"] == "vc+jwt"


def test_issuer_without_kid_resolves_to_its_first_assertion_key() -> None:
    key = JoseKey.generate("ES256")
    assert verify_jwt(decode_jwt(sign_jwt(credential(), key)), resolver_for(key)).verified


def test_did_key_issuer_with_eddsa() -> None:
    ed = Ed25519Key.generate()
    did = did_key_from_public_key(ed.public_key)
    token = sign_jwt(credential(did), JoseKey.from_ed25519(ed), form="vc-jose")
    assert verify_jwt(decode_jwt(token), DidResolver()).verified


def test_pem_round_trip_keeps_the_algorithm() -> None:
    for algorithm in ("RS256", "ES256", "EdDSA"):
        key = JoseKey.generate(algorithm)  # type: ignore[arg-type]
        again = JoseKey.from_pem(key.to_pem())
        assert again.algorithm == algorithm and again.public_jwk == key.public_jwk


def _forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    segments = [json.dumps(part).encode() for part in (header, payload)]
    return ".".join(base64url_encode(part) for part in [*segments, signature])


def test_alg_none_and_hmac_are_refused() -> None:
    key = JoseKey.generate("RS256")
    for algorithm in ("none", "HS256", "PS256"):
        token = _forge({"alg": algorithm, "typ": "JWT"}, {"vc": credential()})
        result = verify_jwt(decode_jwt(token), resolver_for(key))
        assert not result.verified and "not accepted" in result.reason


def test_wrong_key_and_algorithm_confusion_fail() -> None:
    signer, other = JoseKey.generate("RS256"), JoseKey.generate("RS256")
    token = sign_jwt(credential(), signer)
    assert "does not match" in verify_jwt(decode_jwt(token), resolver_for(other)).reason
    header, payload, signature = token.split(".")
    relabelled = _forge({"alg": "ES256", "typ": "JWT"}, decode_jwt(token).payload)
    assert not verify_jwt(decode_jwt(relabelled), resolver_for(signer)).verified
    assert signature and header and payload


def test_claims_must_agree_with_the_credential() -> None:
    key = JoseKey.generate("ES256")
    decoded = decode_jwt(sign_jwt(credential(), key, embed_jwk=True))
    payload = {**decoded.payload, "sub": "did:example:someone-else"}
    header = decoded.header
    segments = f"{_forge(header, payload)}".rsplit(".", 1)[0]
    token = f"{segments}.{base64url_encode(key.sign(segments.encode()))}"
    result = verify_jwt(decode_jwt(token), DidResolver())
    assert not result.verified and "'sub'" in result.reason


def test_embedded_private_jwk_is_refused() -> None:
    key = JoseKey.generate("ES256")
    token = sign_jwt(credential(), key)
    decoded = decode_jwt(token)
    leaky = decoded.header | {"jwk": key.public_jwk | {"d": "secret"}}
    forged = decode_jwt(_forge(leaky, decoded.payload, decoded.signature))
    assert "private key" in verify_jwt(forged, DidResolver()).reason


def test_clr_validator_jwt_with_embedded_rsa_jwk_verifies() -> None:
    decoded = decode_jwt(load_text("clr2-validator/simple.jwt"))
    result = verify_jwt(decoded, DidResolver())
    assert result.verified, result.reason
    assert public_jwk(result.method.public_key)["kty"] == "RSA"  # type: ignore[union-attr]


TAMPER_KEY = JoseKey.generate("ES256")
TAMPER_TOKEN = sign_jwt(credential(), TAMPER_KEY)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_changing_any_character_of_header_or_payload_fails(data: st.DataObject) -> None:
    header, payload, signature = TAMPER_TOKEN.split(".")
    signed = f"{header}.{payload}"
    position = data.draw(st.integers(0, len(signed) - 1).filter(lambda i: signed[i] != "."))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != signed[position]))
    forged = f"{signed[:position]}{replacement}{signed[position + 1 :]}.{signature}"
    try:
        decoded = decode_jwt(forged)
    except CredentialError:
        return
    assert not verify_jwt(decoded, resolver_for(TAMPER_KEY)).verified
