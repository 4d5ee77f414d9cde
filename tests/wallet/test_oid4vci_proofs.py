"""The OpenID4VCI key proof (Appendix F.1) and the protocol objects, without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credentials.keys import base64url_encode
from microcred.credentials.proofs.jwt import JoseKey
from microcred.settings import Settings
from microcred.wallet.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    OAuthError,
    check_proof_jwt,
    credential_offer,
    issuer_metadata,
    jwk_thumbprint_uri,
    offer_link,
)
from tests.wallet.oid4vci_wallet import PROOF_TYP, Wallet, offer_uri_of, segment

AUDIENCE = "https://issuer.example"
WALLET = Wallet()
NOW = datetime.now(UTC)
"""The clock of every check here, and the issue time of every proof made without one: set once
at import, so a run that starts the tests minutes later (xdist) still checks fresh proofs."""


def _refused(token: object, fragment: str) -> None:
    with pytest.raises(OAuthError) as raised:
        check_proof_jwt(token, audience=AUDIENCE, now=NOW)
    assert raised.value.error == "invalid_proof"
    assert fragment in raised.value.message


def _es256_proof(header: dict[str, object], claims: dict[str, object] | None = None) -> str:
    key = JoseKey(ec.generate_private_key(ec.SECP256R1()), "ES256")
    protected = {"typ": PROOF_TYP, "alg": "ES256", **header}
    if protected.get("jwk") == "own":
        protected["jwk"] = key.public_jwk
    if protected.get("kid") == "own":
        protected["kid"] = "did:jwk:" + base64url_encode(json.dumps(key.public_jwk).encode())
    payload = {"aud": AUDIENCE, "iat": int(NOW.timestamp()), "nonce": "n", **(claims or {})}
    signing_input = f"{segment(protected)}.{segment(payload)}"
    return f"{signing_input}.{base64url_encode(key.sign(signing_input.encode()))}"


def test_a_did_key_proof_names_its_did_and_nonce() -> None:
    checked = check_proof_jwt(
        WALLET.proof(iat=NOW.timestamp(), audience=AUDIENCE, nonce="abc"),
        audience=AUDIENCE,
        now=NOW,
    )
    assert checked.holder == WALLET.did and checked.nonce == "abc"


def test_an_es256_proof_by_jwk_is_recorded_by_its_thumbprint() -> None:
    checked = check_proof_jwt(_es256_proof({"jwk": "own"}), audience=AUDIENCE, now=NOW)
    assert checked.holder.startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-256:")


def test_an_es256_proof_by_did_jwk_is_recorded_by_its_did() -> None:
    checked = check_proof_jwt(_es256_proof({"kid": "own"}), audience=AUDIENCE, now=NOW)
    assert checked.holder.startswith("did:jwk:")


def test_the_rfc_7638_thumbprint_of_its_example_key() -> None:
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "alg": "RS256",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR"
        "0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWh"
        "AI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert jwk_thumbprint_uri(jwk).endswith("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")


@pytest.mark.parametrize(
    ("header", "claims", "fragment"),
    [
        ({"typ": "JWT"}, {}, "typ"),
        ({"alg": "none"}, {}, "'none'"),
        ({"alg": "HS256"}, {}, "'HS256'"),
        ({"alg": "RS256"}, {}, "'RS256'"),
        ({"kid": "https://example.org/key"}, {}, "DID URL"),
        ({"kid": "did:web:example.org#key-1"}, {}, "not supported"),
        ({"kid": "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"}, {}, "did:key"),
        ({"x5c": ["MIIB"]}, {}, "exactly one"),
        (
            {"kid": None, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}},
            {},
            "private",
        ),
        ({"kid": None, "jwk": {"kty": "oct", "k": "AA"}}, {}, "private"),
        ({"kid": None, "jwk": {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}}, {}, "usable"),
        ({"kid": None}, {}, "exactly one"),
        ({}, {"aud": "https://other.example"}, "aud"),
        ({}, {"iat": "yesterday"}, "iat"),
        ({}, {"nonce": 7}, "nonce"),
    ],
)
def test_a_proof_is_refused_naming_what_is_wrong(
    header: dict[str, object], claims: dict[str, object], fragment: str
) -> None:
    _refused(
        WALLET.proof(
            iat=NOW.timestamp(), audience=AUDIENCE, nonce="n", header=header, claims=claims
        ),
        fragment,
    )


def test_a_proof_naming_its_key_twice_is_refused() -> None:
    _refused(_es256_proof({"jwk": "own", "kid": "own"}), "exactly one")


def test_stale_and_future_proofs_are_refused() -> None:
    old = (NOW - timedelta(minutes=6)).timestamp()
    _refused(WALLET.proof(audience=AUDIENCE, nonce="n", iat=old), "stale")
    ahead = (NOW + timedelta(minutes=2)).timestamp()
    _refused(WALLET.proof(audience=AUDIENCE, nonce="n", iat=ahead), "future")


@pytest.mark.parametrize("token", [None, 3, "", "a.b", "e30.e30.", "!!.e30.AA", "e30.W10.AA"])
def test_malformed_proofs_are_refused(token: object) -> None:
    with pytest.raises(OAuthError) as raised:
        check_proof_jwt(token, audience=AUDIENCE, now=NOW)
    assert raised.value.error == "invalid_proof"


PROOF = WALLET.proof(iat=NOW.timestamp(), audience=AUDIENCE, nonce="n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(PROOF) - 1), st.integers(min_value=1, max_value=127))
def test_a_proof_with_any_byte_changed_is_refused(position: int, shift: int) -> None:
    changed = chr((ord(PROOF[position]) + shift) % 128)
    tampered = PROOF[:position] + changed + PROOF[position + 1 :]
    with pytest.raises(OAuthError):
        check_proof_jwt(tampered, audience=AUDIENCE, now=NOW)


def test_the_offer_object_and_its_link() -> None:
    config = Settings(secret_key="k", base_url="https://issuer.example/")
    offer = credential_offer(config, "secret", ["A"], with_tx_code=True)
    assert offer["credential_issuer"] == "https://issuer.example"
    grant = offer["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["tx_code"] == {"input_mode": "numeric", "length": 6,
                                "description": grant["tx_code"]["description"]}  # fmt: skip
    assert grant["pre-authorized_code"] != "secret"
    other = Settings(secret_key="other", base_url="https://issuer.example")
    assert credential_offer(other, "secret", ["A"], with_tx_code=False)["grants"][
        PRE_AUTHORIZED_GRANT]["pre-authorized_code"] != grant["pre-authorized_code"]  # fmt: skip
    link = offer_link(config, "secret")
    assert offer_uri_of(link) == "https://issuer.example/oid4vci/offers/secret"
    assert "/" not in link.removeprefix("openid-credential-offer://?")
    metadata = issuer_metadata(config)
    assert metadata["credential_endpoint"] == "https://issuer.example/oid4vci/credential"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
HEADER_FIELDS = st.sampled_from(["typ", "alg", "kid", "jwk", "x5c", "crv", "kty"])
KEYISH = st.fixed_dictionaries(
    {"kty": st.sampled_from(["OKP", "EC", "RSA", "oct", 1])},
    optional={"crv": st.sampled_from(["Ed25519", "P-256", "P-384", "X25519"]),
              "x": st.text(max_size=50), "y": st.text(max_size=50), "n": st.text(max_size=20),
              "e": st.text(max_size=8)},
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(HEADER_FIELDS, JSON_VALUES | KEYISH, max_size=4),
    st.dictionaries(st.sampled_from(["aud", "iat", "nonce", "iss"]), JSON_VALUES, max_size=3),
)
def test_any_signed_header_and_claims_give_a_named_refusal_or_a_checked_proof(
    header: dict[str, object], claims: dict[str, object]
) -> None:
    """Whatever a wallet puts in the header or the claims, the answer is invalid_proof or a
    proof checked in full, never a server error."""
    token = WALLET.proof(
        iat=NOW.timestamp(), audience=AUDIENCE, nonce="n", header=header, claims=claims
    )
    try:
        checked = check_proof_jwt(token, audience=AUDIENCE, now=NOW)
    except OAuthError as error:
        assert error.error == "invalid_proof" and error.message
    else:
        assert checked.holder == WALLET.did


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_refused_as_a_proof(text: str) -> None:
    with pytest.raises(OAuthError):
        check_proof_jwt(text, audience=AUDIENCE, now=NOW)
